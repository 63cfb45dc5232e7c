import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describeError, OperatorError } from '../errors.js';
import type { TokenRange } from '../ranges/token-ring.js';
import { killPoint } from './kill-point.js';

/** Written into every checkpoint file so that a foreign or corrupt file is refused, never reused. */
const FORMAT = 'zdm-checkpoint';
const FORMAT_VERSION = '1';

/** Suffix of a checkpoint being built; never listed as a checkpoint. */
const CREATING_SUFFIX = '.creating';

/** Removes a half-built checkpoint and its rollback journal. */
function removeCreating(building: string): void {
  for (const file of [building, `${building}-journal`]) rmSync(file, { force: true });
}

export type RunStatus = 'running' | 'interrupted' | 'completed' | 'failed';
export type RangeStatus = 'pending' | 'running' | 'done' | 'failed';

/** Per-range counters; each job names its own (rowsRead, rowsWritten, missing, ...). */
export type Counts = Readonly<Record<string, number>>;

export interface RunRecord {
  readonly job: string;
  readonly originTable: string;
  readonly targetTable: string;
  /** The options that decide what the run copies or compares (not speed settings), as JSON. */
  readonly options: string;
  readonly status: RunStatus;
  readonly startedAt: number;
  readonly endedAt: number | undefined;
  /** Times the job was started on this run (1 + resumes). */
  readonly sessions: number;
  /** Microsecond timestamp fixed at the run's creation, for writes that have no writetime of their own. */
  readonly runTimestamp: bigint;
}

