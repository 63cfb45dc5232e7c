import { CheckpointStore, IN_MEMORY } from '../checkpoint/checkpoint-store.js';
import { leaseTiming } from '../checkpoint/lease.js';
import type { RunState } from '../checkpoint/run-state.js';
import { SqliteRunState } from '../checkpoint/sqlite-run-state.js';
import { clusterConfig } from '../config/cluster-settings.js';
import { type CqlClient, connectCluster, consistencyCode } from '../connect/cluster-client.js';
import { describeError, OperatorError } from '../errors.js';
import {
  beginJobSession,
  type JobSessionResult,
  reportFailedRanges,
  runJobSession,
  sessionFields,
} from '../job/job-session.js';
import { printSummary } from '../job/progress.js';
import { planRanges, refText, tableRef } from '../job/range-job.js';
import { installStopSignal } from '../job/stop-signal.js';
import { assertClusterConfigs } from '../job/table-pair.js';
import type { Logger } from '../log/logger.js';
import { RateLimiter } from '../ranges/rate-limiter.js';
import type { TokenRange } from '../ranges/token-ring.js';
import { readTableSchema } from '../schema/introspect.js';
import type { TableSchema } from '../schema/table-schema.js';
import { findingsTable, WorstFindings } from './findings-table.js';
import { GuardrailReport, reportLine } from './guardrail-report.js';
import {
  asRangeJobSettings,
  type GuardrailRunSettings,
  type GuardrailSettings,
  guardrailLimits,
} from './guardrail-settings.js';
import type { CheckName, GuardrailLimits } from './limits.js';
import type { MeasuredPartition } from './partition-meter.js';
import { scanRangeWorker } from './range-scanner.js';

/** Exit codes of `zdm guardrail`, stable for scripts. */
export const GUARDRAIL_EXIT = {
  /** Every range read; nothing over a threshold or a Target limit. */
  clean: 0,
  /** Findings: something Target will refuse, or over a threshold. */
  findings: 1,
  /** Bad input, unreachable cluster, or ranges that could not be read (the scan is incomplete). */
  failed: 2,
  interrupted: 130,
} as const;

/** Findings listed on a terminal; the report file has them all. */
const SHOWN_FINDINGS = 50;

export interface GuardrailInput {
  readonly table: string;
  /** Resolved settings holding the origin_* keys. */
  readonly clusters: Readonly<Record<string, unknown>>;
  readonly run: GuardrailRunSettings;
  readonly guardrail: GuardrailSettings;
  readonly logger: Logger;
  readonly tty: boolean;
}

/** Where the findings of a scan go: every one to the report, the worst to the screen, counts by check. */
class FindingsSink {
  readonly worst = new WorstFindings(SHOWN_FINDINGS);
  readonly byCheck = new Map<CheckName, number>();

  constructor(
    private readonly schema: TableSchema,
    readonly report: GuardrailReport,
  ) {}

  take(partitions: readonly MeasuredPartition[]): void {
    for (const finding of partitions.flatMap((p) => p.findings)) {
      const line = reportLine(this.schema, finding);
      this.report.append(line);
      this.worst.add(line);
      this.byCheck.set(finding.check, (this.byCheck.get(finding.check) ?? 0) + 1);
    }
  }
}

/** The scan's range state, in memory: a guardrail run keeps no checkpoint, a rerun reads the table again. */
function memoryRun(
  table: string,
  limits: GuardrailLimits,
  ranges: readonly TokenRange[],
  now: Date,
  leaseSeconds: number,
): RunState {
  const store = CheckpointStore.create(
    IN_MEMORY,
    {
      job: 'guardrail',
      originTable: table,
      targetTable: table,
      options: JSON.stringify(limits),
      startedAt: now.getTime(),
      runTimestamp: BigInt(now.getTime()) * 1000n,
    },
    ranges,
  );
  return new SqliteRunState(store, leaseTiming(leaseSeconds));
}

/**
 * `zdm guardrail`: reads a table of Origin over token ranges and lists what is over the operator's
 * thresholds or Target's limits, before a migration meets it. Reads only Origin; returns the exit code.
 */
