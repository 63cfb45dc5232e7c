import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { CheckpointStore } from '../checkpoint/checkpoint-store.js';
import { DEFAULT_LEASE_SECONDS, leaseTiming } from '../checkpoint/lease.js';
import type { RunCatalog } from '../checkpoint/run-catalog.js';
import type { RunState } from '../checkpoint/run-state.js';
import { SqliteRunCatalog } from '../checkpoint/sqlite-run-catalog.js';
import { SqliteRunState } from '../checkpoint/sqlite-run-state.js';
import { consistencyCode } from '../connect/cluster-client.js';
import { describeError, OperatorError } from '../errors.js';
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
import { planRanges, refText, targetTableCql } from '../job/range-job.js';
import { runCatalogFor } from '../job/run-store.js';
import { openOrJoinRun } from '../job/worker-join.js';
import type { WorkerRole } from '../job/worker-role.js';
import { WorkerShare } from '../job/worker-share.js';
import type { Logger } from '../log/logger.js';
import { RateLimiter } from '../ranges/rate-limiter.js';
import { seededRandom, shuffled, type TokenRange } from '../ranges/token-ring.js';
import { listReconcilerFor } from '../write/list-reconciler.js';
import { writeSizesFor } from '../write/write-sizes.js';
import {
  type DiffEntry,
  type DiffLayout,
  diffLayout,
  entryWithout,
  layoutWithout,
  SideView,
} from './diff-entry.js';
import { Repairer } from './diff-repair.js';
import { DiffReport, isLimitation, readReport, reportPathFor } from './diff-report.js';
import { type DiffSettings, diffSemanticOptions, repairedKinds } from './diff-settings.js';
import { differencesRemaining } from './differences-remaining.js';
import { journalFields, logJournalSelection, selectFromJournal } from './journal-partitions.js';
import { readEntry } from './point-read.js';
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
  /** Alone (default), parent of `--workers N` processes, or one of them. */
  readonly role?: WorkerRole;
}

/** `--sample PCT`: a random PCT of the ranges (at least one), kept in ring order. */
export function sampleRanges(ranges: readonly TokenRange[], percent: number, seed: number): TokenRange[] {
  if (percent >= 100) return [...ranges];
  const count = Math.max(1, Math.round((ranges.length * percent) / 100));
  const chosen = new Set(shuffled(ranges, seededRandom(seed)).slice(0, count));
  return ranges.filter((r) => chosen.has(r));
}

/**
 * `--rerun <checkpoint>` (SQLite state: the checkpoint file; Cassandra state: the run id): the ranges
 * of an earlier diff run that had a difference in its report or did not complete (failed or
 * pending), so a review-then-repair pass reads only those.
 */
export async function rangesToRerun(
  rerun: string,
  originTable: string,
  catalog: RunCatalog,
  checkpointDir: string,
): Promise<TokenRange[]> {
  const sqlite = catalog instanceof SqliteRunCatalog;
  if (sqlite && !existsSync(rerun)) {
    throw new OperatorError(
      'RERUN_NOT_FOUND',
      `No checkpoint ${rerun}.`,
      'Pass the .sqlite file of an earlier diff run.',
    );
  }
  const store = sqlite
    ? new SqliteRunState(CheckpointStore.open(rerun), leaseTiming(DEFAULT_LEASE_SECONDS))
    : await catalog.open(rerun);
  try {
    const run = await store.run();
    if (run.job !== 'diff' || run.originTable !== originTable) {
      throw new OperatorError(
        'RERUN_OTHER_RUN',
        `${rerun} is the run of a ${run.job} of ${run.originTable}, not of a diff of ${originTable}.`,
        'Pass the checkpoint (or run id) printed as "checkpoint" in the summary of the diff to repeat.',
      );
    }
    const ranges = await store.ranges();
    const tokens = readReport(diffReportPath(store, checkpointDir))
      .filter((l) => l.repair !== 'corrected' && !isLimitation(l.kind))
      .map((l) => BigInt(l.key.token));
    return ranges
      .filter((r) => r.status !== 'done' || tokens.some((t) => t > r.start && t <= r.end))
      .map((r) => ({ start: r.start, end: r.end }));
  } finally {
    await store.close();
  }
}

