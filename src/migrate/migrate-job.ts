import { printAlreadyCompleted } from '../job/job-run.js';
import {
  beginJobSession,
  openRangeJob,
  reportFailedRanges,
  runJobSession,
  sessionFields,
  workerExitCode,
} from '../job/job-session.js';
import type { RangeJobSettings } from '../job/job-settings.js';
import { semanticOptions } from '../job/job-settings.js';
import { printSummary } from '../job/progress.js';
import {
  jobResources,
  mappedColumns,
  planRanges,
  rangeSelectCql,
  refText,
  targetTableCql,
} from '../job/range-job.js';
import { runCatalogFor } from '../job/run-store.js';
import { openOrJoinRun } from '../job/worker-join.js';
import type { WorkerRole } from '../job/worker-role.js';
import { WorkerShare } from '../job/worker-share.js';
import type { Logger } from '../log/logger.js';
import { copyCounterRangeWorker } from './counter-copier.js';
import type { MigrateSettings } from './migrate-settings.js';
import { type CopySetup, copyRangeWorker } from './range-copier.js';

/** Exit codes of `zdm migrate`, stable for scripts. */
export const MIGRATE_EXIT = {
  ok: 0,
  rangesFailed: 1,
  operatorError: 2,
  schemaMismatch: 3,
  interrupted: 130,
} as const;

export interface MigrateInput {
  readonly table: string;
  /** Resolved settings holding origin_* and target_* keys. */
  readonly clusters: Readonly<Record<string, unknown>>;
  readonly job: RangeJobSettings;
  readonly migrate: MigrateSettings;
  readonly logger: Logger;
  readonly tty: boolean;
  /** Alone (default), parent of `--workers N` processes, or one of them. */
  readonly role?: WorkerRole;
}

/** `zdm migrate`: copies a table Origin → Target over token ranges, resumably. Returns the exit code. */
export async function runMigrate(input: MigrateInput): Promise<number> {
  const { job: settings, logger } = input;
  const role = input.role ?? { kind: 'alone' };
  const opened = await openRangeJob(input);
  const { originRef, targetRef, mapping, pair, counters } = opened;
  try {
    const copied = mappedColumns(pair.originSchema, mapping);
    const readQuery = rangeSelectCql(
      pair.originSchema,
      copied.map((c) => c.column),
      settings.where,
    );
    const planned = await planRanges(pair, settings);
    if (settings.dry_run) {
      printSummary(
        'Migrate plan (dry run: nothing read or written)',
        {
          origin: refText(originRef),
          target: refText(targetRef),
          kind: counters ? 'counter table (differences added)' : 'regular table (per-cell writetime and TTL)',
          'token ranges': planned.ranges.length,
          'estimated partitions': planned.estimatedPartitions,
          concurrency: settings.concurrency,
          'origin read': readQuery,
          'checkpoint dir': settings.checkpoint_dir,
        },
        settings.json,
      );
      return MIGRATE_EXIT.ok;
    }
    const { store, alreadyCompleted } = await openOrJoinRun(role, {
      dir: settings.checkpoint_dir,
      identity: {
        job: 'migrate',
        originTable: refText(originRef),
        targetTable: refText(targetRef),
        options: {
          ...semanticOptions(settings),
          createMissingCounters: input.migrate.create_missing_counters,
        },
      },
      fresh: settings.fresh,
      planRanges: () => planned.ranges,
      logger,
      catalog: await runCatalogFor(settings, logger, opened.stateClient),
    });
    try {
      if (alreadyCompleted) {
        await printAlreadyCompleted(store, {
          rowCounter: 'rowsRead',
          rowsLabel: 'rows read',
          json: settings.json,
        });
        return MIGRATE_EXIT.ok;
      }
      const run = await beginJobSession(store, logger, role);
      const share = new WorkerShare(role.kind === 'child' ? role.workers : 1);
      const setup: CopySetup = {
        origin: pair.origin,
        target: pair.target,
        originSchema: pair.originSchema,
        copied,
        readQuery,
        writeTarget: {
          tableCql: targetTableCql(targetRef),
          partitionKey: pair.originSchema.partitionKey.map((c) => mapping.rename.get(c.name) ?? c.name),
          clustering: pair.originSchema.clustering.map((c) => mapping.rename.get(c.name) ?? c.name),
        },
        fetchSize: settings.fetch_size,
        ...jobResources(settings, opened.originConfig, opened.targetConfig, share),
        plan: {
          writetimeMin: settings.writetime_min,
          writetimeMax: settings.writetime_max,
          fallbackTimestamp: run.runTimestamp,
          userTypes: pair.originSchema.userTypes,
        },
      };
      const result = await runJobSession({
        job: 'migrate',
        store,
        run,
        worker: counters
          ? copyCounterRangeWorker(setup, input.migrate.create_missing_counters)
          : copyRangeWorker(setup),
        settings,
        stop: opened.stop,
        logger,
        tty: input.tty,
        rowCounter: 'rowsRead',
        role,
        share,
      });
      if (role.kind === 'child') return workerExitCode(result);
      const { counts, byStatus } = await store.totals();
      printSummary(
        `Migrate ${refText(originRef)} → ${refText(targetRef)}: ${result.status}`,
        {
          'rows read': counts.rowsRead ?? 0,
          'rows written': counts.rowsWritten ?? 0,
          'rows skipped': counts.rowsSkipped ?? 0,
          ...(counters
            ? { 'rows unchanged': counts.rowsUnchanged ?? 0 }
            : { 'cells skipped': counts.cellsSkipped ?? 0 }),
          // Lists still being written through the proxy after several rounds: a rerun or diff settles them.
          ...(counts.listsUnsettled ? { 'lists still changing': counts.listsUnsettled } : {}),
          'ranges done': byStatus.done,
          'ranges failed': byStatus.failed,
          'ranges pending': byStatus.pending,
          'this session rows read': result.sessionRows,
          ...sessionFields(result),
          checkpoint: store.location,
        },
        settings.json,
      );
      const failed = await reportFailedRanges(store);
      if (failed > 0)
        process.stderr.write(`${failed} range(s) failed; run the same command again to retry only those.\n`);
      if (result.outcome.stopped) return MIGRATE_EXIT.interrupted;
      return result.outcome.failed > 0 ? MIGRATE_EXIT.rangesFailed : MIGRATE_EXIT.ok;
    } finally {
      await store.close();
    }
  } finally {
    await opened.close();
  }
}