export interface RangeRecord {
  readonly id: number;
  readonly start: bigint;
  readonly end: bigint;
  readonly status: RangeStatus;
  readonly attempts: number;
  readonly counts: Counts;
  /** Opaque resume position saved after the last fully processed page. */
  readonly resumeState: string | undefined;
  readonly lastError: string | undefined;
  readonly completedAt: number | undefined;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS run (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  job TEXT NOT NULL, origin_table TEXT NOT NULL, target_table TEXT NOT NULL, options TEXT NOT NULL,
  status TEXT NOT NULL, started_at INTEGER NOT NULL, ended_at INTEGER, sessions INTEGER NOT NULL,
  run_timestamp TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ranges (
  id INTEGER PRIMARY KEY, start TEXT NOT NULL, "end" TEXT NOT NULL, status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0, counts TEXT NOT NULL DEFAULT '{}', resume_state TEXT,
  last_error TEXT, completed_at INTEGER, updated_at INTEGER
);
CREATE INDEX IF NOT EXISTS ranges_status ON ranges (status);
`;

function corrupt(path: string, why: string, cause?: unknown): OperatorError {
  return new OperatorError(
    'CHECKPOINT_INVALID',
    `Checkpoint ${path} cannot be used: ${why}.`,
    'Move the file away to start over (or pass --fresh); it is left untouched.',
    cause === undefined ? undefined : { cause },
  );
}

function addCounts(a: Counts, b: Counts): Counts {
  const out: Record<string, number> = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
  return out;
}

function rangeRecord(row: Record<string, unknown>): RangeRecord {
  return {
    id: Number(row.id),
    start: BigInt(String(row.start)),
    end: BigInt(String(row.end)),
    status: row.status as RangeStatus,
    attempts: Number(row.attempts),
    counts: JSON.parse(String(row.counts)) as Counts,
    resumeState: row.resume_state === null ? undefined : String(row.resume_state),
    lastError: row.last_error === null ? undefined : String(row.last_error),
    completedAt: row.completed_at === null ? undefined : Number(row.completed_at),
  };
}

/**
 * One run's state in one SQLite file: the run and every token range with its status, counters and
 * resume position. WAL mode: a commit survives kill -9 of the process.
 */
export class CheckpointStore {
  /** Released when the store closes (the run's lock). */
  private readonly held: (() => void)[] = [];

  private constructor(
    readonly path: string,
    private readonly db: Database.Database,
  ) {}

  /** Keeps `release` (the run's lock) until the store is closed. */
  holdUntilClose(release: () => void): void {
    this.held.push(release);
  }

  /**
   * Creates a new checkpoint file for a run with the given ranges. The file is built under a
   * temporary name and renamed into place once complete, so a kill at any moment leaves either no
   * checkpoint or a whole one (the temporary file is not a checkpoint name and is removed later).
   */
  static create(
    path: string,
    run: Omit<RunRecord, 'status' | 'endedAt' | 'sessions'>,
    ranges: readonly TokenRange[],
  ): CheckpointStore {
    if (path === IN_MEMORY) {
      // A run that keeps no state across processes (guardrail): nothing to make atomic.
      const db = new Database(IN_MEMORY);
      populate(db, run, ranges);
      return new CheckpointStore(path, db);
    }
    if (existsSync(path)) throw corrupt(path, 'a file of that name already exists');
    const building = `${path}${CREATING_SUFFIX}`;
    removeCreating(building);
    const db = new Database(building);
    try {
      killPoint('create-open');
      // A rollback journal while building: everything lives in the one file that is renamed.
      db.pragma('journal_mode = DELETE');
      populate(db, run, ranges);
      db.close();
    } catch (error) {
      if (db.open) db.close();
      removeCreating(building);
      throw error;
    }
    killPoint('create-written');
    renameSync(building, path);
    killPoint('create-renamed');
    return CheckpointStore.open(path);
  }

  /** Opens an existing checkpoint, refusing anything that is not a zdm checkpoint of this format. */
  static open(path: string): CheckpointStore {
    let db: Database.Database;
    try {
      db = new Database(path, { fileMustExist: true });
    } catch (error) {
      throw corrupt(path, describeError(error), error);
    }
    try {
      const format = db.prepare(`SELECT value FROM meta WHERE key = 'format'`).pluck().get();
      const version = db.prepare(`SELECT value FROM meta WHERE key = 'format_version'`).pluck().get();
      if (format !== FORMAT) throw corrupt(path, 'it is not a zdm checkpoint');
      if (version !== FORMAT_VERSION)
        throw corrupt(path, `its format version ${String(version)} is not ${FORMAT_VERSION}`);
      const check = db.prepare('PRAGMA quick_check').pluck().get();
      if (check !== 'ok') throw corrupt(path, `SQLite reports damage (${String(check)})`);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
    } catch (error) {
      db.close();
      if (error instanceof OperatorError) throw error;
      throw corrupt(path, describeError(error), error);
    }
    return new CheckpointStore(path, db);
  }

  run(): RunRecord {
    const row = this.db.prepare('SELECT * FROM run WHERE id = 1').get() as
      | Record<string, unknown>
      | undefined;
    if (row === undefined) throw corrupt(this.path, 'it has no run record');
    return {
      job: String(row.job),
      originTable: String(row.origin_table),
      targetTable: String(row.target_table),
      options: String(row.options),
      status: row.status as RunStatus,
      startedAt: Number(row.started_at),
      endedAt: row.ended_at === null ? undefined : Number(row.ended_at),
      sessions: Number(row.sessions),
      runTimestamp: BigInt(String(row.run_timestamp)),
    };
  }

  /** Marks the start of a session: ranges left `running` by a killed process become pending again. */
  beginSession(): void {
    this.db.transaction(() => {
      this.db.prepare(`UPDATE ranges SET status = 'pending' WHERE status = 'running'`).run();
      this.db
        .prepare(`UPDATE run SET status = 'running', ended_at = NULL, sessions = sessions + 1 WHERE id = 1`)
        .run();
    })();
  }

  /** Failed ranges of an earlier session get a fresh set of attempts. */
  resetFailed(): number {
    return this.db.prepare(`UPDATE ranges SET status = 'pending', attempts = 0 WHERE status = 'failed'`).run()
      .changes;
  }

  ranges(status?: RangeStatus): RangeRecord[] {
    const rows = (
      status === undefined
        ? this.db.prepare('SELECT * FROM ranges ORDER BY id').all()
        : this.db.prepare('SELECT * FROM ranges WHERE status = ? ORDER BY id').all(status)
    ) as Record<string, unknown>[];
    return rows.map(rangeRecord);
  }

  range(id: number): RangeRecord {
    const row = this.db.prepare('SELECT * FROM ranges WHERE id = ?').get(id) as
      | Record<string, unknown>
      | undefined;
    if (row === undefined) throw corrupt(this.path, `range ${id} is missing`);
    return rangeRecord(row);
  }

  startAttempt(id: number): void {
    this.db
      .prepare(`UPDATE ranges SET status = 'running', attempts = attempts + 1, updated_at = ? WHERE id = ?`)
      .run(Date.now(), id);
  }

  /** Records a processed page: its counters and where to resume, in one transaction. */
  savePage(id: number, resumeState: string | undefined, delta: Counts): void {
    killPoint('page-begin');
    this.db.transaction(() => {
      const current = this.db.prepare('SELECT counts FROM ranges WHERE id = ?').pluck().get(id) as string;
      const counts = addCounts(JSON.parse(current) as Counts, delta);
      this.db
        .prepare('UPDATE ranges SET counts = ?, resume_state = ?, updated_at = ? WHERE id = ?')
        .run(JSON.stringify(counts), resumeState ?? null, Date.now(), id);
      killPoint('page-uncommitted');
    })();
    killPoint('page-committed');
  }

  finishRange(id: number, status: 'done' | 'failed' | 'pending', error?: string): void {
    this.db
      .prepare(
        `UPDATE ranges SET status = ?, last_error = ?, completed_at = ?, updated_at = ?,
         resume_state = CASE WHEN ? = 'done' THEN NULL ELSE resume_state END WHERE id = ?`,
      )
      .run(status, error ?? null, status === 'done' ? Date.now() : null, Date.now(), status, id);
    if (status === 'done') killPoint('range-done');
  }

  finishRun(status: RunStatus): void {
    this.db.prepare('UPDATE run SET status = ?, ended_at = ? WHERE id = 1').run(status, Date.now());
  }

  totals(): { counts: Counts; byStatus: Readonly<Record<RangeStatus, number>> } {
    let counts: Counts = {};
    const byStatus: Record<RangeStatus, number> = { pending: 0, running: 0, done: 0, failed: 0 };
    for (const r of this.ranges()) {
      counts = addCounts(counts, r.counts);
      byStatus[r.status]++;
    }
    return { counts, byStatus };
  }

  close(): void {
    this.db.close();
    for (const release of this.held.splice(0)) release();
  }
}

/** Checkpoint file names: `<job>-<origin table>-<YYYYMMDD-HHMMSS>.sqlite`, sortable by time. */
export function checkpointFileName(job: string, originTable: string, at: Date): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const safe = originTable.replace(/[^A-Za-z0-9_.-]/g, '_');
  return `${job}-${safe}-${stamp}.sqlite`;
}

/** Every checkpoint file in `dir`, oldest first. */
export function listCheckpointFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sqlite'))
    .sort()
    .map((f) => join(dir, f));
}

/** The path of a run whose state lives only as long as its process (guardrail's scan). */
export const IN_MEMORY = ':memory:';

/** Writes a new run's schema, run row and pending ranges into an empty database, in one transaction. */
function populate(
  db: Database.Database,
  run: Omit<RunRecord, 'status' | 'endedAt' | 'sessions'>,
  ranges: readonly TokenRange[],
): void {
  db.exec(SCHEMA);
  db.transaction(() => {
    const meta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
    meta.run('format', FORMAT);
    meta.run('format_version', FORMAT_VERSION);
    db.prepare(
      `INSERT INTO run (id, job, origin_table, target_table, options, status, started_at, sessions, run_timestamp)
       VALUES (1, ?, ?, ?, ?, 'running', ?, 0, ?)`,
    ).run(run.job, run.originTable, run.targetTable, run.options, run.startedAt, run.runTimestamp.toString());
    const insert = db.prepare(`INSERT INTO ranges (id, start, "end", status) VALUES (?, ?, ?, 'pending')`);
    for (const [i, r] of ranges.entries()) {
      insert.run(i + 1, r.start.toString(), r.end.toString());
      killPoint('create-range');
    }
  })();
}

/** Removes checkpoints a killed process left half-built (`<name>.sqlite.creating`) among `names`' files. */
export function removeUnfinishedCreations(dir: string, namePrefix: string): string[] {
  if (!existsSync(dir)) return [];
  const removed = readdirSync(dir).filter((f) => f.startsWith(namePrefix) && f.endsWith(CREATING_SUFFIX));
  for (const f of removed) removeCreating(join(dir, f));
  return removed;
}

export function ensureCheckpointDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new OperatorError(
      'CHECKPOINT_DIR',
      `Cannot create checkpoint directory ${dir}: ${describeError(error)}`,
    );
  }
}