/**
 * The diff report of a run: beside its checkpoint file, or for a run kept in Cassandra, named after
 * the run in the checkpoint directory (each worker writes the report of the pages it compared).
 */
export function diffReportPath(store: RunState, checkpointDir: string): string {
  return store.kind === 'sqlite'
    ? reportPathFor(store.location)
    : join(checkpointDir, `${store.runId}.diff.jsonl`);
}

/** `zdm diff`: compares a table on Origin and Target range by range. Returns the exit code. */
export async function runDiff(input: DiffInput): Promise<number> {
  const { job: settings, diff, logger } = input;
  const repair = repairedKinds(diff);
  const role = input.role ?? { kind: 'alone' };
  const opened = await openRangeJob(input);
  const { originRef, targetRef, originConfig, targetConfig, mapping, pair, counters } = opened;
  try {
    const layout = diffLayout(pair.originSchema, pair.targetSchema, mapping);
    const originView = new SideView('origin', pair.originSchema, layout);
    const targetView = new SideView('target', pair.targetSchema, layout);
    const identity = {
      job: 'diff' as const,
      originTable: refText(originRef),
      targetTable: refText(targetRef),
      options: { ...semanticOptions(settings), ...diffSemanticOptions(diff) },
    };
    if (diff.from_journal !== undefined && (diff.rerun !== undefined || diff.sample < 100)) {
      throw new OperatorError(
        'JOURNAL_WITH_OTHER_SELECTION',
        '--from-journal selects the partitions itself; it cannot be combined with --rerun or --sample.',
        'Drop --rerun / --sample, or run without --from-journal.',
      );
    }
    const journal =
      diff.from_journal === undefined ? undefined : selectFromJournal(diff.from_journal, pair.originSchema);
    if (journal !== undefined) logJournalSelection(journal, refText(originRef), logger);
    const catalog = await runCatalogFor(settings, logger, opened.stateClient);
    const plan = async (): Promise<TokenRange[]> => {
      if (journal !== undefined) return journal.ranges;
      if (diff.rerun !== undefined)
        return rangesToRerun(diff.rerun, refText(originRef), catalog, settings.checkpoint_dir);
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
    let run = await openOrJoinRun(role, {
      dir: settings.checkpoint_dir,
      identity,
      fresh: settings.fresh,
      planRanges: () => planned,
      logger,
      catalog,
    });
    // A validation is meant to be repeated: after a completed diff, the same command starts a new one.
    if (run.alreadyCompleted) {
      await run.store.close();
      run = await openOrJoinRun(role, {
        dir: settings.checkpoint_dir,
        identity,
        fresh: true,
        planRanges: () => planned,
        logger,
        catalog,
      });
    }
    const { store } = run;
    const report = new DiffReport(diffReportPath(store, settings.checkpoint_dir), {
      repairCutLine: role.kind !== 'child',
      shared: store.reportLines,
    });
    try {
      const runRecord = await beginJobSession(store, logger, role);
      const share = new WorkerShare(role.kind === 'child' ? role.workers : 1);
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
      const writeConsistency = consistencyCode(targetConfig.writeConsistency);
      // Repairs go through migrate's Target writer: its batching, TTL ageing and the Target rate
      // limit, which throttles these writes only (Target's reads are not rate limited).
      const writeSlots = pLimit(settings.write_concurrency);
      const written = [...layout.statics, ...layout.regulars].map((c) => ({
        column: c.origin,
        targetName: c.target.name,
      }));
      const writer = {
        target: pair.target,
        table: writeTarget,
        consistency: writeConsistency,
        limiter: share.limiter(settings.target_rate_limit),
        slots: writeSlots,
        sizes: writeSizesFor(pair.originSchema, written),
        lists: listReconcilerFor({
          origin: pair.origin,
          target: pair.target,
          originSchema: pair.originSchema,
          writeTarget,
          columns: written,
          readConsistency: originConsistency,
          writeConsistency,
          slots: writeSlots,
          appendsInFlight: false,
        }),
      };
      const rereadTarget = (key: DiffEntry) => readEntry(targetView, pair.target, targetConsistency, key);
      const repairerFor = (
        repairLayout: DiffLayout,
        reread: (key: DiffEntry) => Promise<DiffEntry | undefined>,
      ) =>
        new Repairer({
          writer,
          layout: repairLayout,
          plan: {
            writetimeMin: settings.writetime_min,
            writetimeMax: settings.writetime_max,
            fallbackTimestamp: runRecord.runTimestamp,
            userTypes: pair.originSchema.userTypes,
          },
          compare,
          counters,
          reread,
        });
      const repairer = repairerFor(layout, rereadTarget);
      // Repairs of rows that also hold a documented limitation leave those columns alone.
      const repairerWithout = (columns: ReadonlySet<string>) =>
        repairerFor(layoutWithout(layout, columns), async (key) => {
          const entry = await rereadTarget(key);
          return entry === undefined ? undefined : entryWithout(layout, entry, columns);
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
        originLimiter: share.limiter(settings.origin_rate_limit),
        targetLimiter: new RateLimiter(0),
        compare,
        recheckDelayMs: diff.recheck_delay_ms,
        repair,
        repairer,
        repairerWithout,
        report,
        tables: { origin: refText(originRef), target: refText(targetRef) },
        runTimestamp: runRecord.runTimestamp,
        logger,
      });
      const result = await runJobSession({
        job: 'diff',
        store,
        run: runRecord,
        worker,
        settings,
        stop: opened.stop,
        logger,
        tty: input.tty,
        rowCounter: 'rowsCompared',
        role,
        share,
      });
      if (role.kind === 'child') return workerExitCode(result);
      await mergeOtherMachinesLines(report, logger);
      const { outcome, status } = result;
      const { counts, byStatus } = await store.totals();
      const n = (k: string) => counts[k] ?? 0;
      const remaining = differencesRemaining(counts);
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
          // Documented limitations of migrate (README): reported, never repaired, not differences.
          'list writetimes (documented)': n('listWritetimes'),
          skipped: n('rowsSkipped'),
          'ranges done': byStatus.done,
          'ranges failed': byStatus.failed,
          'ranges pending': byStatus.pending,
          ...(journal === undefined ? {} : journalFields(journal)),
          ...sessionFields(result),
          report: report.path,
          checkpoint: store.location,
        },
        settings.json,
      );
      await reportFailedRanges(store);
      if (outcome.stopped) return DIFF_EXIT.interrupted;
      if (outcome.failed > 0) return DIFF_EXIT.failed;
      // Writes of the table whose partition the journal could not name may differ anywhere in it.
      const unvalidated = journal !== undefined && journal.plan.unkeyed.length > 0;
      return remaining > 0 || unvalidated ? DIFF_EXIT.differences : DIFF_EXIT.clean;
    } finally {
      report.close();
      await store.close();
    }
  } finally {
    await opened.close();
  }
}

/**
 * Completes this machine's report with the lines other machines of the run found (run state in
 * Cassandra). Not fatal: the lines stay in the run state, and the summary counts are the whole run's.
 */
async function mergeOtherMachinesLines(report: DiffReport, logger: Logger): Promise<void> {
  try {
    const added = await report.mergeShared();
    if (added > 0)
      logger.info({ lines: added, report: report.path }, 'report lines other machines found added');
  } catch (error) {
    logger.warn(
      { err: describeError(error), report: report.path },
      'could not read the report lines other machines saved in the run state; this report holds only the lines found here',
    );
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
