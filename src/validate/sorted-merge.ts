import type { Compare } from './key-order.js';

/** One step of the merge: an entry present on both sides, or on one side only. */
export type MergeStep<E> =
  | { readonly origin: E; readonly target: E }
  | { readonly origin: E; readonly target: undefined }
  | { readonly origin: undefined; readonly target: E };

/** A stream went backwards under the comparator: the comparator disagrees with the database. */
export class OrderViolation extends Error {
  override readonly name = 'OrderViolation';
}

/** Returned by a step handler to end the merge early (the operator asked to stop). */
export const STOP = Symbol('stop');
export type StepResult = undefined | typeof STOP | Promise<undefined | typeof STOP>;

/**
 * Walks a stream of batches (pages) entry by entry, awaiting only when a batch runs out, and checks
 * that entries strictly increase.
 */
class Cursor<E> {
  private batch: readonly E[] = [];
  private index = 0;
  private previous: E | undefined;
  current: E | undefined;
  private readonly source: AsyncIterator<readonly E[]>;

  constructor(
    source: AsyncIterable<readonly E[]>,
    private readonly compare: Compare<E>,
    private readonly side: string,
    private readonly describe: (e: E) => string,
  ) {
    this.source = source[Symbol.asyncIterator]();
  }

  /** Moves to the next entry; returns a promise only when a new batch must be awaited. */
  advance(): undefined | Promise<void> {
    if (this.index < this.batch.length) {
      this.take(this.batch[this.index++]!);
      return undefined;
    }
    return this.refill();
  }

  private async refill(): Promise<void> {
    for (;;) {
      const next = await this.source.next();
      if (next.done) {
        this.current = undefined;
        return;
      }
      this.batch = next.value;
      this.index = 0;
      if (this.batch.length > 0) {
        this.take(this.batch[this.index++]!);
        return;
      }
    }
  }

  private take(item: E): void {
    const previous = this.previous;
    if (previous !== undefined && this.compare(previous, item) >= 0) {
      throw new OrderViolation(
        `${this.side} returned ${this.describe(item)} after ${this.describe(previous)}: the key order used by the diff disagrees with Cassandra's for this table`,
      );
    }
    this.previous = item;
    this.current = item;
  }

  async close(): Promise<void> {
    await this.source.return?.(undefined);
  }
}

/**
 * Merges two streams of sorted batches like a sorted merge join: equal keys pair up, a key on one
 * side only comes alone, and `onStep` sees every step in order. Entries are walked synchronously
 * within a batch (no per-row promise), so the merge costs little beside decoding. Each stream must
 * be strictly increasing; if one is not, the merge throws rather than report rows as missing and
 * extra. Resolves true when both streams ended, false when `onStep` returned STOP.
 */
export async function mergeSorted<E>(
  origin: AsyncIterable<readonly E[]>,
  target: AsyncIterable<readonly E[]>,
  compare: Compare<E>,
  onStep: (step: MergeStep<E>) => StepResult,
  describe: (e: E) => string = () => 'an entry',
): Promise<boolean> {
  const o = new Cursor(origin, compare, 'Origin', describe);
  const t = new Cursor(target, compare, 'Target', describe);
  try {
    await Promise.all([o.advance(), t.advance()]);
    for (;;) {
      const a = o.current;
      const b = t.current;
      let step: MergeStep<E>;
      let moveO: undefined | Promise<void>;
      let moveT: undefined | Promise<void>;
      if (a === undefined && b === undefined) return true;
      const order = a === undefined ? 1 : b === undefined ? -1 : compare(a, b);
      if (order < 0) {
        step = { origin: a!, target: undefined };
        moveO = o.advance();
      } else if (order > 0) {
        step = { origin: undefined, target: b! };
        moveT = t.advance();
      } else {
        step = { origin: a!, target: b! };
        moveO = o.advance();
        moveT = t.advance();
      }
      // A batch being fetched while the step is handled must not fail unobserved.
      moveO?.catch(() => undefined);
      moveT?.catch(() => undefined);
      let result = onStep(step);
      if (result instanceof Promise) result = await result;
      if (result === STOP) return false;
      if (moveO !== undefined || moveT !== undefined) await Promise.all([moveO, moveT]);
    }
  } finally {
    await Promise.allSettled([o.close(), t.close()]);
  }
}