export async function runGuardrail(input: GuardrailInput): Promise<number> {
  const { run: settings, logger } = input;
  const ref = tableRef(input.table, 'Table');
  const originConfig = clusterConfig(input.clusters, 'origin');
  assertClusterConfigs(originConfig);
  const limits = guardrailLimits(input.guardrail);
  const origin = await connectCluster(originConfig, logger, { connectionsPerHost: 2 });
  const stopSignal = installStopSignal(logger);
  try {
    const schema = await readTableSchema(origin, ref.keyspace, ref.table, 'Origin');
    const jobSettings = asRangeJobSettings(settings);
    const { ranges } = await planRanges({ origin, originSchema: schema }, jobSettings);
    const now = new Date();
    const sink = new FindingsSink(
      schema,
      GuardrailReport.create(input.guardrail.report_dir, refText(ref), now),
    );
    const store = memoryRun(refText(ref), limits, ranges, now, jobSettings.lease_seconds);
    try {
      const result = await runJobSession({
        job: 'guardrail',
        store,
        run: await beginJobSession(store, logger),
        worker: scanRangeWorker({
          origin,
          schema,
          limits,
          fetchSize: settings.fetch_size,
          consistency: consistencyCode(originConfig.readConsistency),
          limiter: new RateLimiter(settings.origin_rate_limit),
          onPartitions: (partitions) => sink.take(partitions),
        }),
        settings: jobSettings,
        stop: stopSignal.signal,
        logger,
        tty: input.tty,
        rowCounter: 'rowsRead',
      });
      await printOutcome(
        `Guardrail ${refText(ref)} (Origin): ${result.status}`,
        store,
        sink,
        result,
        settings.json,
      );
      if (result.outcome.stopped) return GUARDRAIL_EXIT.interrupted;
      if (result.outcome.failed > 0) return GUARDRAIL_EXIT.failed;
      return sink.worst.total > 0 ? GUARDRAIL_EXIT.findings : GUARDRAIL_EXIT.clean;
    } finally {
      sink.report.close();
      await store.close();
    }
  } finally {
    stopSignal.dispose();
    await shutdown(origin);
  }
}

/** The worst findings as a table (not with --json), the summary, and any failed ranges on stderr. */
async function printOutcome(
  title: string,
  store: RunState,
  sink: FindingsSink,
  result: JobSessionResult,
  json: boolean,
): Promise<void> {
  const { worst, report } = sink;
  if (!json && worst.total > 0) {
    process.stdout.write(`${findingsTable(worst.worst())}\n`);
    if (worst.total > SHOWN_FINDINGS)
      process.stdout.write(`… and ${worst.total - SHOWN_FINDINGS} more in ${report.path}\n`);
    process.stdout.write('\n');
  }
  const { counts, byStatus } = await store.totals();
  const n = (k: string) => counts[k] ?? 0;
  printSummary(
    title,
    {
      'partitions read': n('partitions'),
      'rows read': n('rowsRead'),
      'refused by Target': n('refused'),
      'over thresholds': n('overThreshold'),
      ...Object.fromEntries([...sink.byCheck].sort(([a], [b]) => a.localeCompare(b))),
      'ranges done': byStatus.done,
      'ranges failed': byStatus.failed,
      'ranges pending': byStatus.pending,
      ...sessionFields(result),
      report: report.path,
    },
    json,
  );
  await reportFailedRanges(store);
}

const shutdown = (client: CqlClient) => client.shutdown().catch(() => undefined);

/** Any unexpected error is a failed scan (exit 2), never confused with "findings" (exit 1). */
export function asScanFailure(error: unknown): unknown {
  if (error instanceof OperatorError) return error;
  return new OperatorError(
    'GUARDRAIL_FAILED',
    `The guardrail scan failed: ${describeError(error)}`,
    'Rerun with ZDM_DEBUG=1 for details.',
    { cause: error, exitCode: GUARDRAIL_EXIT.failed },
  );
}
