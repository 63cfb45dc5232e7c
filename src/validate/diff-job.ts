import { existsSync } from 'node:fs';
import { CheckpointStore } from '../checkpoint/checkpoint-store.js';
import { clusterConfig } from '../config/cluster-settings.js';
import { consistencyCode } from '../connect/cluster-client.js';
import { describeError, OperatorError } from '../errors.js';
import { openOrCreateRun } from '../job/job-run.js';
import type { RangeJobSettings } from '../job/job-settings.js';
import { semanticOptions } from '../job/job-settings.js';
import { JobProgress, printSummary } from '../job/progress.js';
import { columnMapping, planRanges, refText, tableRef, targetTableCql } from '../job/range-job.js';
import { installStopSignal } from '../job/stop-signal.js';
import { openTablePair } from '../job/table-pair.js';
import type { Logger } from '../log/logger.js';
import { JobMetrics } from '../metrics/job-metrics.js';
import { runRanges } from '../ranges/range-runner.js';
import { RateLimiter } from '../ranges/rate-limiter.js';
import { seededRandom, shuffled, type TokenRange } from '../ranges/token-ring.js';
import { isCounterTable } from '../schema/table-schema.js';
import { type DiffEntry, diffLayout, SideView } from './diff-entry.js';
import { Repairer } from './diff-repair.js';
import { DiffReport, readReport, reportPathFor } from './diff-report.js';
import { type DiffSettings, diffSemanticOptions, repairedKinds } from './diff-settings.js';
import { diffRangeWorker } from './range-differ.js';

/** Exit codes of `zdm diff`, stable for scripts. */
export const DIFF_EXIT = {
  /** Every range compared and no difference remains (none found, or all corrected). */
  clean: 0,
  /** Differences remain (reported, superseded or not repaired). */
  differences: 1,
  /** The run failed: bad input, unreachable cluster, or ranges that could not be compared. */
  failed: 2,
  schemaMismatch: 3,
  interrupted: 130,
} as const;

export interface DiffInput {
  readonly table: string;
  readonly clusters: Readonly<Record<string, unknown>>;
  readonly job: RangeJobSettings;
  readonly diff: DiffSettings;
  readonly logger: Logger;
  readonly tty: boolean;
}

/** `--sample PCT`: a random PCT of the ranges (at least one), kept in ring order. */
export function sampleRanges(ranges: readonly TokenRange[], percent: number, seed: number): TokenRange[] {
  if (percent >= 100) return [...ranges];
  const count = Math.max(1, Math.round((ranges.length * percent) / 100));
  const chosen = new Set(shuffled(ranges, seededRandom(seed)).slice(0, count));
  return ranges.filter((r) => chosen.has(r));
}

/**
 * `--rerun <checkpoint>`: the ranges of an earlier diff run that had a difference in its report or
 * did not complete (failed or pending), so a review-then-repair pass reads only those.
 */
export function rangesToRerun(checkpoint: string, originTable: string): TokenRange[] {
  if (!existsSync(checkpoint)) {
    throw new OperatorError(
      'RERUN_NOT_FOUND',
      `No checkpoint ${checkpoint}.`,
      'Pass the .sqlite file of an earlier diff run.',
    );
  }
  const store = CheckpointStore.open(checkpoint);
  try {
    const run = store.run();
    if (run.job !== 'diff' || run.originTable !== originTable) {
      throw new OperatorError(
        'RERUN_OTHER_RUN',
        `${checkpoint} is the checkpoint of a ${run.job} of ${run.originTable}, not of a diff of ${originTable}.`,
        'Pass the .sqlite file printed as "checkpoint" in the summary of the diff to repeat.',
      );
    }
    const ranges = store.ranges();
    const tokens = readReport(reportPathFor(checkpoint))
      .filter((l) => l.repair !== 'corrected')
      .map((l) => BigInt(l.key.token));
    return ranges
      .filter((r) => r.status !== 'done' || tokens.some((t) => t > r.start && t <= r.end))
      .map((r) => ({ start: r.start, end: r.end }));
  } finally {
    store.close();
  }
}

