import { hostname } from 'node:os';
import { basename } from 'node:path';
import type { CheckpointStore } from './checkpoint-store.js';
import { type LeaseTiming, ownerDead } from './lease.js';
import { processAlive } from './run-lock.js';
import type {
  ClaimedRange,
  Counts,
  RangeLease,
  RangeRecord,
  RangeStatus,
  RunRecord,
  RunState,
  RunStatus,
  RunTotals,
  WorkerIdentity,
  WorkerRecord,
} from './run-state.js';

/**
 * Run state in one SQLite file (WAL): the default, for workers of one machine. Its calls are
 * synchronous underneath (better-sqlite3); several processes may share the file, since every claim
 * and page save is an IMMEDIATE transaction.
 */
export class SqliteRunState implements RunState {
  readonly kind = 'sqlite' as const;
  /** The machine's report file holds every line: a SQLite run lives on one machine. */
  readonly reportLines = null;
  readonly runId: string;
  readonly location: string;

  constructor(
    /** The file underneath, for the readers of this format (tests, `zdm status`). */
    readonly store: CheckpointStore,
    private readonly timing: LeaseTiming,
  ) {
    this.location = store.path;
    this.runId = basename(store.path).replace(/\.sqlite$/, '');
  }

  async run(): Promise<RunRecord> {
    return this.store.run();
  }

  async beginSession(): Promise<void> {
    const host = hostname();
    this.store.beginSession((owner, workers) => ownerDead(owner, workers, host, processAlive));
  }

  async resetFailed(): Promise<number> {
    return this.store.resetFailed();
  }

  async ranges(status?: RangeStatus): Promise<RangeRecord[]> {
    return this.store.ranges(status);
  }

  async range(id: number): Promise<RangeRecord> {
    return this.store.range(id);
  }

  async registerWorker(worker: WorkerIdentity): Promise<void> {
    this.store.registerWorker(worker, Date.now());
  }

  async unregisterWorker(workerId: string): Promise<void> {
    this.store.unregisterWorker(workerId);
  }

  async workers(): Promise<WorkerRecord[]> {
    return this.store.workers();
  }

  async claimRange(workerId: string): Promise<ClaimedRange | undefined> {
    return this.store.claim(workerId, Date.now(), this.timing.leaseMs, this.timing.graceMs);
  }

  async renewLeases(workerId: string, leases: readonly RangeLease[]): Promise<RangeLease[]> {
    return this.store.renew(workerId, leases, Date.now(), this.timing.leaseMs);
  }

  async startAttempt(lease: RangeLease): Promise<void> {
    this.store.startAttempt(lease);
  }

  async savePage(lease: RangeLease, resumeState: string | undefined, delta: Counts): Promise<void> {
    this.store.savePage(lease, resumeState, delta);
  }

  async finishRange(lease: RangeLease, status: 'done' | 'failed' | 'pending', error?: string): Promise<void> {
    this.store.finishRange(lease, status, error);
  }

  async finishRun(status: RunStatus): Promise<void> {
    this.store.finishRun(status);
  }

  async totals(): Promise<RunTotals> {
    return this.store.totals();
  }

  async close(): Promise<void> {
    this.store.close();
  }
}
