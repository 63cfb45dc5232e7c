import type { LimitFunction } from 'p-limit';
import type { Counts, RangeRecord } from '../checkpoint/checkpoint-store.js';
import type { CqlClient } from '../connect/cluster-client.js';
import { readPages } from '../ranges/page-reader.js';
import type { RangeWorker } from '../ranges/range-runner.js';
import type { RateLimiter } from '../ranges/rate-limiter.js';
import { quoteIdent } from '../schema/identifier.js';
import type { ColumnSchema, TableSchema } from '../schema/table-schema.js';
import { carriesWriteTime, ttlAlias, valueColumns, writeTimeAlias } from '../schema/table-schema.js';
import { valueKey } from '../schema/value-key.js';
import {
  type CellInput,
  type PlannedWrite,
  type PlanOptions,
  planRowWrites,
  planStaticWrites,
} from './cell-plan.js';
import { type Statement, type WriteTarget, writeStatement } from './write-statement.js';

/** Origin's pages of one range, from where the checkpoint says to resume. */
export function readOriginPages(setup: CopySetup, range: RangeRecord) {
  return readPages({
    client: setup.origin,
    query: setup.readQuery,
    range,
    fetchSize: setup.fetchSize,
    consistency: setup.readConsistency,
    resumeState: range.resumeState,
    limiter: setup.readLimiter,
  });
}

export interface CopySetup {
  readonly origin: CqlClient;
  readonly target: CqlClient;
  readonly originSchema: TableSchema;
  /** Origin columns that are copied (skipped ones left out), with their Target names. */
  readonly copied: readonly { readonly column: ColumnSchema; readonly targetName: string }[];
  readonly readQuery: string;
  readonly writeTarget: WriteTarget;
  readonly fetchSize: number;
  readonly readConsistency: number;
  readonly writeConsistency: number;
  readonly readLimiter: RateLimiter;
  readonly writeLimiter: RateLimiter;
  /** Shared by all ranges: bounds the writes in flight to Target. */
  readonly writeSlots: LimitFunction;
  readonly plan: PlanOptions;
}

/** Batches stay per partition (never a multi-partition batch) and below these sizes. */
const MAX_BATCH_STATEMENTS = 64;
const MAX_BATCH_BYTES = 512 * 1024;
/**
 * Small neighbouring partitions (same token range, so mostly the same replicas) share one unlogged
 * batch: one request instead of several, which is what makes small rows fast. Kept under Cassandra's
 * default warning thresholds for such batches (5 KiB, 10 partitions), so nothing is logged there.
 */
const MULTI_PARTITION_MAX_BYTES = 4 * 1024;
const MULTI_PARTITION_MAX_PARTITIONS = 8;

function approximateBytes(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'string') return value.length;
  if (Buffer.isBuffer(value)) return value.length;
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + approximateBytes(v), 0);
  if (value instanceof Map)
    return [...value].reduce((n, [k, v]) => n + approximateBytes(k) + approximateBytes(v), 0);
  if (value instanceof Set) return [...value].reduce((n: number, v) => n + approximateBytes(v), 0);
  return 16;
}

/** One planned row, or a partition's static writes. */
interface RowItem {
  readonly writes: readonly PlannedWrite[];
  readonly keyValues: readonly unknown[];
  /** Rows this item counts for the Target rate limit (0 for a partition's static writes). */
  readonly rows: number;
}
/** A page in write order: row items, and marks where a new partition starts. */
type PageItem = 'partition' | RowItem;

/**
 * List elements are keyed by time UUIDs the server makes at write time, so writing a list that
 * Target already holds appends a second copy (its tombstone is one microsecond older than the
 * elements already there). Before writing non-frozen lists, this reads Target's lists for the page's
 * rows and drops list assignments whose value Target already has: reruns, retries and rows the
 * proxy already dual-wrote stay exact.
 */
class ListGuard {
  private constructor(
    private readonly setup: CopySetup,
    private readonly lists: ReadonlySet<string>,
    private readonly query: string,
  ) {}

