import { basename, join } from 'node:path';
import {
  CheckpointStore,
  checkpointFileName,
  ensureCheckpointDir,
  listCheckpointFiles,
  removeUnfinishedCreations,
} from '../checkpoint/checkpoint-store.js';
import { RunLock } from '../checkpoint/run-lock.js';
import { OperatorError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { TokenRange } from '../ranges/token-ring.js';
import { printSummary } from './progress.js';

export interface RunIdentity {
  readonly job: 'migrate' | 'diff';
  readonly originTable: string;
  readonly targetTable: string;
  /** Options that decide what the run covers; a resumed run must have the same. */
  readonly options: Readonly<Record<string, unknown>>;
}

export interface OpenedRun {
  readonly store: CheckpointStore;
  readonly resumed: boolean;
  /** The latest run for this job and table had already completed: nothing to do without --fresh. */
  readonly alreadyCompleted: boolean;
}

export const optionsJson = (options: Readonly<Record<string, unknown>>): string =>
  JSON.stringify(options, (_, v) => (typeof v === 'bigint' ? v.toString() : v));

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

function describeOptionChanges(before: string, after: string): string {
  const a = JSON.parse(before) as Record<string, unknown>;
  const b = JSON.parse(after) as Record<string, unknown>;
  return [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]))
    .map((k) => `${k}: ${JSON.stringify(a[k])} → ${JSON.stringify(b[k])}`)
    .join(', ');
}

/**
 * Finds the run to continue, or starts a new one. The latest checkpoint of the same job, Origin and
 * Target table is resumed unless it completed or `fresh` is set; a checkpoint made with different
 * options is refused rather than mixed with this run.
 */
export function openOrCreateRun(options: {
  readonly dir: string;
  readonly identity: RunIdentity;
  readonly fresh: boolean;
  readonly planRanges: () => TokenRange[];
  readonly logger: Logger;
  readonly now?: Date;
}): OpenedRun {
  const { dir, identity, logger } = options;
  ensureCheckpointDir(dir);
  // Taken before a checkpoint is chosen or made: two processes would otherwise both create a run, or
  // both resume one (and a counter table would get its differences added twice).
  const lock = RunLock.acquire(
    runLockPath(dir, identity.job, identity.originTable),
    `zdm ${identity.job} of ${identity.originTable} in ${dir}`,
    logger,
  );
  try {
    const opened = findOrCreateRun(options);
    opened.store.holdUntilClose(() => lock.release());
    return opened;
  } catch (error) {
    lock.release();
    throw error;
  }
}

/** openOrCreateRun's work, under the run's lock. */
function findOrCreateRun(options: Parameters<typeof openOrCreateRun>[0]): OpenedRun {
  const { dir, identity, logger } = options;
  for (const file of removeUnfinishedCreations(dir, runFilePrefix(identity.job, identity.originTable)))
    logger.warn({ file }, 'removed a checkpoint a killed process left half-created');
  const wanted = optionsJson(identity.options);
  if (!options.fresh) {
    const candidates = runFilesFor(dir, identity.job, identity.originTable);
    for (const path of candidates.reverse()) {
      const store = CheckpointStore.open(path);
      const run = store.run();
      if (
        run.job !== identity.job ||
        run.originTable !== identity.originTable ||
        run.targetTable !== identity.targetTable
      ) {
        store.close();
        continue;
      }
      if (run.status === 'completed') {
        return { store, resumed: false, alreadyCompleted: true };
      }
      if (run.options !== wanted) {
        store.close();
        throw new OperatorError(
          'CHECKPOINT_OPTIONS_DIFFER',
          `The unfinished run in ${path} was started with other options (${describeOptionChanges(run.options, wanted)}).`,
          'Rerun with the same options to resume it, or pass --fresh to start a new run.',
        );
      }
      logger.info({ checkpoint: path, status: run.status, sessions: run.sessions }, 'resuming run');
      return { store, resumed: true, alreadyCompleted: false };
    }
  }
  const now = options.now ?? new Date();
  let path = join(dir, checkpointFileName(identity.job, identity.originTable, now));
  // Two runs started within the same second get distinct files.
  for (let i = 1; listCheckpointFiles(dir).includes(path); i++) {
    path = join(
      dir,
      checkpointFileName(identity.job, identity.originTable, new Date(now.getTime() + i * 1000)),
    );
  }
  const store = CheckpointStore.create(
    path,
    {
      job: identity.job,
      originTable: identity.originTable,
      targetTable: identity.targetTable,
      options: wanted,
      startedAt: now.getTime(),
      runTimestamp: BigInt(now.getTime()) * 1000n,
    },
    options.planRanges(),
  );
  logger.info({ checkpoint: path }, 'new run');
  return { store, resumed: false, alreadyCompleted: false };
}

/**
 * What a job prints when the latest run had already completed: one line, or with --json one JSON
 * object like every other summary, so scripts parse the output whatever state the run was in.
 */
export function printAlreadyCompleted(
  store: CheckpointStore,
  options: { readonly rowCounter: string; readonly rowsLabel: string; readonly json: boolean },
): void {
  const rows = store.totals().counts[options.rowCounter] ?? 0;
  const hint = 'Pass --fresh to start a new run.';
  if (options.json) {
    printSummary(
      `Run ${store.path} already completed; nothing to do`,
      { status: 'already completed', [options.rowsLabel]: rows, checkpoint: store.path, hint },
      true,
    );
    return;
  }
  process.stdout.write(
    `Run ${store.path} already completed (${rows} ${options.rowsLabel}); nothing to do. ${hint}\n`,
  );
}
