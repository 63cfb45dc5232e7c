import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { IDENTITY_MAPPING } from '../../src/schema/compare.js';
import { type DiffEntry, diffLayout, entryComparator } from '../../src/validate/diff-entry.js';
import { partitionKeyComparator } from '../../src/validate/key-order.js';
import { tableOf } from '../helpers/schema-builder.js';

describe('partitionKeyComparator (same token: serialized key bytes, unsigned)', () => {
  test('int keys: negative numbers sort after positive ones (two complement bytes)', () => {
    const cmp = partitionKeyComparator(tableOf({ k: 'pk int', v: 'text' }).partitionKey, new Map());
    assert.ok(cmp([1], [2]) < 0);
    assert.ok(cmp([-1], [1]) > 0);
  });
  test('composite keys: length-prefixed components', () => {
    const cmp = partitionKeyComparator(
      tableOf({ a: 'pk text', b: 'pk int', v: 'text' }).partitionKey,
      new Map(),
    );
    // 'b' (length 1) sorts before 'aa' (length 2) because the 2-byte length comes first.
    assert.ok(cmp(['b', 1], ['aa', 1]) < 0);
    assert.ok(cmp(['a', 1], ['a', 2]) < 0);
    assert.equal(cmp(['a', 1], ['a', 1]), 0);
  });
});

describe('entryComparator', () => {
  const schema = tableOf({ k: 'pk int', c1: 'ck text', c2: 'ck int desc', s: 'static int', v: 'text' });
  const layout = diffLayout(schema, schema, IDENTITY_MAPPING);
  const cmp = entryComparator(layout);
  const e = (token: bigint, k: number, clustering: unknown[] | undefined): DiffEntry => ({
    token,
    partition: [k],
    clustering,
    cells: [],
  });
  test('token, then partition, then statics first, then clustering with DESC reversed', () => {
    const sorted = [
      e(-5n, 1, undefined),
      e(-5n, 1, ['a', 9]),
      e(-5n, 1, ['a', 2]),
      e(-5n, 1, ['b', 100]),
      e(-5n, 2, undefined),
      e(-5n, 2, ['a', 1]),
      e(7n, 0, ['a', 1]),
    ];
    for (let i = 0; i < sorted.length; i++)
      for (let j = 0; j < sorted.length; j++)
        assert.equal(Math.sign(cmp(sorted[i]!, sorted[j]!)), Math.sign(i - j), `${i} vs ${j}`);
  });
});
