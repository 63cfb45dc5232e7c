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
import { wholeListMeta } from '../../src/write/cell-plan.js';
import { elementGroups, nextListStep, replacement } from '../../src/write/list-merge.js';
import { TargetWriter } from '../../src/write/target-writer.js';
import { agedTtl } from '../../src/write/ttl-age.js';
import { udtFieldCells } from '../../src/write/udt-fields.js';
import { isRetryableWriteError, withWriteRetries } from '../../src/write/write-retry.js';
import { writeSizesFor } from '../../src/write/write-sizes.js';
import { tableOf } from '../helpers/schema-builder.js';

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

describe('nextListStep: lists exact, never duplicated', () => {
  const same = cqlValueModel({ kind: 'native', name: 'int' }, new Map()).equals;
  const origin = (elements: number[]) => ({
    elements,
    writetimes: elements.map((e) => BigInt(e)),
    ttls: elements.map(() => 0),
  });
  // From 100 on, an element is `n % 100` written at `n` (a value repeated later).
  const target = (elements: number[]) => ({
    elements: elements.map((e) => e % 100),
    writetimes: elements.map((e) => BigInt(e)),
  });
  // Writetimes: each element's value, unless given (Target elements newer than Origin's are appends
  // on their way; as old or older, a copy or a stray).
  const cases: [string, number[], number[], ReturnType<typeof nextListStep>][] = [
    ['Target lacks the list: prepend it all', [1, 2], [], { kind: 'prepend', count: 2 }],
    ['Target holds it already (rerun): nothing', [1, 2], [1, 2], { kind: 'equal' }],
    [
      'appends through the proxy since it went in front: prepend the head',
      [1, 2, 3, 4],
      [3, 4],
      { kind: 'prepend', count: 2 },
    ],
    [
      'an append that reached Target first follows the prepended head',
      [1, 2, 3],
      [3, 9],
      { kind: 'prepend', count: 2 },
    ],
    [
      'a newer append on Target only, repeating a value: still an append',
      [1, 2, 3],
      [3, 5],
      { kind: 'prepend', count: 2 },
    ],
    ['Origin’s list, then an append only Target holds so far: ahead', [1, 2], [1, 2, 9], { kind: 'ahead' }],
    ['a resumed prepend: only the rest', [1, 2, 3, 4], [2, 3, 4], { kind: 'prepend', count: 1 }],
    ['appends that reached Origin only: append the rest', [1, 2, 3], [1, 2], { kind: 'append', from: 2 }],
    [
      'held twice (an older copy): unexplained, never prepended again',
      [1, 2],
      [1, 2, 1, 2],
      { kind: 'unexplained' },
    ],
    ['an older stray after Origin’s tail: unexplained', [5, 6], [6, 1], { kind: 'unexplained' }],
    ['a stray element between: unexplained', [1, 2, 3], [1, 9, 3], { kind: 'unexplained' }],
    ['another order: unexplained', [1, 2], [2, 1], { kind: 'unexplained' }],
    [
      'repeated values: the longest tail Target starts with',
      [5, 5, 5],
      [5, 5],
      { kind: 'prepend', count: 1 },
    ],
    ['an empty Origin list against Target’s: unexplained', [], [1], { kind: 'unexplained' }],
  ];
  for (const [name, o, t, expected] of cases)
    test(name, () => assert.deepEqual(nextListStep(origin(o), target(t), same), expected));

  test('element groups: runs of one writetime and TTL, in list order', () => {
    const list = {
      elements: ['a', 'b', 'c', 'd', 'e'],
      writetimes: [1n, 1n, 2n, 2n, 1n],
      ttls: [0, 0, 0, 60, 60],
    };
    assert.deepEqual(elementGroups(list, 0, 5), [
      { elements: ['a', 'b'], timestamp: 1n, ttl: 0 },
      { elements: ['c'], timestamp: 2n, ttl: 0 },
      { elements: ['d'], timestamp: 2n, ttl: 60 },
      { elements: ['e'], timestamp: 1n, ttl: 60 },
    ]);
    assert.deepEqual(elementGroups(list, 1, 3), [
      { elements: ['b'], timestamp: 1n, ttl: 0 },
      { elements: ['c'], timestamp: 2n, ttl: 0 },
    ]);
  });

  test('a whole replacement: above Target’s newest element, longest TTL only when every element expires', () => {
    const o = (writetimes: bigint[], ttls: number[]) => ({ elements: writetimes, writetimes, ttls });
    const t = (writetimes: (bigint | undefined)[]) => ({ elements: writetimes, writetimes });
    assert.deepEqual(replacement(o([5n, 9n], [0, 30]), t([])), { timestamp: 9n, ttl: 0 });
    assert.deepEqual(replacement(o([5n, 9n], [20, 40]), t([3n])), { timestamp: 9n, ttl: 40 });
    assert.deepEqual(replacement(o([5n, 9n], [0, 0]), t([9n, 9n])), { timestamp: 10n, ttl: 0 });
    assert.deepEqual(replacement(o([5n], [0]), t([30n, undefined])), { timestamp: 31n, ttl: 0 });
  });

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
        sizes: writeSizesFor(tableOf({ k: 'pk int', v: 'text' }), []),
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

describe('writeSizesFor: serialized sizes from the value model', () => {
  const schema = tableOf(
    { k: 'pk text', c: 'ck bigint', s: 'set<int>', a: 'address', m: 'map<text, blob>' },
    { userTypes: { address: { street: 'text', zip: 'int' } } },
  );
  const columns = [...schema.regulars].map((column) => ({ column, targetName: `t_${column.name}` }));
  const sizes = writeSizesFor(schema, columns);
  test('keys: each key column by its type, nulls count nothing', () => {
    assert.equal(sizes.keys(['héllo', 7n]), 6 + 8);
    assert.equal(sizes.keys([null, 7n]), 8);
  });
  test('assignments by Target name: collections, UDT fields, unknown columns', () => {
    assert.equal(sizes.assignment({ op: 'add', column: 't_s', value: new Set([1, 2]) }), 4 + 2 * (4 + 4));
    assert.equal(sizes.assignment({ op: 'field', column: 't_a', field: 'zip', value: 12 }), 4);
    assert.equal(sizes.assignment({ op: 'field', column: 't_a', field: 'street', value: 'abc' }), 3);
    assert.equal(
      sizes.assignment({ op: 'set', column: 't_m', value: new Map([['ab', Buffer.alloc(10)]]) }),
      4 + 4 + 2 + 4 + 10,
    );
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
