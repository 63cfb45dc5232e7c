import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { awaitsLease, type LeaseTiming, leaseDeadline, leaseValid } from '../checkpoint/lease.js';
import {
  type ClaimedRange,
  type Counts,
  LeaseLost,
  type RangeLease,
  type RangeRecord,
  type RunState,
  type WorkerIdentity,
} from '../checkpoint/run-state.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log/logger.js';

export interface RangeWorkContext {
  readonly range: RangeRecord;
  /** Aborted when the operator asked to stop: finish the page in hand, commit, and return 'stopped'. */
  readonly stop: AbortSignal;
  /** Saves a fully processed page: counters and the position to resume from (fenced by the lease). */
  commit(resumeState: string | undefined, delta: Counts): Promise<void>;
  /**
   * Throws LeaseLost unless this worker's lease on the range is still valid by its local clock.
   * Called right before a page's (or a counter row's) Target writes: a worker that was paused past
   * its lease then stops before writing what the range's new owner writes too.
   */
  assertLease(): void;
}

/** Processes one token range from `range.resumeState` on; throws to fail the attempt. */
export type RangeWorker = (context: RangeWorkContext) => Promise<'done' | 'stopped'>;

export interface RunRangesOptions {
  readonly store: RunState;
  readonly worker: RangeWorker;
  readonly concurrency: number;
  /** Attempts per range in this session before it is marked failed. */
  readonly maxAttempts: number;
  /** First retry delay; doubles on each further attempt. */
  readonly retryDelayMs: number;
  readonly stop: AbortSignal;
  readonly logger: Logger;
  readonly timing: LeaseTiming;
  /** Who this process is among the run's workers; a new identity by default. */
  readonly identity?: WorkerIdentity;
  readonly onRangeEnd?: (range: RangeRecord) => void;
  readonly onCommit?: (delta: Counts) => void;
}

export interface RangesOutcome {
  readonly done: number;
  readonly failed: number;
  readonly stopped: boolean;
}

const sleep = (ms: number, stop: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (stop.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      stop.removeEventListener('abort', done);
      resolve();
    }
    stop.addEventListener('abort', done, { once: true });
  });

/** A new worker identity for this process: host, pid and a random part (a process may run several). */
export function newWorkerIdentity(): WorkerIdentity {
  const host = hostname();
  return { id: `${host}/${process.pid}/${randomBytes(3).toString('hex')}`, host, pid: process.pid };
}

/**
 * The resume position saved with a range's last page (a commit without a next position): the range
 * is read to its end. Without it, a worker killed between that commit and marking the range done
 * would leave no position, and the range would be read (and counted) again from its start.
 */
export const READ_TO_THE_END = '\u0000read to the end';

/** Failures in a row of the state store, while claiming, before a slot gives up. */
const STATE_ERRORS_TOLERATED = 5;

/** A lease this worker holds, with its local deadline. */
interface Held {
  readonly lease: RangeLease;
  deadline: number;
  lost: boolean;
}

/**
 * The token-range engine shared by migrate, diff and guardrail: `concurrency` slots each claim the
 * next claimable range from the run's state, work it, and claim again, until nothing is claimable and
 * no other worker holds a live lease (a slot waits for those: their ranges end, or their leases expire
 * and are claimed here). Leases are renewed in the background; a range whose lease is lost is
 * abandoned, never marked failed. Failures are retried with exponential backoff within the lease; a
 * failed range does not stop the others, the caller reports failures at the end.
 */
