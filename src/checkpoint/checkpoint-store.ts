import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describeError, OperatorError } from '../errors.js';
import type { TokenRange } from '../ranges/token-ring.js';
import { claimOrder } from './claim-order.js';
import { killPoint } from './kill-point.js';
import {
  addCounts,
  type ClaimedRange,
  type Counts,
  LeaseLost,
  type NewRun,
  type RangeLease,
  type RangeRecord,
  type RangeStatus,
  type RunRecord,
  type RunStatus,
  type RunTotals,
  totalsOf,
  type WorkerIdentity,
  type WorkerRecord,
} from './run-state.js';

/** Written into every checkpoint file so that a foreign or corrupt file is refused, never reused. */
const FORMAT = 'zdm-checkpoint';
const FORMAT_VERSION = '2';
/** Version 1 (before leases) is upgraded in place when opened: columns added, nothing lost. */
const UPGRADABLE_VERSION = '1';

/** Suffix of a checkpoint being built; never listed as a checkpoint. */
const CREATING_SUFFIX = '.creating';

/** Removes a half-built checkpoint and its rollback journal. */
function removeCreating(building: string): void {
  for (const file of [building, `${building}-journal`]) rmSync(file, { force: true });
}

export type { Counts, RangeRecord, RangeStatus, RunRecord, RunStatus } from './run-state.js';

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

/** What version 2 adds: leases on ranges, the order in which they are claimed, and the run's workers. */
const LEASES = `
ALTER TABLE ranges ADD COLUMN owner TEXT;
ALTER TABLE ranges ADD COLUMN lease_until INTEGER;
ALTER TABLE ranges ADD COLUMN fence INTEGER NOT NULL DEFAULT 0;
ALTER TABLE ranges ADD COLUMN claim_order INTEGER;
CREATE INDEX ranges_claim ON ranges (status, claim_order);
CREATE TABLE workers (
  id TEXT PRIMARY KEY, host TEXT NOT NULL, pid INTEGER NOT NULL, started_at INTEGER NOT NULL,
  heartbeat INTEGER NOT NULL, ranges TEXT NOT NULL DEFAULT '[]'
);
`;

/** Adds version 2's columns and tables to a version 1 checkpoint, in one transaction. */
function upgradeToLeases(db: Database.Database): void {
  db.transaction(() => {
    db.exec(LEASES);
    const startedAt = Number(db.prepare('SELECT started_at FROM run WHERE id = 1').pluck().get());
    const count = Number(db.prepare('SELECT MAX(id) FROM ranges').pluck().get() ?? 0);
    const setOrder = db.prepare('UPDATE ranges SET claim_order = ? WHERE id = ?');
    for (const [id, position] of claimOrder(count, startedAt)) setOrder.run(position, id);
    db.prepare(`UPDATE meta SET value = ? WHERE key = 'format_version'`).run(FORMAT_VERSION);
  })();
}

function corrupt(path: string, why: string, cause?: unknown): OperatorError {
  return new OperatorError(
    'CHECKPOINT_INVALID',
    `Checkpoint ${path} cannot be used: ${why}.`,
    'Move the file away to start over (or pass --fresh); it is left untouched.',
    cause === undefined ? undefined : { cause },
  );
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
    owner: row.owner === null || row.owner === undefined ? undefined : String(row.owner),
    leaseUntil:
      row.lease_until === null || row.lease_until === undefined ? undefined : Number(row.lease_until),
    fence: Number(row.fence ?? 0),
  };
}

function workerRecord(row: Record<string, unknown>): WorkerRecord {
  return {
    id: String(row.id),
    host: String(row.host),
    pid: Number(row.pid),
    startedAt: Number(row.started_at),
    heartbeat: Number(row.heartbeat),
    ranges: JSON.parse(String(row.ranges)) as number[],
  };
}

