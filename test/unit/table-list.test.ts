import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OperatorError } from '../../src/errors.js';
import {
  combinedExitCode,
  keyspaceTables,
  parseTableSelection,
  type TableSelection,
} from '../../src/job/table-list.js';

describe('parseTableSelection', () => {
  const cases: [string, TableSelection][] = [
    ['shop.orders', { kind: 'tables', tables: ['shop.orders'] }],
    ['Shop.Orders', { kind: 'tables', tables: ['shop.orders'] }],
    ['shop', { kind: 'keyspace', keyspace: 'shop' }],
    ['Shop', { kind: 'keyspace', keyspace: 'shop' }],
    ['"Shop"', { kind: 'keyspace', keyspace: 'Shop' }],
    ['shop.a, shop.b', { kind: 'tables', tables: ['shop.a', 'shop.b'] }],
    ['shop.a,shop.a', { kind: 'tables', tables: ['shop.a'] }],
    ['shop.a,', { kind: 'tables', tables: ['shop.a'] }],
    ['"Ks"."A,B",ks.c', { kind: 'tables', tables: ['"Ks"."A,B"', 'ks.c'] }],
  ];
  for (const [text, expected] of cases) it(text, () => assert.deepEqual(parseTableSelection(text), expected));

  for (const bad of ['shop.', 'a.b.c', ',', '', '"unterminated', 'sh-op'])
    it(`refuses ${JSON.stringify(bad)} with an operator error`, () =>
      assert.throws(() => parseTableSelection(bad), OperatorError));
});

describe('keyspaceTables', () => {
  it('sorts and qualifies', () =>
    assert.deepEqual(keyspaceTables('shop', ['orders', 'Carts', 'items']), [
      'shop."Carts"',
      'shop.items',
      'shop.orders',
    ]));
  it('an empty keyspace is an operator error', () =>
    assert.throws(() => keyspaceTables('shop', []), OperatorError));
});

describe('combinedExitCode', () => {
  const outcome = (exitCode: number) => ({ table: 't', exitCode });
  const cases: [number[], number][] = [
    [[], 0],
    [[0, 0], 0],
    [[0, 1], 1],
    [[1, 2, 0], 2],
    [[3, 2], 3],
    [[1, 130, 2], 130],
  ];
  for (const [codes, expected] of cases)
    it(`${codes.join(',') || 'none'} → ${expected}`, () =>
      assert.equal(combinedExitCode(codes.map(outcome), 130), expected));
});
