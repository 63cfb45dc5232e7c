import { basename, join } from 'node:path';
import type { Logger } from '../log/logger.js';
import type { TokenRange } from '../ranges/token-ring.js';
import {
  CheckpointStore,
  checkpointFileName,
  ensureCheckpointDir,
  listCheckpointFiles,
  removeUnfinishedCreations,
} from './checkpoint-store.js';
import type { LeaseTiming } from './lease.js';
import type { RunIdentity } from './resume-decision.js';
import type { Created, RunCatalog } from './run-catalog.js';
import { RunLock } from './run-lock.js';
import type { NewRun, RunState } from './run-state.js';
import { SqliteRunState } from './sqlite-run-state.js';

/** The start of every checkpoint file name of this job and Origin table (`migrate-ks.t-`). */
const runFilePrefix = (job: string, originTable: string): string =>
  checkpointFileName(job, originTable, new Date(0)).replace(/\d{8}-\d{6}\.sqlite$/, '');

/** Checkpoints in `dir` that belong to this job and Origin table, oldest first. */
export function runFilesFor(dir: string, job: string, originTable: string): string[] {
  const prefix = runFilePrefix(job, originTable);
  return listCheckpointFiles(dir).filter((path) => basename(path).startsWith(prefix));
}

/**
 * The lock file of a job and Origin table in a checkpoint directory (`migrate-ks.t.lock`): the same
 * unit as the checkpoint file names, so the lock also covers choosing, creating and cleaning them.
 */
export function runLockPath(dir: string, job: string, originTable: string): string {
  return join(dir, `${runFilePrefix(job, originTable).slice(0, -1)}.lock`);
}

/** Runs as SQLite files in a checkpoint directory, one file per run. */
export class SqliteRunCatalog implements RunCatalog {
  readonly where: string;

  constructor(
    private readonly dir: string,
    private readonly timing: LeaseTiming,
    private readonly logger: Logger,
  ) {
    this.where = dir;
  }

  async exclude(identity: RunIdentity): Promise<() => void> {
    ensureCheckpointDir(this.dir);
    // Taken before a checkpoint is chosen or made: two processes would otherwise both create a run,
    // or both resume one (and a counter table would get its differences added twice).
    const lock = RunLock.acquire(
      runLockPath(this.dir, identity.job, identity.originTable),
      `zdm ${identity.job} of ${identity.originTable} in ${this.dir}`,
      this.logger,
    );
    return () => lock.release();
  }

  async cleanUnfinished(identity: RunIdentity): Promise<string[]> {
    return removeUnfinishedCreations(this.dir, runFilePrefix(identity.job, identity.originTable));
  }

  async latest(identity: RunIdentity): Promise<RunState | undefined> {
    for (const path of runFilesFor(this.dir, identity.job, identity.originTable).reverse()) {
      const store = CheckpointStore.open(path);
      const run = store.run();
      if (
        run.job === identity.job &&
        run.originTable === identity.originTable &&
        run.targetTable === identity.targetTable
      )
        return new SqliteRunState(store, this.timing);
      store.close();
    }
    return undefined;
  }

  async open(runId: string): Promise<RunState> {
    return new SqliteRunState(CheckpointStore.open(join(this.dir, `${runId}.sqlite`)), this.timing);
  }

  async create(run: NewRun, ranges: readonly TokenRange[], now: Date): Promise<Created> {
    let path = join(this.dir, checkpointFileName(run.job, run.originTable, now));
    // Two runs started within the same second get distinct files.
    for (let i = 1; listCheckpointFiles(this.dir).includes(path); i++) {
      path = join(this.dir, checkpointFileName(run.job, run.originTable, new Date(now.getTime() + i * 1000)));
    }
    return {
      kind: 'created',
      state: new SqliteRunState(CheckpointStore.create(path, run, ranges), this.timing),
    };
  }

  releaseOnClose(state: RunState, release: () => void): void {
    (state as SqliteRunState).store.holdUntilClose(release);
  }
}
