import { DEFAULT_LEASE_SECONDS, leaseTiming } from '../checkpoint/lease.js';
import { decideResume, optionsJson, type RunIdentity } from '../checkpoint/resume-decision.js';
import type { RunCatalog } from '../checkpoint/run-catalog.js';
import type { RunState } from '../checkpoint/run-state.js';
import { SqliteRunCatalog } from '../checkpoint/sqlite-run-catalog.js';
import { OperatorError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { TokenRange } from '../ranges/token-ring.js';
import { printSummary } from './progress.js';

export { optionsJson, type RunIdentity } from '../checkpoint/resume-decision.js';
export { runFilesFor, runLockPath } from '../checkpoint/sqlite-run-catalog.js';

export interface OpenedRun {
  readonly store: RunState;
  readonly resumed: boolean;
  /** The latest run for this job and table had already completed: nothing to do without --fresh. */
  readonly alreadyCompleted: boolean;
}

/**
 * Finds the run to continue, or starts a new one. The latest run of the same job, Origin and Target
 * table is resumed unless it completed or `fresh` is set; a run made with different options is
 * refused rather than mixed with this run. SQLite files in `dir` unless another catalog is given.
 */
export async function openOrCreateRun(options: {
  readonly dir: string;
  readonly identity: RunIdentity;
  readonly fresh: boolean;
  readonly planRanges: () => TokenRange[];
  readonly logger: Logger;
  readonly now?: Date;
  readonly catalog?: RunCatalog;
}): Promise<OpenedRun> {
  const { identity, logger } = options;
  const catalog =
    options.catalog ?? new SqliteRunCatalog(options.dir, leaseTiming(DEFAULT_LEASE_SECONDS), logger);
  const release = await catalog.exclude(identity);
  try {
    const opened = await findOrCreateRun(catalog, options);
    catalog.releaseOnClose(opened.store, release);
    return opened;
  } catch (error) {
    release();
    throw error;
  }
}

/** openOrCreateRun's work, with other processes kept out by the catalog. */
async function findOrCreateRun(
  catalog: RunCatalog,
  options: Parameters<typeof openOrCreateRun>[0],
): Promise<OpenedRun> {
  const { identity, logger } = options;
  for (const removed of await catalog.cleanUnfinished(identity))
    logger.warn({ file: removed }, 'removed a checkpoint a killed process left half-created');
  let planned: TokenRange[] | undefined;
  let fresh = options.fresh;
  for (;;) {
    const latest = fresh ? undefined : await catalog.latest(identity);
    const run = latest === undefined ? undefined : await latest.run();
    const decision = decideResume(run, identity, fresh);
    switch (decision.kind) {
      case 'completed':
        return { store: latest!, resumed: false, alreadyCompleted: true };
      case 'options-differ':
        await latest!.close();
        throw new OperatorError(
          'CHECKPOINT_OPTIONS_DIFFER',
          `The unfinished run in ${latest!.location} was started with other options (${decision.changes}).`,
          'Rerun with the same options to resume it, or pass --fresh to start a new run.',
        );
      case 'resume':
        logger.info(
          { checkpoint: latest!.location, status: run!.status, sessions: run!.sessions },
          'resuming run',
        );
        return { store: latest!, resumed: true, alreadyCompleted: false };
      case 'create':
        break;
    }
    await latest?.close();
    const now = options.now ?? new Date();
    planned ??= options.planRanges();
    const created = await catalog.create(
      {
        job: identity.job,
        originTable: identity.originTable,
        targetTable: identity.targetTable,
        options: optionsJson(identity.options),
        startedAt: now.getTime(),
        runTimestamp: BigInt(now.getTime()) * 1000n,
      },
      planned,
      now,
    );
    if (created.kind === 'created') {
      logger.info({ checkpoint: created.state.location }, 'new run');
      return { store: created.state, resumed: false, alreadyCompleted: false };
    }
    // Another process made a run of this job and table at the same moment: join it, even when
    // asked for a fresh one (machines started together after a completed diff), rather than
    // replacing the run the other just made.
    fresh = false;
    logger.info('another worker created this run at the same moment; joining it');
  }
}

/**
 * What a job prints when the latest run had already completed: one line, or with --json one JSON
 * object like every other summary, so scripts parse the output whatever state the run was in.
 */
export async function printAlreadyCompleted(
  store: RunState,
  options: { readonly rowCounter: string; readonly rowsLabel: string; readonly json: boolean },
): Promise<void> {
  const rows = (await store.totals()).counts[options.rowCounter] ?? 0;
  const hint = 'Pass --fresh to start a new run.';
  if (options.json) {
    printSummary(
      `Run ${store.location} already completed; nothing to do`,
      { status: 'already completed', [options.rowsLabel]: rows, checkpoint: store.location, hint },
      true,
    );
    return;
  }
  process.stdout.write(
    `Run ${store.location} already completed (${rows} ${options.rowsLabel}); nothing to do. ${hint}\n`,
  );
}
