import { basename, join } from 'node:path';
import {
  CheckpointStore,
  checkpointFileName,
  ensureCheckpointDir,
  listCheckpointFiles,
} from '../checkpoint/checkpoint-store.js';
import { OperatorError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { TokenRange } from '../ranges/token-ring.js';

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

/** Checkpoints in `dir` that belong to this job and Origin table, oldest first. */
export function runFilesFor(dir: string, job: string, originTable: string): string[] {
  const prefix = checkpointFileName(job, originTable, new Date(0)).replace(/\d{8}-\d{6}\.sqlite$/, '');
  return listCheckpointFiles(dir).filter((path) => basename(path).startsWith(prefix));
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
