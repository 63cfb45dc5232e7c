import { hostname } from 'node:os';
import type { LeaseTiming } from '../checkpoint/lease.js';
import type { Counts, RunState, RunTotals } from '../checkpoint/run-state.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { JobMetrics } from '../metrics/job-metrics.js';
import type { RangesOutcome } from '../ranges/range-runner.js';
import type { JobProgress } from './progress.js';
import { startWorkerProcess, type WorkerExit, type WorkerProcess } from './worker-processes.js';

/** How a worker's end is told in the parent's log. */
export function describeWorkerExit(exit: WorkerExit): { readonly normal: boolean; readonly text: string } {
  if (exit.signal !== null) return { normal: false, text: `killed by ${exit.signal}` };
  if (exit.code === 0) return { normal: true, text: 'finished: no range left to take' };
  if (exit.code === 130) return { normal: true, text: 'stopped after saving its pages' };
  if (exit.code === 1) return { normal: true, text: 'finished with failed ranges' };
  return { normal: false, text: `exited with code ${exit.code ?? 'unknown'}` };
}

/** Counter differences between two totals of a run (what the workers added in between). */
export function countsAdded(before: Counts, after: Counts): Counts {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) {
    const d = v - (before[k] ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
}

/** Whether the run's state leaves nothing to work: every range done or failed. */
export const nothingLeft = (totals: RunTotals): boolean =>
  totals.byStatus.pending === 0 && totals.byStatus.running === 0;

/**
 * How a session run by workers ended, from the state after the last worker ended. Ranges left
 * unfinished with no stop asked for (every worker died) count as failed, so the command exits as it
 * does for failed ranges and a rerun resumes them.
 */
export function workersOutcome(
  start: RunTotals,
  end: RunTotals,
  stopAsked: boolean,
): RangesOutcome & { readonly unfinished: number } {
  const unfinished = end.byStatus.pending + end.byStatus.running;
  return {
    done: end.byStatus.done - start.byStatus.done,
    failed: end.byStatus.failed + (stopAsked ? 0 : unfinished),
    stopped: stopAsked && unfinished > 0,
    unfinished,
  };
}

export interface SuperviseOptions {
  readonly store: RunState;
  readonly table: string;
  readonly workers: number;
  readonly timing: LeaseTiming;
  readonly stop: AbortSignal;
  readonly logger: Logger;
  readonly rowCounter: string;
  readonly progress: JobProgress;
  readonly metrics: JobMetrics;
}

/**
 * The session of a process that started workers (`--workers N`): N worker processes join the run and
 * work it; this process shows the run's progress from its state, passes a stop on (one SIGTERM to
 * each), and watches them. A worker that dies leaves its ranges to the others (they take them when
 * its leases expire); one whose heartbeat stopped for three leases (hung) is killed, since its ranges
 * went to the others long ago; once nothing is left to work, workers still running after a lease are
 * killed too. Ends when every worker has ended.
 */
export async function superviseWorkers(
  options: SuperviseOptions,
): Promise<RangesOutcome & { sessionRows: number }> {
  const { store, logger, timing } = options;
  const start = await store.totals();
  const processes: WorkerProcess[] = [];
  for (let index = 1; index <= options.workers; index++) {
    const worker = startWorkerProcess(
      { runId: store.runId, table: options.table, index, workers: options.workers },
      logger,
    );
    processes.push(worker);
    logger.info({ worker: index, workerPid: worker.pid }, `started worker ${index} of ${options.workers}`);
  }
  const ended = Promise.all(
    processes.map(async (w) => {
      const exit = await w.exited;
      const { normal, text } = describeWorkerExit(exit);
      if (normal) logger.info({ worker: w.index, workerPid: w.pid }, `worker ${w.index} ${text}`);
      else
        logger.warn(
          { worker: w.index, workerPid: w.pid },
          `worker ${w.index} ${text}; the other workers take its ranges when its leases expire`,
        );
    }),
  );
  const stopAll = () => {
    for (const w of processes) if (w.running()) w.kill('SIGTERM');
  };
  options.stop.addEventListener('abort', stopAll, { once: true });

  let last = start;
  let idleSince: number | undefined;
  const host = hostname();
  const look = async (): Promise<void> => {
    const totals = await store.totals();
    options.metrics.onCommit(countsAdded(last.counts, totals.counts));
    options.metrics.setRanges(
      Object.values(totals.byStatus).reduce((a, b) => a + b, 0),
      totals.byStatus.done,
    );
    last = totals;
    options.progress.observe({
      sessionRows: (totals.counts[options.rowCounter] ?? 0) - (start.counts[options.rowCounter] ?? 0),
      doneRanges: totals.byStatus.done,
      failedRanges: totals.byStatus.failed,
    });
    const now = Date.now();
    const records = await store.workers();
    for (const w of processes) {
      if (!w.running()) continue;
      const record = records.find((r) => r.host === host && r.pid === w.pid);
      if (record !== undefined && record.heartbeat < now - 3 * timing.leaseMs) {
        logger.warn(
          { worker: w.index, workerPid: w.pid, silentSeconds: Math.round((now - record.heartbeat) / 1000) },
          `worker ${w.index} has not renewed its leases for three leases (hung); killing it`,
        );
        w.kill('SIGKILL');
      }
    }
    if (!nothingLeft(totals)) {
      idleSince = undefined;
      return;
    }
    idleSince ??= now;
    if (now - idleSince > Math.max(5000, timing.leaseMs)) {
      for (const w of processes.filter((p) => p.running())) {
        logger.warn(
          { worker: w.index, workerPid: w.pid },
          `worker ${w.index} is still running although no range is left; killing it`,
        );
        w.kill('SIGKILL');
      }
    }
  };

  let watching = true;
  const watch = (async () => {
    while (watching) {
      try {
        await look();
      } catch (error) {
        logger.warn({ error: describeError(error) }, 'could not read the run state; trying again');
      }
      await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, 1000))]);
    }
  })();
  await ended;
  watching = false;
  await watch;
  options.stop.removeEventListener('abort', stopAll);

  const end = await store.totals();
  options.metrics.onCommit(countsAdded(last.counts, end.counts));
  const outcome = workersOutcome(start, end, options.stop.aborted);
  if (outcome.unfinished > 0 && !options.stop.aborted)
    logger.error(
      { unfinishedRanges: outcome.unfinished },
      `every worker has ended with ${outcome.unfinished} range(s) unfinished; run the same command again to resume them`,
    );
  return {
    done: outcome.done,
    failed: outcome.failed,
    stopped: outcome.stopped,
    sessionRows: (end.counts[options.rowCounter] ?? 0) - (start.counts[options.rowCounter] ?? 0),
  };
}
