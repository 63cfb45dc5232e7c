/**
 * The Murmur3 token ring and how the jobs cut it. Ranges are half-open `(start, end]`: Cassandra
 * never gives a row the minimum token, so `token(pk) > start AND token(pk) <= end` over ranges that
 * start at the minimum covers every row exactly once.
 */
export const MIN_TOKEN = -(2n ** 63n);
export const MAX_TOKEN = 2n ** 63n - 1n;

export interface TokenRange {
  /** Exclusive. */
  readonly start: bigint;
  /** Inclusive. */
  readonly end: bigint;
}

/**
 * Cuts `(start, end]` into `splits` contiguous ranges of near-equal width, in ring order.
 * Fewer ranges come back when the span holds fewer tokens than `splits`.
 */
export function splitRange(splits: number, start: bigint = MIN_TOKEN, end: bigint = MAX_TOKEN): TokenRange[] {
  if (!Number.isInteger(splits) || splits < 1)
    throw new RangeError(`splits must be a positive integer, got ${splits}`);
  if (end <= start) return [];
  const width = end - start;
  const count = BigInt(splits) > width ? width : BigInt(splits);
  const ranges: TokenRange[] = [];
  let from = start;
  for (let i = 1n; i <= count; i++) {
    const to = i === count ? end : start + (width * i) / count;
    ranges.push({ start: from, end: to });
    from = to;
  }
  return ranges;
}

/**
 * The span the user asked for with --token-min (inclusive) and --token-max (inclusive), as one
 * `(start, end]` range.
 */
export function requestedSpan(tokenMin: bigint | undefined, tokenMax: bigint | undefined): TokenRange {
  const start = tokenMin === undefined || tokenMin <= MIN_TOKEN ? MIN_TOKEN : tokenMin - 1n;
  const end = tokenMax === undefined ? MAX_TOKEN : tokenMax;
  return { start, end };
}

/** A small seeded generator (mulberry32) so a run's shuffled order can be reproduced. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Fisher-Yates shuffle. Ranges run in shuffled order so that concurrent ranges land on different
 * nodes instead of all hammering the replicas of one part of the ring.
 */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * Default number of splits: enough ranges that each holds about `rowsPerSplit` partitions by the
 * cluster's own size estimate, never fewer than 16 per concurrent worker (so work stays balanced
 * and a resumed run loses little), and never more than 20,000.
 */
export function defaultSplits(
  estimatedPartitions: number,
  concurrency: number,
  rowsPerSplit = 20_000,
): number {
  const bySize = Math.ceil(estimatedPartitions / rowsPerSplit);
  return Math.min(20_000, Math.max(16 * concurrency, bySize, 64));
}
