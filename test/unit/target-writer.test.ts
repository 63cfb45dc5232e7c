import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pLimit from 'p-limit';
import type { CqlClient } from '../../src/connect/cluster-client.js';
import { RateLimiter } from '../../src/ranges/rate-limiter.js';
import { cqlValueModel } from '../../src/schema/cql-value/index.js';
import {
  addToBatch,
  BATCH_LIMITS,
  type BatchFill,
  EMPTY_FILL,
  fitsBatch,
} from '../../src/write/batch-limits.js';
import { nextListStep, wholeListMeta } from '../../src/write/list-merge.js';
import { TargetWriter } from '../../src/write/target-writer.js';
import { agedTtl } from '../../src/write/ttl-age.js';
import { udtFieldCells } from '../../src/write/udt-fields.js';
import { isRetryableWriteError, withWriteRetries } from '../../src/write/write-retry.js';

describe('fitsBatch: stock Cassandra batch limits', () => {
  const fill = (statements: number, bytes: number, partitions: number): BatchFill => ({
    statements,
    bytes,
    partitions,
  });
  const cases: [string, BatchFill, { statements: number; bytes: number; newPartition: boolean }, boolean][] =
    [
      [
        'an empty batch takes anything, however large',
        EMPTY_FILL,
        { statements: 1, bytes: 10_000_000, newPartition: true },
        true,
      ],
      [
        'same partition grows past 5 KiB (single-partition batches are not size-checked)',
        fill(10, 40_000, 1),
        { statements: 1, bytes: 2_000, newPartition: false },
        true,
      ],
      [
        'same partition stops at the byte budget',
        fill(10, BATCH_LIMITS.singlePartitionBytes - 100, 1),
        { statements: 1, bytes: 200, newPartition: false },
        false,
      ],
      [
        'same partition stops at the statement count',
        fill(64, 1_000, 1),
        { statements: 1, bytes: 10, newPartition: false },
        false,
      ],
      [
        'small partitions share a batch',
        fill(3, 300, 3),
        { statements: 1, bytes: 100, newPartition: true },
        true,
      ],
      [
        'a large partition after small ones starts its own batch',
        fill(7, 700, 7),
        { statements: 1, bytes: 60_000, newPartition: true },
        false,
      ],
      [
        'a large first partition takes no second partition',
        fill(1, 60_000, 1),
        { statements: 1, bytes: 50, newPartition: true },
        false,
      ],
      [
        'a multi-partition batch stops below 4 KiB',
        fill(5, 4_000, 5),
        { statements: 1, bytes: 200, newPartition: true },
        false,
      ],
      [
        'a multi-partition batch stops below 4 KiB within its last partition too',
        fill(5, 4_000, 2),
        { statements: 1, bytes: 200, newPartition: false },
        false,
      ],
      ['at most 8 partitions', fill(8, 800, 8), { statements: 1, bytes: 10, newPartition: true }, false],
    ];
  for (const [name, f, item, expected] of cases) test(name, () => assert.equal(fitsBatch(f, item), expected));

  test('addToBatch counts partitions, the first item always being one', () => {
    const one = addToBatch(EMPTY_FILL, { statements: 2, bytes: 50, newPartition: false });
    assert.deepEqual(one, { statements: 2, bytes: 50, partitions: 1 });
    assert.deepEqual(addToBatch(one, { statements: 1, bytes: 5, newPartition: true }), {
      statements: 3,
      bytes: 55,
      partitions: 2,
    });
  });
});

describe('agedTtl', () => {
  const cases: [number, number, number, number][] = [
    // ttl, readAt, now, expected
    [100, 0, 0, 100],
    [100, 0, 1, 99], // any part of a second counts: the cells must not outlive Origin's
    [100, 0, 2_000, 98],
    [100, 0, 12_500, 87],
    [5, 0, 60_000, 1], // expired meanwhile: shortest TTL, never "no TTL"
    [0, 0, 60_000, 0],
  ];
  for (const [ttl, readAt, now, expected] of cases)
    test(`${ttl}s read at ${readAt}, sent at ${now} -> ${expected}`, () =>
      assert.equal(agedTtl(ttl, readAt, now), expected));
});