/** `zdm diff`: compares a table on Origin and Target range by range. Returns the exit code. */
export async function runDiff(input: DiffInput): Promise<number> {
  const { job: settings, diff, logger } = input;
  const originRef = tableRef(input.table, 'Table');
  const targetRef =
    settings.target_table === undefined ? originRef : tableRef(settings.target_table, 'Target table');
  const originConfig = clusterConfig(input.clusters, 'origin');
  const targetConfig = clusterConfig(input.clusters, 'target');
  const mapping = columnMapping(settings);
  const repair = repairedKinds(diff);
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
    const layout = diffLayout(pair.originSchema, pair.targetSchema, mapping);
    const originView = new SideView('origin', pair.originSchema, layout);
    const targetView = new SideView('target', pair.targetSchema, layout);
    const identity = {
      job: 'diff' as const,
      originTable: refText(originRef),
      targetTable: refText(targetRef),
      options: { ...semanticOptions(settings), ...diffSemanticOptions(diff) },
    };
    const plan = async (): Promise<TokenRange[]> => {
      if (diff.rerun !== undefined) return rangesToRerun(diff.rerun, refText(originRef));
      const { ranges } = await planRanges(pair, settings);
      return sampleRanges(ranges, diff.sample, Date.now() % 2 ** 31);
    };
    const planned = await plan();
    if (settings.dry_run) {
      printSummary(
        'Diff plan (dry run: nothing read or written)',
        {
          origin: refText(originRef),
          target: refText(targetRef),
          'token ranges': planned.length,
          'origin read': originView.rangeQuery(settings.where),
          'target read': targetView.rangeQuery(settings.where),
          autocorrect: [...repair].join(', ') || 'off',
          'checkpoint dir': settings.checkpoint_dir,
        },
        settings.json,
      );
      return DIFF_EXIT.clean;
    }
    let run = openOrCreateRun({
      dir: settings.checkpoint_dir,
      identity,
      fresh: settings.fresh,
      planRanges: () => planned,
      logger,
    });
    // A validation is meant to be repeated: after a completed diff, the same command starts a new one.
    if (run.alreadyCompleted) {
      run.store.close();
      run = openOrCreateRun({
        dir: settings.checkpoint_dir,
        identity,
        fresh: true,
        planRanges: () => planned,
        logger,
      });
    }
    const { store } = run;
    const report = new DiffReport(reportPathFor(store.path));
    try {
      store.beginSession();
      const retried = store.resetFailed();
      if (retried > 0) logger.info({ ranges: retried }, 'retrying ranges that failed in an earlier session');
      const runRecord = store.run();
      const writeTarget = {
        tableCql: targetTableCql(targetRef),
        partitionKey: layout.partitionKey.map((c) => c.target.name),
        clustering: layout.clustering.map((c) => c.target.name),
      };
      const compare = {
        writetime: !diff.no_writetime,
        ttl: !diff.no_ttl,
        ttlToleranceS: diff.ttl_tolerance,
        writetimeMin: settings.writetime_min,
        writetimeMax: settings.writetime_max,
        userTypes: pair.originSchema.userTypes,
      };
      const originConsistency = consistencyCode(originConfig.readConsistency);
      const targetConsistency = consistencyCode(targetConfig.readConsistency);
      const rereadTarget = async (key: DiffEntry) => {
        const withClustering = key.clustering !== undefined;
        const result = await pair.target.execute(
          targetView.pointQuery(withClustering),
          [...key.partition, ...(key.clustering ?? [])],
          { prepare: true, consistency: targetConsistency },
        );
        for (const e of targetView.entries(result.rows, { key: undefined })) {
          if ((e.clustering === undefined) === !withClustering) return e;
        }
        return undefined;
      };
      const repairer = new Repairer({
        target: pair.target,
        layout,
        writeTarget,
        plan: {
          writetimeMin: settings.writetime_min,
          writetimeMax: settings.writetime_max,
          fallbackTimestamp: runRecord.runTimestamp,
          userTypes: pair.originSchema.userTypes,
        },
        writeConsistency: consistencyCode(targetConfig.writeConsistency),
        compare,
        counters,
        reread: rereadTarget,
      });
      const worker = diffRangeWorker({
        origin: pair.origin,
        target: pair.target,
        layout,
        originView,
        targetView,
        where: settings.where,
        fetchSize: settings.fetch_size,
        originConsistency,
        targetConsistency,
        originLimiter: new RateLimiter(settings.origin_rate_limit),
        targetLimiter: new RateLimiter(settings.target_rate_limit),
        compare,
        recheckDelayMs: diff.recheck_delay_ms,
        repair,
        repairer,
        report,
        tables: { origin: refText(originRef), target: refText(targetRef) },
        runTimestamp: runRecord.runTimestamp,
        logger,
      });
      const all = store.ranges();
      const progress = new JobProgress({
        label: 'diff',
        totalRanges: all.length,
        doneRanges: all.filter((r) => r.status === 'done').length,
        rowCounter: 'rowsCompared',
        logger,
        tty: input.tty,
        intervalS: settings.progress_interval_s,
      });
      const metrics = new JobMetrics('diff');
      metrics.setRangeCount(all.length);
      if (settings.metrics_port !== undefined)
        await metrics.serve(settings.metrics_address, settings.metrics_port, logger);
      const started = performance.now();
      let outcome: Awaited<ReturnType<typeof runRanges>>;
      try {
        outcome = await runRanges({
          store,
          worker,
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
      const n = (k: string) => counts[k] ?? 0;
      const remaining = n('missing') + n('extra') + n('mismatched') - n('corrected');
      printSummary(
        `Diff ${refText(originRef)} (Origin) ↔ ${refText(targetRef)} (Target): ${status}`,
        {
          'rows compared': n('rowsCompared'),
          'rows equal': n('rowsEqual'),
          missing: n('missing'),
          extra: n('extra'),
          mismatched: n('mismatched'),
          corrected: n('corrected'),
          superseded: n('superseded'),
          'repair failed': n('repairFailed'),
          'differences remaining': remaining,
          'transient (gone on recheck)': n('transient'),
          skipped: n('rowsSkipped'),
          'ranges done': byStatus.done,
          'ranges failed': byStatus.failed,
          'ranges pending': byStatus.pending,
          'this session seconds': Number(seconds.toFixed(1)),
          'this session rows/s': Math.round(progress.sessionRows / Math.max(seconds, 0.001)),
          'peak RSS MB': Math.round(process.resourceUsage().maxRSS / 1024),
          report: report.path,
          checkpoint: store.path,
        },
        settings.json,
      );
      const failedRanges = store.ranges('failed');
      for (const r of failedRanges.slice(0, 20)) {
        process.stderr.write(
          `failed range ${r.id} (${r.start}, ${r.end}] after ${r.attempts} attempts: ${r.lastError}\n`,
        );
      }
      if (outcome.stopped) return DIFF_EXIT.interrupted;
      if (outcome.failed > 0) return DIFF_EXIT.failed;
      return remaining > 0 ? DIFF_EXIT.differences : DIFF_EXIT.clean;
    } finally {
      report.close();
      store.close();
    }
  } finally {
    stopSignal.dispose();
    await pair.close();
  }
}

/** Any unexpected error of a diff is a failed run (exit 2), never confused with "differences found". */
export function asRunFailure(error: unknown): unknown {
  if (error instanceof OperatorError) return error;
  return new OperatorError(
    'DIFF_FAILED',
    `The diff failed: ${describeError(error)}`,
    'Rerun with ZDM_DEBUG=1 for details; the run resumes where it stopped.',
    {
      cause: error,
      exitCode: DIFF_EXIT.failed,
    },
  );
}