export async function runRanges(options: RunRangesOptions): Promise<RangesOutcome> {
  const { store, logger, timing } = options;
  const me = options.identity ?? newWorkerIdentity();
  const held = new Map<number, Held>();
  let done = 0;
  let failed = 0;

  let renewal: Promise<void> | undefined;
  const renew = async (): Promise<void> => {
    const holding = [...held.values()];
    const sentAt = Date.now();
    try {
      const gone = await store.renewLeases(
        me.id,
        holding.map((h) => h.lease),
      );
      for (const h of holding) {
        if (gone.some((g) => g.rangeId === h.lease.rangeId)) h.lost = true;
        else h.deadline = leaseDeadline(sentAt, timing);
      }
    } catch (error) {
      // Deadlines stay where they were: if renewals keep failing, the ranges stop writing in time.
      logger.warn({ error: describeError(error) }, 'could not renew range leases; retrying');
    }
  };
  const timer = setInterval(() => {
    renewal ??= renew().finally(() => {
      renewal = undefined;
    });
  }, timing.renewEveryMs);

  /** Gives up a lease without failing the range; the store may already name another owner. */
  const abandon = async (lease: RangeLease, why: string): Promise<void> => {
    logger.warn({ range: lease.rangeId, why }, 'lease on range lost; leaving the range to its new owner');
    try {
      await store.finishRange(lease, 'pending', why);
    } catch {
      // Not ours any more (or the state is unreachable): the lease expires by itself.
    }
  };

  const workClaimed = async ({ range: claimed, lease }: ClaimedRange, h: Held): Promise<void> => {
    let range = claimed;
    for (let attempt = 1; ; attempt++) {
      if (options.stop.aborted) {
        await store.finishRange(lease, 'pending');
        return;
      }
      if (attempt > 1) {
        await store.startAttempt(lease);
        range = await store.range(lease.rangeId);
      }
      if (range.resumeState === READ_TO_THE_END) {
        // Its last page was saved, then its worker stopped before marking it done: nothing to read.
        await store.finishRange(lease, 'done');
        done++;
        options.onRangeEnd?.(await store.range(lease.rangeId));
        return;
      }
      try {
        const outcome = await options.worker({
          range,
          stop: options.stop,
          commit: async (resumeState, delta) => {
            await store.savePage(lease, resumeState ?? READ_TO_THE_END, delta);
            options.onCommit?.(delta);
          },
          assertLease: () => {
            if (!leaseValid(h.deadline, h.lost, Date.now()))
              throw new LeaseLost(lease.rangeId, h.lost ? 'renewal refused' : 'not renewed in time');
          },
        });
        if (outcome === 'stopped') {
          await store.finishRange(lease, 'pending');
          return;
        }
        await store.finishRange(lease, 'done');
        done++;
        options.onRangeEnd?.(await store.range(lease.rangeId));
        return;
      } catch (error) {
        if (error instanceof LeaseLost) throw error;
        const message = describeError(error);
        if (attempt >= options.maxAttempts || options.stop.aborted) {
          await store.finishRange(lease, options.stop.aborted ? 'pending' : 'failed', message);
          if (!options.stop.aborted) {
            failed++;
            logger.error({ range: range.id, attempts: attempt, error: message }, 'range failed');
            options.onRangeEnd?.(await store.range(lease.rangeId));
          }
          return;
        }
        const delay = options.retryDelayMs * 2 ** (attempt - 1);
        logger.warn(
          { range: range.id, attempt, retryInMs: delay, error: message },
          'range attempt failed; retrying',
        );
        await sleep(delay, options.stop);
      }
    }
  };

  /** Whether some range may still come free: held by another worker (or abandoned here) under a live lease. */
  const othersStillWorking = async (): Promise<boolean> => {
    const now = Date.now();
    const mine = new Set(held.keys());
    return (await store.ranges('running')).some((r) => awaitsLease(r, mine, now, timing.graceMs));
  };

  /** What a slot does next: work a claimed range, wait for other workers' leases, or end. */
  const next = async (): Promise<ClaimedRange | 'wait' | 'end'> => {
    const claimed = await store.claimRange(me.id);
    if (claimed !== undefined) return claimed;
    return (await othersStillWorking()) ? 'wait' : 'end';
  };

  const slot = async (): Promise<void> => {
    let stateErrors = 0;
    while (!options.stop.aborted) {
      const sentAt = Date.now();
      let claimed: Awaited<ReturnType<typeof next>>;
      try {
        claimed = await next();
        stateErrors = 0;
      } catch (error) {
        // A state store that does not answer for a moment (a Cassandra node restarting): try again
        // a few times, then fail the session rather than wait forever.
        if (++stateErrors >= STATE_ERRORS_TOLERATED) throw error;
        logger.warn({ error: describeError(error) }, 'could not claim a range; trying again');
        await sleep(timing.pollMs * 2 ** stateErrors, options.stop);
        continue;
      }
      if (claimed === 'end') return;
      if (claimed === 'wait') {
        await sleep(timing.pollMs, options.stop);
        continue;
      }
      const h: Held = { lease: claimed.lease, deadline: leaseDeadline(sentAt, timing), lost: false };
      held.set(claimed.lease.rangeId, h);
      try {
        await workClaimed(claimed, h);
      } catch (error) {
        if (!(error instanceof LeaseLost)) throw error;
        await abandon(claimed.lease, error.message);
      } finally {
        held.delete(claimed.lease.rangeId);
      }
    }
  };

  await store.registerWorker(me);
  try {
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, slot));
  } finally {
    clearInterval(timer);
    await renewal;
    await store.unregisterWorker(me.id);
  }
  return { done, failed, stopped: options.stop.aborted };
}
