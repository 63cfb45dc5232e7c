import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IDENTITY_MAPPING } from '../../src/schema/compare.js';
import { diffLayout, entryWithout, layoutWithout } from '../../src/validate/diff-entry.js';
import { isListWritetimeLimitation } from '../../src/validate/list-writetimes.js';
import { tableOf } from '../helpers/schema-builder.js';

const meta = (writetime: unknown, ttl: unknown) => ({ value: ['a', 'b'], writetime, ttl });

test('isListWritetimeLimitation: what migrate writes for a list with mixed element writetimes/TTLs', () => {
  const cases: [string, ReturnType<typeof meta>, ReturnType<typeof meta>, boolean][] = [
    [
      'mixed writetimes, written whole at the newest',
      meta([1n, 5n], [null, null]),
      meta([5n, 5n], [null, null]),
      true,
    ],
    [
      "mixed writetimes, written whole above Target's newer elements (content wins)",
      meta([1n, 5n], [null, null]),
      meta([9n, 9n], [null, null]),
      true,
    ],
    [
      'written whole, then appended to through the proxy (exact writetimes after the whole write)',
      meta([1n, 5n, 7n, 8n], [null, null, null, null]),
      meta([6n, 6n, 7n, 8n], [null, null, null, null]),
      true,
    ],
    [
      'written whole, but a later element differs in writetime',
      meta([1n, 5n, 7n, 8n], [null, null, null, null]),
      meta([6n, 6n, 7n, 9n], [null, null, null, null]),
      false,
    ],
    [
      'mixed writetimes, written at the oldest',
      meta([1n, 5n], [null, null]),
      meta([1n, 1n], [null, null]),
      false,
    ],
    [
      'mixed writetimes, Target itself mixed',
      meta([1n, 5n], [null, null]),
      meta([5n, 1n], [null, null]),
      false,
    ],
    [
      'mixed TTLs, some none: written without TTL',
      meta([3n, 3n], [100, null]),
      meta([3n, 3n], [null, null]),
      true,
    ],
    [
      'all expire: written with the longest TTL',
      meta([3n, 4n], [100, 900]),
      meta([4n, 4n], [898, 898]),
      true,
    ],
    ['all expire, but Target has no TTL', meta([3n, 4n], [100, 900]), meta([4n, 4n], [null, null]), false],
    [
      'Origin uniform: no limitation applies',
      meta([3n, 3n], [null, null]),
      meta([4n, 4n], [null, null]),
      false,
    ],
    ['one element: never mixed', meta([3n], [null]), meta([4n], [null]), false],
    ['different element counts', meta([1n, 5n], [null, null]), meta([5n], [null]), false],
  ];
  for (const [name, origin, target, expected] of cases) {
    assert.equal(isListWritetimeLimitation(origin, target, 5), expected, name);
  }
});

test('layoutWithout / entryWithout drop the same columns of statics and rows', () => {
  const schema = tableOf({
    k: 'pk int',
    c: 'ck int',
    s: 'static list<int>',
    v: 'text',
    l: 'list<text>',
    n: 'int',
  });
  const layout = diffLayout(schema, schema, IDENTITY_MAPPING);
  const columns = new Set(['l', 's']);
  const narrowed = layoutWithout(layout, columns);
  assert.deepEqual(
    narrowed.regulars.map((c) => c.origin.name),
    ['v', 'n'],
  );
  assert.deepEqual(narrowed.statics, []);
  const cell = (value: unknown) => ({ value, writetime: null, ttl: null });
  const row = { token: 1n, partition: [1], clustering: [2], cells: [cell('v'), cell(['x']), cell(3)] };
  assert.deepEqual(
    entryWithout(layout, row, columns).cells.map((c) => c.value),
    ['v', 3],
  );
  const statics = { token: 1n, partition: [1], clustering: undefined, cells: [cell([7])] };
  assert.deepEqual(entryWithout(layout, statics, columns).cells, []);
});
