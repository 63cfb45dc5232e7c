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

/** What a new run is created with. */
export type NewRun = Omit<RunRecord, 'status' | 'endedAt' | 'sessions'>;

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
  /** The worker that holds (or last held, if it died) the range's lease while it is `running`. */
  readonly owner?: string | undefined;
  /** Milliseconds since the epoch, by the clock of the owner's last claim or renewal. */
  readonly leaseUntil?: number | undefined;
  /** Raised by every claim: a write carrying an older fence comes from a worker that lost the range. */
  readonly fence?: number;
}

/** The right to work on one range, as long as the store still names this owner and fence. */
export interface RangeLease {
  readonly rangeId: number;
  readonly owner: string;
  readonly fence: number;
}

/** A range this worker has just claimed, as it was at the claim (resume position included). */
export interface ClaimedRange {
  readonly range: RangeRecord;
  readonly lease: RangeLease;
}

/** A process working on a run. */
export interface WorkerIdentity {
  /** Unique among the run's workers (host, pid and a random part). */
  readonly id: string;
  readonly host: string;
  readonly pid: number;
}

export interface WorkerRecord extends WorkerIdentity {
  readonly startedAt: number;
  /** Milliseconds since the epoch of its last renewal round. */
  readonly heartbeat: number;
  /** Range ids it held at that renewal. */
  readonly ranges: readonly number[];
}

export interface RunTotals {
  readonly counts: Counts;
  readonly byStatus: Readonly<Record<RangeStatus, number>>;
}

/** A write of a worker whose lease on the range is gone: the range belongs to someone else now. */
export class LeaseLost extends Error {
  override readonly name = 'LeaseLost';
  constructor(
    readonly rangeId: number,
    why: string,
  ) {
    super(`lease on range ${rangeId} lost: ${why}`);
  }
}

/**
 * A diff's report lines kept in the run's state, so that every machine of a run can write the whole
 * report, not only the lines of the ranges it compared (`zdm diff` on several machines).
 */
export interface SharedReportLines {
  /** Saves one line under its key; the same key again overwrites it (saving twice is harmless). */
  save(key: string, line: string): Promise<void>;
  /** Every line saved for the run, read in pages. */
  all(): AsyncIterable<string>;
}

/**
 * Everything a job does with its run's state, wherever it lives (an SQLite file on this machine, or
 * a keyspace of a Cassandra cluster that workers on any machine share).
 *
 * Ranges are worked under leases: `claimRange` hands a worker a pending range (or one whose lease
 * expired) with a fence token; `savePage`, `startAttempt` and `finishRange` apply only while the store
 * still names that owner and fence, and throw `LeaseLost` otherwise. A worker keeps its leases by
 * calling `renewLeases` well within the lease length.
 *
 * A second process joins a run by opening its state by `runId` (`RunCatalog.open`, no lock) and
 * running `runRanges` on it, which registers it as a worker and claims ranges like the first one.
 */
export interface RunState {
  /** Names the run among all runs of its store (the checkpoint file name, or the Cassandra run id). */
  readonly runId: string;
  /** Where the state is, for summaries and messages (a file path, or keyspace and run id). */
  readonly location: string;
  /** `sqlite` or `cassandra`. */
  readonly kind: 'sqlite' | 'cassandra';
  /** Report lines shared by the machines of a run; null where the run lives on one machine (SQLite). */
  readonly reportLines: SharedReportLines | null;
  run(): Promise<RunRecord>;
  /** The start of a session: sessions + 1, status running; ranges of workers known dead are released. */
  beginSession(): Promise<void>;
  /** Failed ranges of an earlier session get a fresh set of attempts; returns how many. */
  resetFailed(): Promise<number>;
  ranges(status?: RangeStatus): Promise<RangeRecord[]>;
  range(id: number): Promise<RangeRecord>;
  registerWorker(worker: WorkerIdentity): Promise<void>;
  /** Removes the worker from the run's list (its ranges are finished or released by then). */
  unregisterWorker(workerId: string): Promise<void>;
  workers(): Promise<WorkerRecord[]>;
  /** The next claimable range for this worker, or undefined when none is claimable now. */
  claimRange(workerId: string): Promise<ClaimedRange | undefined>;
  /** Extends these leases (and the worker's heartbeat); returns those that are no longer this worker's. */
  renewLeases(workerId: string, leases: readonly RangeLease[]): Promise<RangeLease[]>;
  /** Counts one more attempt on a range this worker holds (a retry within its lease). */
  startAttempt(lease: RangeLease): Promise<void>;
  /** Records a processed page: its counters and where to resume, atomically, if the lease holds. */
  savePage(lease: RangeLease, resumeState: string | undefined, delta: Counts): Promise<void>;
  /** Ends this worker's work on a range and gives up its lease. */
  finishRange(lease: RangeLease, status: 'done' | 'failed' | 'pending', error?: string): Promise<void>;
  finishRun(status: RunStatus): Promise<void>;
  totals(): Promise<RunTotals>;
  close(): Promise<void>;
}

export function addCounts(a: Counts, b: Counts): Counts {
  const out: Record<string, number> = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
  return out;
}

/** Counters summed and ranges counted by status. */
export function totalsOf(ranges: readonly RangeRecord[]): RunTotals {
  let counts: Counts = {};
  const byStatus: Record<RangeStatus, number> = { pending: 0, running: 0, done: 0, failed: 0 };
  for (const r of ranges) {
    counts = addCounts(counts, r.counts);
    byStatus[r.status]++;
  }
  return { counts, byStatus };
}
