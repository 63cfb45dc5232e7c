import {
  closeSync,
  existsSync,
  fdatasyncSync,
  fstatSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { OperatorError } from '../errors.js';
import type { Logger } from '../log/logger.js';

/**
 * The divergence journal: one JSON line per write that succeeded on one cluster and failed on the
 * other, so `zdm diff --from-journal` can validate and repair exactly those partitions.
 *
 * Crash safety: each line is written with one write(2) on a file opened O_APPEND, so a proxy that
 * dies (crash, kill -9) loses nothing already written: the line is in the kernel's page cache. A
 * torn last line (power loss mid-write) is skipped by the reader with a warning. Lines are flushed
 * to disk (fdatasync) at most every `syncIntervalMs` and on close, not per line: during a cluster
 * outage every write diverges, and one disk flush per write would stall the proxy's event loop; an
 * operating-system crash loses at most that interval, which the operator covers with a full diff.
 *
 * Bounded: when a line would take the file past `maxBytes`, the file is rotated (`PATH` → `PATH.1`
 * → ... → `PATH.<files-1>`, the oldest dropped, with a warning saying a full diff is then needed).
 */

/** One journal line. */
export interface DivergenceEntry {
  /** ISO-8601 time the proxy combined the two answers. */
  readonly time: string;
  /** `keyspace.table`; null when the statement named no table the proxy could read. */
  readonly table: string | null;
  /** The cluster where the write failed (it succeeded on the other). */
  readonly failed: 'origin' | 'target';
  readonly error: string;
  /** The request it came from (a BATCH gives one line per child). */
  readonly request: 'QUERY' | 'EXECUTE' | 'BATCH';
  /** Partition key values bound by the client: column → hex of the serialized value. */
  readonly key?: Readonly<Record<string, string>>;
  /** Literal column values read from the statement text (CQL as written); the key columns among them. */
  readonly literals?: Readonly<Record<string, string>>;
  /** The statement, when no key could be read: the operator needs a full diff of the table. */
  readonly statement?: string;
}

/** Where journal lines go; the proxy's hook depends on this, tests may collect lines in memory. */
export interface DivergenceRecorder {
  record(entries: readonly DivergenceEntry[]): void;
}

export interface JournalOptions {
  readonly path: string;
  readonly maxBytes: number;
  /** Files kept, the live one included. */
  readonly files: number;
  readonly syncIntervalMs: number;
}

/**
 * The journal of one worker process of a pool: its own file (`divergence-journal.jsonl` becomes
 * `divergence-journal.worker2.jsonl`), since appends and rotations of several processes to one file
 * would interleave and race. A single process (no worker number) keeps the configured path.
 */
export function journalOfWorker(options: JournalOptions, worker: number | undefined): JournalOptions {
  if (worker === undefined) return options;
  return { ...options, path: workerJournalPath(options.path, worker) };
}

/** The file of worker `worker` for a configured journal path. */
export function workerJournalPath(path: string, worker: number): string {
  const dot = path.lastIndexOf('.');
  const slash = path.lastIndexOf('/');
  return dot > slash + 1
    ? `${path.slice(0, dot)}.worker${worker}${path.slice(dot)}`
    : `${path}.worker${worker}`;
}

/** Statement text kept in a line: enough to recognise it, bounded so one line stays small. */
export const MAX_STATEMENT_CHARS = 2000;

/** One entry as its JSON line (newline included), the statement cut to MAX_STATEMENT_CHARS. */
export function journalLine(entry: DivergenceEntry): string {
  const statement =
    entry.statement !== undefined && entry.statement.length > MAX_STATEMENT_CHARS
      ? `${entry.statement.slice(0, MAX_STATEMENT_CHARS)}…`
      : entry.statement;
  return `${JSON.stringify(statement === undefined ? entry : { ...entry, statement })}\n`;
}

/** True when writing `lineBytes` more would take a non-empty file of `size` bytes past `maxBytes`. */
export function needsRotation(size: number, lineBytes: number, maxBytes: number): boolean {
  return size > 0 && size + lineBytes > maxBytes;
}

/** The renames of a rotation, oldest first (`PATH.2` → `PATH.3` before `PATH.1` → `PATH.2`), and the file dropped. */
export function rotationSteps(
  path: string,
  files: number,
): { drop: string | null; renames: [string, string][] } {
  if (files <= 1) return { drop: path, renames: [] };
  const name = (i: number) => (i === 0 ? path : `${path}.${i}`);
  const renames: [string, string][] = [];
  for (let i = files - 2; i >= 0; i--) renames.push([name(i), name(i + 1)]);
  return { drop: name(files - 1), renames };
}

/** The journal file, appended to by every session of the proxy. */
export class DivergenceJournal implements DivergenceRecorder {
  #fd: number;
  #size: number;
  #dirty = false;
  readonly #timer: NodeJS.Timeout;

  constructor(
    private readonly options: JournalOptions,
    private readonly logger: Logger,
  ) {
    try {
      mkdirSync(dirname(options.path), { recursive: true });
      this.#fd = openSync(options.path, 'a');
    } catch (error) {
      throw new OperatorError(
        'JOURNAL_UNWRITABLE',
        `Cannot open the divergence journal ${options.path}: ${(error as Error).message}.`,
        'Set proxy_state_dir (ZDM_PROXY_STATE_DIR) or divergence_journal_path to a writable place, or divergence_journal_enabled=false.',
      );
    }
    this.#size = fstatSync(this.#fd).size;
    this.#timer = setInterval(() => this.#sync(), options.syncIntervalMs);
    this.#timer.unref();
  }

  record(entries: readonly DivergenceEntry[]): void {
    for (const entry of entries) {
      const line = Buffer.from(journalLine(entry));
      if (needsRotation(this.#size, line.length, this.options.maxBytes)) this.#rotate();
      writeSync(this.#fd, line);
      this.#size += line.length;
      this.#dirty = true;
    }
  }

  close(): void {
    clearInterval(this.#timer);
    this.#sync();
    closeSync(this.#fd);
  }

  #sync(): void {
    if (!this.#dirty) return;
    this.#dirty = false;
    try {
      fdatasyncSync(this.#fd);
    } catch (error) {
      this.logger.warn(
        { err: error, path: this.options.path },
        'could not flush the divergence journal to disk',
      );
    }
  }

  #rotate(): void {
    this.#sync();
    closeSync(this.#fd);
    const { drop, renames } = rotationSteps(this.options.path, this.options.files);
    if (drop !== null && existsSync(drop)) {
      this.logger.warn(
        { path: drop },
        'divergence journal full: its oldest file is dropped; run a full zdm diff of the tables it listed, or raise divergence_journal_max_bytes / divergence_journal_files',
      );
      rmSync(drop, { force: true });
    }
    for (const [from, to] of renames) if (existsSync(from)) renameSync(from, to);
    this.#fd = openSync(this.options.path, 'a');
    this.#size = 0;
  }
}
