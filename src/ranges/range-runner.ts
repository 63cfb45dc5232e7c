import pLimit from 'p-limit';
import type { CheckpointStore, Counts, RangeRecord } from '../checkpoint/checkpoint-store.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { seededRandom, shuffled } from './token-ring.js';

export interface RangeWorkContext {
  readonly range: RangeRecord;
  /** Aborted when the operator asked to stop: finish the page in hand, commit, and return 'stopped'. */
  readonly stop: AbortSignal;
  /** Saves a fully processed page: counters and the position to resume from. */
  commit(resumeState: string | undefined, delta: Counts): void;
}

/** Processes one token range from `range.resumeState` on; throws to fail the attempt. */
export type RangeWorker = (context: RangeWorkContext) => Promise<'done' | 'stopped'>;

export interface RunRangesOptions {
  readonly store: CheckpointStore;
  readonly worker: RangeWorker;
  readonly concurrency: number;
  /** Attempts per range in this session before it is marked failed. */
  readonly maxAttempts: number;
  /** First retry delay; doubles on each further attempt. */
  readonly retryDelayMs: number;
  readonly stop: AbortSignal;
  readonly logger: Logger;
  /** Seed of the shuffled order (fixed per run so a resumed run keeps its order). */
  readonly seed: number;
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

/**
 * The token-range engine shared by migrate and diff: runs every pending range of a checkpoint with
 * bounded concurrency in shuffled order, retries failures with exponential backoff, and records each
 * outcome. A failed range does not stop the others; the caller reports failures at the end.
 */
export async function runRanges(options: RunRangesOptions): Promise<RangesOutcome> {
  const { store, logger } = options;
  const pending = shuffled(store.ranges('pending'), seededRandom(options.seed));
  const limit = pLimit(Math.max(1, options.concurrency));
  let done = 0;
  let failed = 0;

  const runOne = async (initial: RangeRecord): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      if (options.stop.aborted) return;
      store.startAttempt(initial.id);
      const range = store.range(initial.id);
      try {
        const outcome = await options.worker({
          range,
          stop: options.stop,
          commit: (resumeState, delta) => {
            store.savePage(range.id, resumeState, delta);
            options.onCommit?.(delta);
          },
        });
        if (outcome === 'stopped') {
          store.finishRange(range.id, 'pending');
          return;
        }
        store.finishRange(range.id, 'done');
        done++;
        options.onRangeEnd?.(store.range(range.id));
        return;
      } catch (error) {
        const message = describeError(error);
        if (attempt >= options.maxAttempts || options.stop.aborted) {
          store.finishRange(range.id, options.stop.aborted ? 'pending' : 'failed', message);
          if (!options.stop.aborted) {
            failed++;
            logger.error({ range: range.id, attempts: attempt, error: message }, 'range failed');
            options.onRangeEnd?.(store.range(range.id));
          }
          return;
        }
        const delay = options.retryDelayMs * 2 ** (attempt - 1);
        logger.warn(
          { range: range.id, attempt, retryInMs: delay, error: message },
          'range attempt failed; retrying',
        );
        store.finishRange(range.id, 'pending', message);
        await sleep(delay, options.stop);
      }
    }
  };

  await Promise.all(pending.map((range) => limit(() => runOne(range))));
  return { done, failed, stopped: options.stop.aborted };
}