describe('nextListStep: lists are never duplicated', () => {
  const sameList = cqlValueModel(
    { kind: 'list', element: { kind: 'native', name: 'int' }, frozen: false },
    new Map(),
  ).equals;
  const origin = (elements: number[], timestamp: bigint) => ({ elements, timestamp, ttl: 0 });
  const target = (elements: number[], newest?: bigint) => ({ elements, newest });
  const cases: [string, ReturnType<typeof nextListStep>, ReturnType<typeof nextListStep>][] = [
    [
      'Target lacks the list: Origin’s writetime',
      nextListStep(origin([1, 2], 10n), target([]), false, sameList),
      { kind: 'write', timestamp: 10n },
    ],
    [
      'Target holds it already (rerun): nothing',
      nextListStep(origin([1, 2], 10n), target([1, 2], 10n), false, sameList),
      { kind: 'equal' },
    ],
    [
      'equal content, other writetimes: nothing',
      nextListStep(origin([1, 2, 3], 20n), target([1, 2, 3], 20n), false, sameList),
      { kind: 'equal' },
    ],
    [
      'older Target list: Origin’s writetime supersedes it',
      nextListStep(origin([1, 2, 3], 20n), target([1, 2], 10n), false, sameList),
      { kind: 'write', timestamp: 20n },
    ],
    [
      'duplicated at Origin’s writetime: one above it',
      nextListStep(origin([1, 2], 10n), target([1, 2, 1, 2], 10n), false, sameList),
      { kind: 'write', timestamp: 11n },
    ],
    [
      'newer Target elements: read Origin again first',
      nextListStep(origin([1, 2], 10n), target([1, 2, 3], 30n), false, sameList),
      { kind: 'reread-origin' },
    ],
    [
      'newer Target elements Origin never got: content wins',
      nextListStep(origin([1, 2], 10n), target([3, 1, 2], 30n), true, sameList),
      { kind: 'write', timestamp: 31n },
    ],
  ];
  for (const [name, actual, expected] of cases) test(name, () => assert.deepEqual(actual, expected));

  test('a whole list: newest writetime, longest TTL only when every element expires', () => {
    assert.deepEqual(wholeListMeta([5n, 9n, 7n], [0, 30, 40]), { timestamp: 9n, ttl: 0 });
    assert.deepEqual(wholeListMeta([5n, 9n], [20, 40]), { timestamp: 9n, ttl: 40 });
    assert.deepEqual(wholeListMeta([], []), { timestamp: undefined, ttl: 0 });
  });
});

describe('withWriteRetries', () => {
  const timeout = Object.assign(new Error('timed out'), { name: 'OperationTimedOutError' });
  const writeTimeout = Object.assign(new Error('write timeout'), { name: 'ResponseError', code: 0x1100 });
  const invalid = Object.assign(new Error('bad'), { name: 'ResponseError', code: 0x2200 });

  test('retries timeouts and overload, not bad requests', () => {
    assert.equal(isRetryableWriteError(timeout), true);
    assert.equal(isRetryableWriteError(writeTimeout), true);
    assert.equal(isRetryableWriteError(invalid), false);
    assert.equal(isRetryableWriteError(new Error('x')), false);
  });

  test('gives up after the attempts, with the last error', async () => {
    let calls = 0;
    const sleeps: number[] = [];
    await assert.rejects(
      withWriteRetries(
        async () => {
          calls++;
          throw timeout;
        },
        { attempts: 3, delayMs: 10, sleep: async (ms) => void sleeps.push(ms) },
      ),
      /timed out/,
    );
    assert.equal(calls, 3);
    assert.deepEqual(sleeps, [10, 20]);
  });
});

/**
 * A Target whose first write times out after a delay: a fault at an exact moment, which a real
 * cluster cannot produce on demand. Records the TTL each attempt carried.
 */
function timingOutTarget(delayMs: number) {
  const ttls: number[] = [];
  let attempts = 0;
  const client = {
    async execute(query: string, params: unknown[]) {
      attempts++;
      ttls.push(Number(params[query.startsWith('INSERT') ? params.length - 1 : 1]));
      if (attempts === 1) {
        await new Promise((r) => setTimeout(r, delayMs));
        throw Object.assign(new Error('timed out'), { name: 'OperationTimedOutError' });
      }
      return { rows: [] };
    },
    async batch() {
      throw new Error('no batch expected');
    },
  };
  return { client: client as unknown as CqlClient, ttls };
}

describe('TargetWriter', () => {
  test('a retried write ages its TTL from the page read, not from the retry', async () => {
    const { client, ttls } = timingOutTarget(2_100);
    const writer = new TargetWriter(
      {
        target: client,
        table: { tableCql: 'ks.t', partitionKey: ['k'], clustering: [] },
        consistency: 1,
        limiter: new RateLimiter(0),
        slots: pLimit(1),
        lists: undefined,
        retry: { attempts: 2, delayMs: 1_000 },
      },
      Date.now() - 1_000, // the page was read a second ago
    );
    writer.startPartition();
    writer.add({
      keyValues: [1],
      rows: 1,
      writes: [
        { kind: 'insert', timestamp: 5n, ttl: 100, assignments: [{ op: 'set', column: 'v', value: 'x' }] },
      ],
    });
    await writer.done();
    assert.equal(ttls.length, 2);
    assert.ok(ttls[0]! <= 99, `first attempt carried TTL ${ttls[0]}`);
    // The retry is sent after a 2.1 s timeout and a 1 s back-off: 3 more seconds of age at least.
    assert.ok(ttls[0]! - ttls[1]! >= 3, `TTLs sent: ${ttls.join(', ')}`);
  });
});

describe('udtFieldCells', () => {
  const fields = [{ name: 'a' }, { name: 'b' }, { name: 'c' }];
  test('one WRITETIME entry per field of the type: null fields are left out', () => {
    assert.deepEqual(udtFieldCells(fields, { a: 1, b: null, c: 3 }, [10n, null, 30n], [null, null, 5]), [
      { name: 'a', value: 1, writetime: 10n, ttl: null },
      { name: 'c', value: 3, writetime: 30n, ttl: 5 },
    ]);
  });
  test('one entry per present field: matched to those fields', () => {
    assert.deepEqual(udtFieldCells(fields, { a: 1, b: null, c: 3 }, [10n, 30n], [null, 5]), [
      { name: 'a', value: 1, writetime: 10n, ttl: null },
      { name: 'c', value: 3, writetime: 30n, ttl: 5 },
    ]);
  });
  test('a null UDT has no fields', () => assert.deepEqual(udtFieldCells(fields, null, null, null), []));
});
