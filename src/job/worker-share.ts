import type { LeaseTiming } from '../checkpoint/lease.js';
import type { RunState, WorkerRecord } from '../checkpoint/run-state.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { RateLimiter } from '../ranges/rate-limiter.js';

/**
 * Workers of a run that are alive by their heartbeat: renewed within the last lease (a worker renews
 * every third of one, so a live worker is never counted out; a killed or hung one drops out a lease
 * after its last renewal).
 */
export function liveWorkerCount(
  workers: readonly Pick<WorkerRecord, 'heartbeat'>[],
  now: number,
  leaseMs: number,
): number {
  return workers.filter((w) => w.heartbeat > now - leaseMs).length;
}

/** One worker's share of a run-wide rate (0 stays unlimited); at least one worker is counted. */
export const rateShare = (total: number, workers: number): number =>
  total <= 0 ? 0 : total / Math.max(1, workers);

/**
 * Rate limits given for the whole run (`--origin-rate-limit`, `--target-rate-limit`), shared by its
 * workers: each worker's limiters run at the limit divided by the number of live workers in the run's
 * state, counted again every `timing.renewEveryMs`, so workers joining (another machine, a restarted
 * pod) or dying move every worker's share. Until the first count, the share is the limit divided by
 * `expected` (the workers a parent started).
 */
export class WorkerShare {
  private readonly limiters: { readonly limiter: RateLimiter; readonly total: number }[] = [];
  private workers: number;

  constructor(expected = 1) {
    this.workers = Math.max(1, expected);
  }

  /** A limiter for a run-wide limit of `total` per second, kept at this worker's share of it. */
  limiter(total: number): RateLimiter {
    const limiter = new RateLimiter(rateShare(total, this.workers));
    this.limiters.push({ limiter, total });
    return limiter;
  }

  /** Live workers counted at the last look. */
  get liveWorkers(): number {
    return this.workers;
  }

  private set(workers: number, logger: Logger): void {
    const count = Math.max(1, workers);
    if (count === this.workers) return;
    this.workers = count;
    for (const { limiter, total } of this.limiters) limiter.setRate(rateShare(total, count));
    if (this.limiters.some((l) => l.total > 0))
      logger.info({ workers: count }, 'live workers changed; each takes an equal share of the rate limits');
  }

  /** Counts the run's live workers now and then until the returned function is called. */
  follow(store: RunState, timing: LeaseTiming, logger: Logger): () => void {
    if (!this.limiters.some((l) => l.total > 0)) return () => {};
    let looking = false;
    const look = async () => {
      if (looking) return;
      looking = true;
      try {
        this.set(liveWorkerCount(await store.workers(), Date.now(), timing.leaseMs), logger);
      } catch (error) {
        logger.warn({ error: describeError(error) }, 'could not count the live workers; keeping the share');
      } finally {
        looking = false;
      }
    };
    const timer = setInterval(look, timing.renewEveryMs);
    timer.unref();
    return () => clearInterval(timer);
  }
}