  static for(setup: CopySetup): ListGuard | undefined {
    const lists = setup.copied.filter(
      (c) => c.column.kind === 'regular' && c.column.type.kind === 'list' && !c.column.type.frozen,
    );
    if (lists.length === 0) return undefined;
    const { writeTarget: t } = setup;
    const where = [...t.partitionKey, ...t.clustering].map((k) => `${quoteIdent(k)} = ?`).join(' AND ');
    const columns = lists.map((c) => quoteIdent(c.targetName)).join(', ');
    return new ListGuard(
      setup,
      new Set(lists.map((c) => c.targetName)),
      `SELECT ${columns} FROM ${t.tableCql} WHERE ${where}`,
    );
  }

  async dropUnchangedLists(items: PageItem[]): Promise<void> {
    const checks = items.map(async (item, index) => {
      if (item === 'partition' || item.rows === 0) return;
      const hasList = item.writes.some((w) =>
        w.assignments.some((a) => a.op === 'set' && this.lists.has(a.column)),
      );
      if (!hasList) return;
      const existing = await this.setup.writeSlots(() =>
        this.setup.target.execute(this.query, [...item.keyValues], {
          prepare: true,
          consistency: this.setup.writeConsistency,
        }),
      );
      const row = existing.first() as unknown as Record<string, unknown> | null;
      if (row === null) return;
      const writes = item.writes
        .map((w) => ({
          ...w,
          assignments: w.assignments.filter(
            (a) =>
              !(a.op === 'set' && this.lists.has(a.column) && valueKey(row[a.column]) === valueKey(a.value)),
          ),
        }))
        .filter((w) => w.kind === 'insert' || w.assignments.length > 0);
      items[index] = { ...item, writes };
    });
    await Promise.all(checks);
  }
}

interface PageCounts {
  rowsRead: number;
  rowsWritten: number;
  rowsSkipped: number;
  cellsSkipped: number;
  partitions: number;
}

/**
 * Copies the rows of one page to Target: plans each row's writes, gathers a partition's statements
 * into unlogged single-partition batches, and sends them through the shared write slots. Resolves
 * when every write of the page is acknowledged; rejects with the first failure.
 */
class PageWriter {
  private readonly pending: Promise<unknown>[] = [];
  private batch: RowItem[] = [];
  private batchBytes = 0;
  private batchRows = 0;
  private batchPartitions = 0;

  /** `readAt`: when the page was asked for, i.e. when its remaining TTLs were true. */
  constructor(
    private readonly setup: CopySetup,
    private readonly readAt: number,
  ) {}

  add(item: RowItem): void {
    this.batch.push(item);
    for (const w of item.writes) for (const a of w.assignments) this.batchBytes += approximateBytes(a.value);
    this.batchRows += item.rows;
    if (this.batch.length >= MAX_BATCH_STATEMENTS || this.batchBytes >= MAX_BATCH_BYTES) this.flush();
  }

  /** A new partition starts: keep filling the batch while it is small, else send it. */
  newPartition(): void {
    if (this.batch.length === 0) return;
    this.batchPartitions++;
    if (
      this.batchPartitions >= MULTI_PARTITION_MAX_PARTITIONS ||
      this.batchBytes >= MULTI_PARTITION_MAX_BYTES
    ) {
      this.flush();
    }
  }

  /** Sends what the batch holds. */
  flush(): void {
    if (this.batch.length === 0) return;
    const items = this.batch;
    const rows = this.batchRows;
    this.batch = [];
    this.batchBytes = 0;
    this.batchRows = 0;
    this.batchPartitions = 0;
    const { target, writeConsistency, writeLimiter, writeTarget } = this.setup;
    this.pending.push(
      this.setup.writeSlots(async () => {
        await writeLimiter.acquire(rows);
        // A TTL read N seconds ago has N seconds less to live now; without this, Target's cells would
        // outlive Origin's by however long the write waited (rate limits, a busy cluster). Rounded up:
        // the write also waits in Target's queues, which only ever makes its cells live longer.
        const age = Math.ceil((Date.now() - this.readAt) / 1000);
        const statements = items.flatMap((item) =>
          item.writes.map((w) =>
            writeStatement(
              writeTarget,
              w.ttl > 0 && age > 0 ? { ...w, ttl: Math.max(1, w.ttl - age) } : w,
              item.keyValues,
            ),
          ),
        );
        if (statements.length === 1) {
          const [only] = statements as [Statement];
          return target.execute(only.query, only.params, { prepare: true, consistency: writeConsistency });
        }
        return target.batch(statements, { prepare: true, logged: false, consistency: writeConsistency });
      }),
    );
  }

