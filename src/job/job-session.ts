import { leaseTiming } from '../checkpoint/lease.js';
import type { RunRecord, RunState, RunStatus } from '../checkpoint/run-state.js';
import { type ClusterConfig, clusterConfig } from '../config/cluster-settings.js';
import type { CqlClient } from '../connect/cluster-client.js';
import { OperatorError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { JobMetrics } from '../metrics/job-metrics.js';
import { type RangesOutcome, type RangeWorker, runRanges } from '../ranges/range-runner.js';
import type { ColumnMapping } from '../schema/compare.js';
import { isCounterTable } from '../schema/table-schema.js';
import type { RangeJobSettings } from './job-settings.js';
import { JobProgress } from './progress.js';
import { columnMapping, refText, tableRef } from './range-job.js';
import { connectStateCluster, stateClusterConfig } from './run-store.js';
import { installStopSignal } from './stop-signal.js';
import { openTablePair, type TablePair, type TableRef } from './table-pair.js';
import { superviseWorkers } from './worker-parent.js';
import { stopWhenParentEnds } from './worker-processes.js';
import type { WorkerRole } from './worker-role.js';
import { WorkerShare } from './worker-share.js';

/** What migrate and diff have in hand once both clusters are connected and the schemas agree. */
export interface OpenedRangeJob {
  readonly originRef: TableRef;
  readonly targetRef: TableRef;
  readonly originConfig: ClusterConfig;
  readonly targetConfig: ClusterConfig;
  readonly mapping: ColumnMapping;
  readonly pair: TablePair;
  readonly counters: boolean;
  /** Where run state in Cassandra lives: the state cluster when one is configured, else Target. */
  readonly stateClient: CqlClient;
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
  readonly role?: WorkerRole;
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
  let stateClient: CqlClient;
  try {
    // Target keeps the state unless a state cluster of its own is configured.
    const config = stateClusterConfig(input.clusters);
    stateClient =
      settings.state_store === 'cassandra' && config.role === 'state'
        ? await connectStateCluster(config, input.logger)
        : pair.target;
  } catch (error) {
    await pair.close();
    throw error;
  }
  const stopSignal = installStopSignal(input.logger);
  if (input.role?.kind === 'child') stopWhenParentEnds();
  return {
    originRef,
    targetRef,
    originConfig,
    targetConfig,
    mapping,
    pair,
    counters,
    stateClient,
    stop: stopSignal.signal,
    async close() {
      stopSignal.dispose();
      if (stateClient !== pair.target) await stateClient.shutdown();
      await pair.close();
    },
  };
}

/**
 * Starts a session of a run: ranges a killed process left running, and failed ones, are pending
 * again. A worker started by a parent joins the parent's session as it is.
 */
export async function beginJobSession(
  store: RunState,
  logger: Logger,
  role: WorkerRole = { kind: 'alone' },
): Promise<RunRecord> {
  if (role.kind === 'child') return await store.run();
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
  /** Alone (the default), parent of workers, or a worker a parent started. */
  readonly role?: WorkerRole;
  /** The worker's share of the run's rate limits, kept to the number of live workers. */
  readonly share?: WorkerShare;
}): Promise<JobSessionResult> {
  const { store, settings, logger } = options;
  const role = options.role ?? { kind: 'alone' };
  const timing = leaseTiming(settings.lease_seconds);
  if (role.kind === 'child') return await workerSession(options, timing);
  const all = await store.ranges();
  const progress = new JobProgress({
    label: role.kind === 'parent' ? `${options.job} (${role.workers} workers)` : options.job,
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
  const unfollow = (options.share ?? new WorkerShare()).follow(store, timing, logger);
  let outcome: RangesOutcome;
  let parentRows: number | undefined;
  try {
    if (settings.metrics_port !== undefined)
      await metrics.serve(settings.metrics_address, settings.metrics_port, logger);
    if (role.kind === 'parent') {
      const supervised = await superviseWorkers({
        store,
        table: options.run.originTable,
        workers: role.workers,
        timing,
        stop: options.stop,
        logger,
        rowCounter: options.rowCounter,
        progress,
        metrics,
      });
      outcome = supervised;
      parentRows = supervised.sessionRows;
    } else
      outcome = await workRanges(options, timing, {
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
    unfollow();
    progress.stop();
    await metrics.close();
  }
  const seconds = (performance.now() - started) / 1000;
  // From the run's state, not this process's count: other workers may have failed ranges too (and
  // a parent whose workers all died counts the ranges they left as failed).
  const failed = outcome.stopped ? 0 : Math.max(outcome.failed, (await store.totals()).byStatus.failed);
  const status: RunStatus = outcome.stopped ? 'interrupted' : failed > 0 ? 'failed' : 'completed';
  await store.finishRun(status);
  return { outcome, status, seconds, sessionRows: parentRows ?? progress.sessionRows };
}

/** This process works the run's ranges with the job's worker, reporting commits and range ends to `hooks`. */
function workRanges(
  options: Parameters<typeof runJobSession>[0],
  timing: ReturnType<typeof leaseTiming>,
  hooks: Pick<Parameters<typeof runRanges>[0], 'onCommit' | 'onRangeEnd'>,
): Promise<RangesOutcome> {
  const { settings } = options;
  return runRanges({
    store: options.store,
    worker: options.worker,
    concurrency: settings.concurrency,
    maxAttempts: settings.max_attempts,
    retryDelayMs: settings.retry_delay_ms,
    stop: options.stop,
    logger: options.logger,
    timing,
    ...hooks,
  });
}

const sessionStatus = (outcome: RangesOutcome): RunStatus =>
  outcome.stopped ? 'interrupted' : outcome.failed > 0 ? 'failed' : 'completed';

/**
 * The session of a worker a parent started: it works ranges like a process alone, without a bar,
 * progress lines or metrics port (the parent shows the run's), and leaves the run's status to the parent.
 */
async function workerSession(
  options: Parameters<typeof runJobSession>[0],
  timing: ReturnType<typeof leaseTiming>,
): Promise<JobSessionResult> {
  const { store, logger } = options;
  const started = performance.now();
  let rows = 0;
  const unfollow = (options.share ?? new WorkerShare()).follow(store, timing, logger);
  let outcome: RangesOutcome;
  try {
    outcome = await workRanges(options, timing, {
      onCommit: (delta) => {
        rows += delta[options.rowCounter] ?? 0;
      },
    });
  } finally {
    unfollow();
  }
  const seconds = (performance.now() - started) / 1000;
  return { outcome, status: sessionStatus(outcome), seconds, sessionRows: rows };
}

/** The exit code of a worker a parent started: how it ended, for the parent's log. */
export const workerExitCode = (result: JobSessionResult): number =>
  result.outcome.stopped ? 130 : result.outcome.failed > 0 ? 1 : 0;

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
