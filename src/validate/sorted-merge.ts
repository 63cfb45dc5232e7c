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

async function* checked<E>(
  source: AsyncIterable<E>,
  compare: Compare<E>,
  side: string,
  describe: (e: E) => string,
): AsyncGenerator<E> {
  let previous: E | undefined;
  for await (const item of source) {
    if (previous !== undefined && compare(previous, item) >= 0) {
      throw new OrderViolation(
        `${side} returned ${describe(item)} after ${describe(previous)}: the key order used by the diff disagrees with Cassandra's for this table`,
      );
    }
    previous = item;
    yield item;
  }
}

/**
 * Merges two streams sorted by `compare` like a sorted merge join: equal keys pair up, a key on one
 * side only comes alone. Each stream must be strictly increasing; if one is not, the merge throws
 * rather than report rows as missing and extra.
 */
export async function* mergeSorted<E>(
  origin: AsyncIterable<E>,
  target: AsyncIterable<E>,
  compare: Compare<E>,
  describe: (e: E) => string = () => 'an entry',
): AsyncGenerator<MergeStep<E>> {
  const o = checked(origin, compare, 'Origin', describe)[Symbol.asyncIterator]();
  const t = checked(target, compare, 'Target', describe)[Symbol.asyncIterator]();
  try {
    let [a, b] = await Promise.all([o.next(), t.next()]);
    while (!a.done || !b.done) {
      if (b.done) {
        yield { origin: a.value as E, target: undefined };
        a = await o.next();
      } else if (a.done) {
        yield { origin: undefined, target: b.value };
        b = await t.next();
      } else {
        const c = compare(a.value, b.value);
        if (c === 0) {
          yield { origin: a.value, target: b.value };
          [a, b] = await Promise.all([o.next(), t.next()]);
        } else if (c < 0) {
          yield { origin: a.value, target: undefined };
          a = await o.next();
        } else {
          yield { origin: undefined, target: b.value };
          b = await t.next();
        }
      }
    }
  } finally {
    await Promise.allSettled([o.return?.(undefined), t.return?.(undefined)]);
  }
}