  async done(): Promise<void> {
    this.flush();
    const results = await Promise.allSettled(this.pending);
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure !== undefined) throw failure.reason;
  }
}

/** The migrate worker for tables without counters. */
export function copyRangeWorker(setup: CopySetup): RangeWorker {
  const schema = setup.originSchema;
  const values = valueColumns(schema);
  const aliasIndex = new Map(values.map((c, i) => [c.name, i]));
  const copiedStatics = setup.copied.filter((c) => c.column.kind === 'static');
  const copiedRegulars = setup.copied.filter((c) => c.column.kind === 'regular');
  const hasClustering = schema.clustering.length > 0;
  const keyColumns = [...schema.partitionKey, ...schema.clustering];

  const cellsOf = (row: Record<string, unknown>, columns: typeof setup.copied): CellInput[] =>
    columns.map(({ column, targetName }) => {
      const i = aliasIndex.get(column.name)!;
      const meta = carriesWriteTime(column);
      return {
        column,
        targetName,
        value: row[column.name],
        writetime: meta ? row[writeTimeAlias(i)] : null,
        ttl: meta ? row[ttlAlias(i)] : null,
      };
    });

  const listGuard = ListGuard.for(setup);

  return async ({ range, stop, commit }) => {
    let lastPartition: string | undefined;
    for await (const page of readOriginPages(setup, range)) {
      const counts: PageCounts = {
        rowsRead: 0,
        rowsWritten: 0,
        rowsSkipped: 0,
        cellsSkipped: 0,
        partitions: 0,
      };
      // Plan the whole page first (in order, with partition boundaries), then write it.
      const items: PageItem[] = [];
      for (const driverRow of page.rows) {
        const row = driverRow as unknown as Record<string, unknown>;
        counts.rowsRead++;
        const keyValues = keyColumns.map((c) => row[c.name]);
        // Without clustering columns every row is a partition of its own: no key to compare.
        const partition = hasClustering
          ? schema.partitionKey.map((c) => valueKey(row[c.name])).join('|')
          : undefined;
        if (partition === undefined || partition !== lastPartition) {
          items.push('partition');
          lastPartition = partition;
          counts.partitions++;
          if (copiedStatics.length > 0) {
            const statics = planStaticWrites(cellsOf(row, copiedStatics), setup.plan);
            counts.cellsSkipped += statics.skippedCells;
            items.push({ writes: statics.writes, keyValues, rows: 0 });
          }
        }
        // A partition with static cells and no rows comes back as one row with null clustering values.
        if (
          hasClustering &&
          schema.clustering.every((c) => row[c.name] === null || row[c.name] === undefined)
        )
          continue;
        const plan = planRowWrites(cellsOf(row, copiedRegulars), setup.plan);
        counts.cellsSkipped += plan.skippedCells;
        if (plan.writes.length === 0) {
          counts.rowsSkipped++;
          continue;
        }
        counts.rowsWritten++;
        items.push({ writes: plan.writes, keyValues, rows: 1 });
      }
      if (listGuard !== undefined) await listGuard.dropUnchangedLists(items);
      const writer = new PageWriter(setup, page.requestedAt);
      for (const item of items) {
        if (item === 'partition') writer.newPartition();
        else writer.add(item);
      }
      await writer.done();
      commit(page.nextState, counts as unknown as Counts);
      if (page.nextState !== undefined && stop.aborted) return 'stopped';
    }
    return 'done';
  };
}
