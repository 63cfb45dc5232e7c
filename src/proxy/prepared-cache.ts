import type { PreparedKey } from './partition-key-of.js';
import type { NowMarker } from './prepared-now.js';
import { type ResultMetadataIds, withNewResultMetadataId } from './result-metadata.js';
import type { ClusterName } from './route-request.js';
import type { Statement } from './statement.js';

/** What the proxy remembers of one statement prepared on both clusters. */
export interface PreparedEntry {
  /**
   * The id Target gave the statement; EXECUTE and BATCH children sent to Target carry it. Null for
   * a read prepared while Target was away: it runs on Origin, and anything needing Target re-prepares.
   */
  readonly targetId: Buffer | null;
  /** How the statement routes and whether it gets a default timestamp. */
  readonly statement: Statement;
  /** The proxy's bind markers in place of `now()` calls (ZDM_REPLACE_CQL_FUNCTIONS); absent: none. */
  readonly nowMarkers?: readonly NowMarker[];
  /** For the divergence journal: the statement's partition key markers (null: none known)... */
  readonly key?: PreparedKey | null;
  /** ...and its text, for a journal line without a key. */
  readonly text?: string;
  /** v5: the result metadata id each cluster gave (result-metadata.ts); absent before v5. */
  readonly resultMetadataIds?: ResultMetadataIds;
}

/**
 * Prepared statements by Origin id (the id every client sees), least recently used dropped beyond
 * `capacity`. A dropped entry is harmless: the next EXECUTE gets UNPREPARED and the driver prepares
 * again. Shared by all client sessions, since ids depend only on the statement and keyspace.
 */
export class PreparedCache {
  readonly #entries = new Map<string, PreparedEntry>();
  #misses = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`bad prepared cache size ${capacity}`);
  }

  get size(): number {
    return this.#entries.size;
  }

  get misses(): number {
    return this.#misses;
  }

  get(originId: Buffer): PreparedEntry | undefined {
    const key = originId.toString('hex');
    const entry = this.#entries.get(key);
    if (entry === undefined) {
      this.#misses++;
      return undefined;
    }
    // Map keeps insertion order: re-inserting marks the entry most recently used.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry;
  }

  /**
   * A cluster's new result metadata id for a statement (it answered Metadata_changed), without
   * touching the entry's place in the eviction order; nothing when the entry is gone.
   */
  learnResultMetadataId(originId: Buffer, cluster: ClusterName, id: Buffer): void {
    const key = originId.toString('hex');
    const entry = this.#entries.get(key);
    if (entry?.resultMetadataIds === undefined) return;
    const ids = withNewResultMetadataId(entry.resultMetadataIds, cluster, Buffer.from(id));
    if (ids !== entry.resultMetadataIds) this.#entries.set(key, { ...entry, resultMetadataIds: ids });
  }

  set(originId: Buffer, entry: PreparedEntry): void {
    const key = originId.toString('hex');
    this.#entries.delete(key);
    this.#entries.set(key, {
      ...entry,
      targetId: entry.targetId === null ? null : Buffer.from(entry.targetId),
      statement: entry.statement,
      ...(entry.nowMarkers === undefined ? {} : { nowMarkers: entry.nowMarkers }),
    });
    while (this.#entries.size > this.capacity) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }
}