const lost = (id: number): LeaseLost => new LeaseLost(id, 'another worker owns it now');

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
  static create(path: string, run: NewRun, ranges: readonly TokenRange[]): CheckpointStore {
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
      if (version !== FORMAT_VERSION && version !== UPGRADABLE_VERSION)
        throw corrupt(path, `its format version ${String(version)} is not ${FORMAT_VERSION}`);
      const check = db.prepare('PRAGMA quick_check').pluck().get();
      if (check !== 'ok') throw corrupt(path, `SQLite reports damage (${String(check)})`);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      if (version === UPGRADABLE_VERSION) upgradeToLeases(db);
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

  /**
   * Marks the start of a session: ranges left `running` by a worker known dead (see `ownerDead`) are
   * pending again; those of workers that may be alive keep their lease until it expires.
   */
  beginSession(
    isDead: (owner: string | undefined, workers: ReadonlyMap<string, WorkerRecord>) => boolean,
  ): void {
    this.db.transaction(() => {
      const workers = new Map(this.workers().map((w) => [w.id, w]));
      const release = this.db.prepare(
        `UPDATE ranges SET status = 'pending', owner = NULL, lease_until = NULL WHERE id = ?`,
      );
      for (const r of this.ranges('running')) if (isDead(r.owner, workers)) release.run(r.id);
      const forget = this.db.prepare('DELETE FROM workers WHERE id = ?');
      for (const w of workers.values()) if (isDead(w.id, workers)) forget.run(w.id);
      this.db
        .prepare(`UPDATE run SET status = 'running', ended_at = NULL, sessions = sessions + 1 WHERE id = 1`)
        .run();
    })();
  }

  /** Failed ranges of an earlier session get a fresh set of attempts. */
  resetFailed(): number {
    return this.db
      .prepare(
        `UPDATE ranges SET status = 'pending', attempts = 0, owner = NULL, lease_until = NULL WHERE status = 'failed'`,
      )
      .run().changes;
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

  registerWorker(worker: WorkerIdentity, now: number): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO workers (id, host, pid, started_at, heartbeat, ranges) VALUES (?, ?, ?, ?, ?, '[]')`,
      )
      .run(worker.id, worker.host, worker.pid, now, now);
  }

  unregisterWorker(workerId: string): void {
    this.db.prepare('DELETE FROM workers WHERE id = ?').run(workerId);
  }

  workers(): WorkerRecord[] {
    return (this.db.prepare('SELECT * FROM workers ORDER BY id').all() as Record<string, unknown>[]).map(
      workerRecord,
    );
  }

  /**
   * Claims the first claimable range in claim order: pending, or running with no owner or with a
   * lease that ended more than `graceMs` ago. `BEGIN IMMEDIATE` takes the file's write lock before
   * reading, so two processes sharing the file never claim the same range.
   */
  claim(workerId: string, now: number, leaseMs: number, graceMs: number): ClaimedRange | undefined {
    return this.db
      .transaction((): ClaimedRange | undefined => {
        const row = this.db
          .prepare(
            `SELECT * FROM ranges
             WHERE status = 'pending' OR (status = 'running' AND (owner IS NULL OR lease_until IS NULL OR lease_until < ?))
             ORDER BY claim_order, id LIMIT 1`,
          )
          .get(now - graceMs) as Record<string, unknown> | undefined;
        if (row === undefined) return undefined;
        const fence = Number(row.fence ?? 0) + 1;
        this.db
          .prepare(
            `UPDATE ranges SET status = 'running', owner = ?, lease_until = ?, fence = ?,
             attempts = attempts + 1, updated_at = ? WHERE id = ?`,
          )
          .run(workerId, now + leaseMs, fence, now, row.id);
        const range = this.range(Number(row.id));
        return { range, lease: { rangeId: range.id, owner: workerId, fence } };
      })
      .immediate();
  }

  /** Extends the leases still this worker's and records its heartbeat; returns the lost ones. */
  renew(workerId: string, leases: readonly RangeLease[], now: number, leaseMs: number): RangeLease[] {
    return this.db
      .transaction(() => {
        const extend = this.db.prepare(
          'UPDATE ranges SET lease_until = ? WHERE id = ? AND owner = ? AND fence = ?',
        );
        const gone = leases.filter(
          (l) => extend.run(now + leaseMs, l.rangeId, l.owner, l.fence).changes === 0,
        );
        const held = leases.filter((l) => !gone.includes(l)).map((l) => l.rangeId);
        this.db
          .prepare('UPDATE workers SET heartbeat = ?, ranges = ? WHERE id = ?')
          .run(now, JSON.stringify(held), workerId);
        return gone;
      })
      .immediate();
  }

  /** Throws LeaseLost unless the range is still held under `lease`; call inside a transaction. */
  private checkLease(lease: RangeLease): void {
    const row = this.db.prepare('SELECT owner, fence FROM ranges WHERE id = ?').get(lease.rangeId) as
      | { owner: string | null; fence: number }
      | undefined;
    if (row === undefined || row.owner !== lease.owner || Number(row.fence) !== lease.fence)
      throw lost(lease.rangeId);
  }

  startAttempt(lease: RangeLease): void {
    const changes = this.db
      .prepare(
        'UPDATE ranges SET attempts = attempts + 1, updated_at = ? WHERE id = ? AND owner = ? AND fence = ?',
      )
      .run(Date.now(), lease.rangeId, lease.owner, lease.fence).changes;
    if (changes === 0) throw lost(lease.rangeId);
  }

  /** Records a processed page: its counters and where to resume, in one transaction. */
  savePage(lease: RangeLease, resumeState: string | undefined, delta: Counts): void {
    killPoint('page-begin');
    this.db
      .transaction(() => {
        this.checkLease(lease);
        const current = this.db
          .prepare('SELECT counts FROM ranges WHERE id = ?')
          .pluck()
          .get(lease.rangeId) as string;
        const counts = addCounts(JSON.parse(current) as Counts, delta);
        this.db
          .prepare('UPDATE ranges SET counts = ?, resume_state = ?, updated_at = ? WHERE id = ?')
          .run(JSON.stringify(counts), resumeState ?? null, Date.now(), lease.rangeId);
        killPoint('page-uncommitted');
      })
      .immediate();
    killPoint('page-committed');
  }

  finishRange(lease: RangeLease, status: 'done' | 'failed' | 'pending', error?: string): void {
    const changes = this.db
      .prepare(
        `UPDATE ranges SET status = ?, last_error = ?, completed_at = ?, updated_at = ?, owner = NULL,
         lease_until = NULL, resume_state = CASE WHEN ? = 'done' THEN NULL ELSE resume_state END
         WHERE id = ? AND owner = ? AND fence = ?`,
      )
      .run(
        status,
        error ?? null,
        status === 'done' ? Date.now() : null,
        Date.now(),
        status,
        lease.rangeId,
        lease.owner,
        lease.fence,
      ).changes;
    if (changes === 0) throw lost(lease.rangeId);
    if (status === 'done') killPoint('range-done');
  }

  finishRun(status: RunStatus): void {
    this.db.prepare('UPDATE run SET status = ?, ended_at = ? WHERE id = 1').run(status, Date.now());
  }

  totals(): RunTotals {
    return totalsOf(this.ranges());
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
function populate(db: Database.Database, run: NewRun, ranges: readonly TokenRange[]): void {
  db.exec(SCHEMA);
  db.exec(LEASES);
  db.transaction(() => {
    const meta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
    meta.run('format', FORMAT);
    meta.run('format_version', FORMAT_VERSION);
    db.prepare(
      `INSERT INTO run (id, job, origin_table, target_table, options, status, started_at, sessions, run_timestamp)
       VALUES (1, ?, ?, ?, ?, 'running', ?, 0, ?)`,
    ).run(run.job, run.originTable, run.targetTable, run.options, run.startedAt, run.runTimestamp.toString());
    const insert = db.prepare(
      `INSERT INTO ranges (id, start, "end", status, claim_order) VALUES (?, ?, ?, 'pending', ?)`,
    );
    const order = claimOrder(ranges.length, run.startedAt);
    for (const [i, r] of ranges.entries()) {
      insert.run(i + 1, r.start.toString(), r.end.toString(), order.get(i + 1));
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
