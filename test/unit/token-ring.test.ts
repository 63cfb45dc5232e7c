import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RateLimiter } from '../../src/ranges/rate-limiter.js';
import {
  defaultSplits,
  MAX_TOKEN,
  MIN_TOKEN,
  requestedSpan,
  seededRandom,
  shuffled,
  splitRange,
} from '../../src/ranges/token-ring.js';
import { counterDeltas } from '../../src/write/counter-writes.js';

describe('splitRange', () => {
  test('covers the whole ring contiguously with no gap or overlap', () => {
    for (const splits of [1, 2, 3, 7, 64, 5000]) {
      const ranges = splitRange(splits);
      assert.equal(ranges.length, splits);
      assert.equal(ranges[0]!.start, MIN_TOKEN);
      assert.equal(ranges.at(-1)!.end, MAX_TOKEN);
      for (let i = 1; i < ranges.length; i++) assert.equal(ranges[i]!.start, ranges[i - 1]!.end);
      const widths = ranges.map((r) => r.end - r.start);
      const spread = widths.reduce((a, b) => (a > b ? a : b)) - widths.reduce((a, b) => (a < b ? a : b));
      assert.ok(spread <= 1n, `near-equal widths for ${splits}`);
    }
  });
  const cases: [splits: number, start: bigint, end: bigint, expected: [bigint, bigint][]][] = [
    [
      4,
      0n,
      8n,
      [
        [0n, 2n],
        [2n, 4n],
        [4n, 6n],
        [6n, 8n],
      ],
    ],
    [
      3,
      0n,
      10n,
      [
        [0n, 3n],
        [3n, 6n],
        [6n, 10n],
      ],
    ],
    [
      5,
      0n,
      2n,
      [
        [0n, 1n],
        [1n, 2n],
      ],
    ],
    [3, 5n, 5n, []],
  ];
  for (const [splits, start, end, expected] of cases) {
    test(`${splits} splits of (${start}, ${end}]`, () =>
      assert.deepEqual(
        splitRange(splits, start, end).map((r) => [r.start, r.end]),
        expected,
      ));
  }
  test('rejects a non-positive split count', () => assert.throws(() => splitRange(0), RangeError));
});

describe('requestedSpan', () => {
  const cases: [bigint | undefined, bigint | undefined, bigint, bigint][] = [
    [undefined, undefined, MIN_TOKEN, MAX_TOKEN],
    [100n, 200n, 99n, 200n],
    [MIN_TOKEN, undefined, MIN_TOKEN, MAX_TOKEN],
  ];
  for (const [min, max, start, end] of cases) {
    test(`${min}..${max}`, () => assert.deepEqual(requestedSpan(min, max), { start, end }));
  }
});

describe('shuffle and defaults', () => {
  test('shuffled order is a permutation, reproducible by seed', () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const a = shuffled(items, seededRandom(7));
    assert.deepEqual(
      [...a].sort((x, y) => x - y),
      items,
    );
    assert.deepEqual(shuffled(items, seededRandom(7)), a);
    assert.notDeepEqual(a, items);
  });
  const cases: [partitions: number, concurrency: number, expected: number][] = [
    [0, 8, 128],
    [0, 2, 64],
    [10_000_000, 8, 500],
    [10_000_000_000, 8, 20_000],
  ];
  for (const [p, c, e] of cases)
    test(`defaultSplits(${p}, ${c}) = ${e}`, () => assert.equal(defaultSplits(p, c), e));
});

describe('counterDeltas', () => {
  const cases: [unknown[], unknown[] | undefined, bigint[]][] = [
    [
      [5n, 3n],
      [5n, 1n],
      [0n, 2n],
    ],
    [[5n, null], undefined, [5n, 0n]],
    [[-4n], [10n], [-14n]],
  ];
  for (const [o, t, e] of cases)
    test(`${String(o)} vs ${String(t)}`, () => assert.deepEqual(counterDeltas(o, t), e));
});

describe('RateLimiter', () => {
  test('spreads units over time at the given rate, with a one-second burst', async () => {
    let now = 0;
    const slept: number[] = [];
    const limiter = new RateLimiter(
      100,
      () => now,
      async (ms) => {
        slept.push(ms);
        now += ms;
      },
    );
    await limiter.acquire(100); // the initial burst
    await limiter.acquire(50);
    assert.equal(Math.round(now), 500);
    await limiter.acquire(100);
    assert.equal(Math.round(now), 1500);
    assert.ok(slept.length >= 2);
  });
  test('0 means unlimited', async () => {
    const limiter = new RateLimiter(
      0,
      () => 0,
      () => Promise.reject(new Error('must not sleep')),
    );
    await limiter.acquire(1_000_000);
    assert.equal(limiter.unlimited, true);
  });
});
