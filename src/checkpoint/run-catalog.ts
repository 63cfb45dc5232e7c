import type { TokenRange } from '../ranges/token-ring.js';
import type { RunIdentity } from './resume-decision.js';
import type { NewRun, RunState } from './run-state.js';

/** A new run was made, or another process made one for the same job and tables at the same moment. */
export type Created = { readonly kind: 'created'; readonly state: RunState } | { readonly kind: 'raced' };

/**
 * Where a store keeps its runs and how a job finds the one to continue: files in a checkpoint
 * directory, or a keyspace's run tables. `openOrCreateRun` decides with `decideResume` over either.
 */
export interface RunCatalog {
  /** Where the runs are, for messages. */
  readonly where: string;
  /**
   * Whatever keeps two processes from choosing or creating runs of this job and table at once
   * (SQLite: the run lock, released when the run's state closes). Returns its release.
   */
  exclude(identity: RunIdentity): Promise<() => void>;
  /** Removes what a killed process left half-created; returns a description of each removed. */
  cleanUnfinished(identity: RunIdentity): Promise<string[]>;
  /** The latest run of the identity's job, Origin and Target table, opened. */
  latest(identity: RunIdentity): Promise<RunState | undefined>;
  /** Opens a run by its `runId`, without any lock: how a second process joins a run. */
  open(runId: string): Promise<RunState>;
  create(run: NewRun, ranges: readonly TokenRange[], now: Date): Promise<Created>;
  /** Ties a release (the lock of `exclude`) to the state's closing. */
  releaseOnClose(state: RunState, release: () => void): void;
}
