import { clusterConfig } from '../config/cluster-settings.js';
import { OperatorError } from '../errors.js';
import { openOrCreateRun } from '../job/job-run.js';
import type { RangeJobSettings } from '../job/job-settings.js';
import { semanticOptions } from '../job/job-settings.js';
import { JobProgress, printSummary } from '../job/progress.js';
import {
  columnMapping,
  jobResources,
  mappedColumns,
  planRanges,
  rangeSelectCql,
  refText,
  tableRef,
  targetTableCql,
} from '../job/range-job.js';
import { installStopSignal } from '../job/stop-signal.js';
import { openTablePair } from '../job/table-pair.js';
import type { Logger } from '../log/logger.js';
import { JobMetrics } from '../metrics/job-metrics.js';
import { runRanges } from '../ranges/range-runner.js';
import { isCounterTable } from '../schema/table-schema.js';
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
}

/** `zdm migrate`: copies a table Origin → Target over token ranges, resumably. Returns the exit code. */
export async function runMigrate(input: MigrateInput): Promise<number> {
  const { job: settings, logger } = input;
  const originRef = tableRef(input.table, 'Table');
  const targetRef =
    settings.target_table === undefined ? originRef : tableRef(settings.target_table, 'Target table');
  const originConfig = clusterConfig(input.clusters, 'origin');
  const targetConfig = clusterConfig(input.clusters, 'target');
  const mapping = columnMapping(settings);
  const pair = await openTablePair({
    originConfig,
    targetConfig,
    originTable: originRef,
    targetTable: targetRef,
    mapping,
    logger,
    tuning: { connectionsPerHost: 2 },
  });
  const stopSignal = installStopSignal(logger);
  try {
    const counters = isCounterTable(pair.originSchema);
    if (counters && (settings.writetime_min !== undefined || settings.writetime_max !== undefined)) {
      throw new OperatorError(
        'WRITETIME_FILTER_ON_COUNTERS',
        `${refText(originRef)} is a counter table: counters have no writetime, so --writetime-min/--writetime-max cannot apply.`,
      );
    }
    const copied = mappedColumns(pair.originSchema, mapping);
    const readQuery = rangeSelectCql(
      pair.originSchema,
      copied.map((c) => c.column),
      settings.where,
    );
    const identity = {
      job: 'migrate' as const,
      originTable: refText(originRef),
      targetTable: refText(targetRef),
      options: { ...semanticOptions(settings), createMissingCounters: input.migrate.create_missing_counters },
    };
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
    const run = openOrCreateRun({
      dir: settings.checkpoint_dir,
      identity,
      fresh: settings.fresh,
      planRanges: () => planned.ranges,
      logger,
    });
    const { store } = run;
    try {
      if (run.alreadyCompleted) {
        const { counts } = store.totals();
        process.stdout.write(
          `Run ${store.path} already completed (${counts.rowsRead ?? 0} rows read); nothing to do. Pass --fresh to copy again.\n`,
        );
        return MIGRATE_EXIT.ok;
      }
      store.beginSession();
      const retried = store.resetFailed();
      if (retried > 0) logger.info({ ranges: retried }, 'retrying ranges that failed in an earlier session');
      const runRecord = store.run();
      const resources = jobResources(settings, originConfig, targetConfig);
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
        ...resources,
        plan: {
          writetimeMin: settings.writetime_min,
          writetimeMax: settings.writetime_max,
          fallbackTimestamp: runRecord.runTimestamp,
          userTypes: pair.originSchema.userTypes,
        },
      };
      const all = store.ranges();
      const progress = new JobProgress({
        label: 'migrate',
        totalRanges: all.length,
        doneRanges: all.filter((r) => r.status === 'done').length,
        rowCounter: 'rowsRead',
        logger,
        tty: input.tty,
        intervalS: settings.progress_interval_s,
      });
      const metrics = new JobMetrics('migrate');
      metrics.setRangeCount(all.length);
      if (settings.metrics_port !== undefined)
        await metrics.serve(settings.metrics_address, settings.metrics_port, logger);
      const started = performance.now();
      let outcome: Awaited<ReturnType<typeof runRanges>>;
      try {
        outcome = await runRanges({
          store,
          worker: counters
            ? copyCounterRangeWorker(setup, input.migrate.create_missing_counters)
            : copyRangeWorker(setup),
          concurrency: settings.concurrency,
          maxAttempts: settings.max_attempts,
          retryDelayMs: settings.retry_delay_ms,
          stop: stopSignal.signal,
          logger,
          seed: Number(runRecord.startedAt % 2 ** 31),
          onCommit: (delta) => {
            progress.onCommit(delta);
            metrics.onCommit(delta);
          },
          onRangeEnd: (range) => {
            progress.onRangeEnd(range.status === 'done');
            metrics.onRangeEnd(range.status === 'done');
          },
        });
      } finally {
        progress.stop();
        await metrics.close();
      }
      const seconds = (performance.now() - started) / 1000;
      const status = outcome.stopped ? 'interrupted' : outcome.failed > 0 ? 'failed' : 'completed';
      store.finishRun(status);
      const { counts, byStatus } = store.totals();
      const failedRanges = store.ranges('failed');
      printSummary(
        `Migrate ${refText(originRef)} → ${refText(targetRef)}: ${status}`,
        {
          'rows read': counts.rowsRead ?? 0,
          'rows written': counts.rowsWritten ?? 0,
          'rows skipped': counts.rowsSkipped ?? 0,
          ...(counters
            ? { 'rows unchanged': counts.rowsUnchanged ?? 0 }
            : { 'cells skipped': counts.cellsSkipped ?? 0 }),
          'ranges done': byStatus.done,
          'ranges failed': byStatus.failed,
          'ranges pending': byStatus.pending,
          'this session rows read': progress.sessionRows,
          'this session seconds': Number(seconds.toFixed(1)),
          'this session rows/s': Math.round(progress.sessionRows / Math.max(seconds, 0.001)),
          'peak RSS MB': Math.round(process.resourceUsage().maxRSS / 1024),
          checkpoint: store.path,
        },
        settings.json,
      );
      for (const r of failedRanges.slice(0, 20)) {
        process.stderr.write(
          `failed range ${r.id} (${r.start}, ${r.end}] after ${r.attempts} attempts: ${r.lastError}\n`,
        );
      }
      if (failedRanges.length > 0) {
        process.stderr.write(
          `${failedRanges.length} range(s) failed; run the same command again to retry only those.\n`,
        );
      }
      if (outcome.stopped) return MIGRATE_EXIT.interrupted;
      return outcome.failed > 0 ? MIGRATE_EXIT.rangesFailed : MIGRATE_EXIT.ok;
    } finally {
      store.close();
    }
  } finally {
    stopSignal.dispose();
    await pair.close();
  }
}
