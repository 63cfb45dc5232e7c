import { leaseTiming } from '../checkpoint/lease.js';
import type { RunRecord, RunState, RunStatus } from '../checkpoint/run-state.js';
import { type ClusterConfig, clusterConfig } from '../config/cluster-settings.js';
import { OperatorError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { JobMetrics } from '../metrics/job-metrics.js';
import { type RangesOutcome, type RangeWorker, runRanges } from '../ranges/range-runner.js';
import type { ColumnMapping } from '../schema/compare.js';
import { isCounterTable } from '../schema/table-schema.js';
import type { RangeJobSettings } from './job-settings.js';
import { JobProgress } from './progress.js';
import { columnMapping, refText, tableRef } from './range-job.js';
import { installStopSignal } from './stop-signal.js';
import { openTablePair, type TablePair, type TableRef } from './table-pair.js';

/** What migrate and diff have in hand once both clusters are connected and the schemas agree. */
export interface OpenedRangeJob {
  readonly originRef: TableRef;
  readonly targetRef: TableRef;
  readonly originConfig: ClusterConfig;
  readonly targetConfig: ClusterConfig;
  readonly mapping: ColumnMapping;
  readonly pair: TablePair;
  readonly counters: boolean;
  /** Aborted on Ctrl-C / SIGTERM. */
  readonly stop: AbortSignal;
  close(): Promise<void>;
}

/**
 * The common start of a range job: table names, cluster configurations, column mapping, both
 * clusters connected with compatible schemas, and the graceful-stop signal installed.
 */
export async function openRangeJob(input: {
  readonly table: string;
  readonly clusters: Readonly<Record<string, unknown>>;
  readonly job: RangeJobSettings;
  readonly logger: Logger;
}): Promise<OpenedRangeJob> {
  const settings = input.job;
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
    logger: input.logger,
    tuning: { connectionsPerHost: 2 },
  });
  const counters = isCounterTable(pair.originSchema);
  if (counters && (settings.writetime_min !== undefined || settings.writetime_max !== undefined)) {
    await pair.close();
    throw new OperatorError(
      'WRITETIME_FILTER_ON_COUNTERS',
      `${refText(originRef)} is a counter table: counters have no writetime, so --writetime-min/--writetime-max cannot apply.`,
    );
  }
  const stopSignal = installStopSignal(input.logger);
  return {
    originRef,
    targetRef,
    originConfig,
    targetConfig,
    mapping,
    pair,
    counters,
    stop: stopSignal.signal,
    async close() {
      stopSignal.dispose();
      await pair.close();
    },
  };
}

/** Starts a session of a run: ranges a killed process left running, and failed ones, are pending again. */
export async function beginJobSession(store: RunState, logger: Logger): Promise<RunRecord> {
  await store.beginSession();
  const retried = await store.resetFailed();
  if (retried > 0) logger.info({ ranges: retried }, 'retrying ranges that failed in an earlier session');
  return await store.run();
}

export interface JobSessionResult {
  readonly outcome: RangesOutcome;
  readonly status: RunStatus;
  readonly seconds: number;
  /** Rows counted by the job's row counter in this session. */
  readonly sessionRows: number;
}

/**
 * Runs a session's pending ranges with progress (bar or log lines) and metrics, then records how the
 * run ended. Shared by migrate and diff so both report and behave alike.
 */
export async function runJobSession(options: {
  readonly job: 'migrate' | 'diff' | 'guardrail';
  readonly store: RunState;
  readonly run: RunRecord;
  readonly worker: RangeWorker;
  readonly settings: RangeJobSettings;
  readonly stop: AbortSignal;
  readonly logger: Logger;
  readonly tty: boolean;
  /** The counter that measures rows for progress and rates (rowsRead, rowsCompared). */
  readonly rowCounter: string;
}): Promise<JobSessionResult> {
  const { store, settings, logger } = options;
  const all = await store.ranges();
  const progress = new JobProgress({
    label: options.job,
    totalRanges: all.length,
    doneRanges: all.filter((r) => r.status === 'done').length,
    rowCounter: options.rowCounter,
    logger,
    tty: options.tty,
    intervalS: settings.progress_interval_s,
  });
  const metrics = new JobMetrics(options.job, options.run.originTable);
  metrics.setRanges(all.length, all.filter((r) => r.status === 'done').length);
  const started = performance.now();
  let outcome: RangesOutcome;
  try {
    if (settings.metrics_port !== undefined)
      await metrics.serve(settings.metrics_address, settings.metrics_port, logger);
    outcome = await runRanges({
      store,
      worker: options.worker,
      concurrency: settings.concurrency,
      maxAttempts: settings.max_attempts,
      retryDelayMs: settings.retry_delay_ms,
      stop: options.stop,
      logger,
      timing: leaseTiming(settings.lease_seconds),
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
  // From the run's state, not this process's count: other workers may have failed ranges too.
  const failed = outcome.stopped ? 0 : (await store.totals()).byStatus.failed;
  const status: RunStatus = outcome.stopped ? 'interrupted' : failed > 0 ? 'failed' : 'completed';
  await store.finishRun(status);
  return { outcome, status, seconds, sessionRows: progress.sessionRows };
}

/** Summary fields both jobs print about the session itself. */
export function sessionFields(result: JobSessionResult): Record<string, number> {
  return {
    'this session seconds': Number(result.seconds.toFixed(1)),
    'this session rows/s': Math.round(result.sessionRows / Math.max(result.seconds, 0.001)),
    'peak RSS MB': Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

/** Lists failed ranges on stderr (at most 20) with their last error. */
export async function reportFailedRanges(store: RunState): Promise<number> {
  const failed = await store.ranges('failed');
  for (const r of failed.slice(0, 20)) {
    process.stderr.write(
      `failed range ${r.id} (${r.start}, ${r.end}] after ${r.attempts} attempts: ${r.lastError}\n`,
    );
  }
  return failed.length;
}
