import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type CellInput,
  type PlanOptions,
  planRowWrites,
  planStaticWrites,
} from '../../src/write/cell-plan.js';
import { writeStatement } from '../../src/write/write-statement.js';
import { tableOf } from '../helpers/schema-builder.js';

const table = tableOf(
  {
    k: 'pk int',
    c: 'ck int',
    s: 'static text',
    a: 'int',
    b: 'text',
    l: 'list<int>',
    st: 'set<text>',
    m: 'map<text, int>',
    u: 'addr',
    f: 'frozen<list<int>>',
  },
  { userTypes: { addr: { street: 'text', zip: 'int' } } },
);
const column = (name: string) => [...table.statics, ...table.regulars].find((c) => c.name === name)!;
const cell = (name: string, value: unknown, writetime: unknown, ttl: unknown = null): CellInput => ({
  column: column(name),
  targetName: name,
  value,
  writetime,
  ttl,
});
const options: PlanOptions = {
  writetimeMin: undefined,
  writetimeMax: undefined,
  fallbackTimestamp: 999n,
  userTypes: table.userTypes,
};

/** A compact picture of a plan: `insert@ts/ttl[a=,b+=,u.f=]`. */
const picture = (cells: CellInput[], o: PlanOptions = options) =>
  planRowWrites(cells, o).writes.map(
    (w) =>
      `${w.kind}@${w.timestamp}/${w.ttl}[${w.assignments
        .map((a) =>
          a.op === 'set' ? `${a.column}=` : a.op === 'add' ? `${a.column}+=` : `${a.column}.${a.field}=`,
        )
        .join(',')}]`,
  );

describe('planRowWrites', () => {
  const cases: [name: string, cells: CellInput[], expected: string[]][] = [
    [
      'one INSERT when all cells share writetime and TTL',
      [cell('a', 1, 10n), cell('b', 'x', 10n), cell('f', [1], 10n)],
      ['insert@10/0[a=,b=,f=]'],
    ],
    [
      'groups by (writetime, TTL); the oldest group carries the row marker',
      [cell('a', 1, 20n, 5), cell('b', 'x', 10n), cell('f', [1], 20n, 5)],
      ['insert@10/0[b=]', 'update@20/5[a=,f=]'],
    ],
    [
      'same writetime, different TTL: two groups',
      [cell('a', 1, 10n, 100), cell('b', 'x', 10n)],
      ['insert@10/0[b=]', 'update@10/100[a=]'],
    ],
    ['null cells are not written', [cell('a', null, null), cell('b', 'x', 10n)], ['insert@10/0[b=]']],
    [
      'a row with no cells is written with the fallback timestamp',
      [cell('a', null, null), cell('b', null, null)],
      ['insert@999/0[]'],
    ],
    [
      'uniform set is assigned whole',
      [cell('st', new Set(['a', 'b']), [10n, 10n], [null, null])],
      ['insert@10/0[st=]'],
    ],
    [
      'set elements of different writetimes are added per group; the marker goes in alone',
      [cell('st', new Set(['a', 'b']), [10n, 20n], [null, 7])],
      ['insert@10/0[]', 'update@10/0[st+=]', 'update@20/7[st+=]'],
    ],
    [
      'map elements per group',
      [
        cell(
          'm',
          new Map([
            ['x', 1],
            ['y', 2],
          ]),
          [30n, 10n],
          [null, null],
        ),
        cell('a', 1, 10n),
      ],
      ['insert@10/0[]', 'update@10/0[m+=,a=]', 'update@30/0[m+=]'],
    ],
    [
      'UDT fields per writetime; null fields skipped',
      [cell('u', { street: 's', zip: null }, [10n, null], [null, null])],
      ['insert@10/0[]', 'update@10/0[u.street=]'],
    ],
    [
      'a UDT field with a value but no writetime is kept, at the newest known field writetime',
      [cell('u', { street: 's', zip: 5 }, [10n, null], [null, null])],
      ['insert@10/0[]', 'update@10/0[u.street=,u.zip=]'],
    ],
    ['uniform list is assigned whole (exact)', [cell('l', [1, 2], [10n, 10n], [5, 5])], ['insert@10/5[l=]']],
    [
      'mixed list: whole list at the newest writetime, no TTL unless all expire',
      [cell('l', [1, 2], [10n, 20n], [5, null])],
      ['insert@20/0[l=]'],
    ],
    [
      'mixed list where all expire: longest TTL',
      [cell('l', [1, 2], [10n, 20n], [5, 9])],
      ['insert@20/9[l=]'],
    ],
  ];
  for (const [name, cells, expected] of cases) test(name, () => assert.deepEqual(picture(cells), expected));

  test('writetime filters skip cells outside the window and count them', () => {
    const filtered = { ...options, writetimeMin: 15n, writetimeMax: 25n };
    const plan = planRowWrites(
      [cell('a', 1, 10n), cell('b', 'x', 20n), cell('st', new Set(['p', 'q']), [20n, 30n], [null, null])],
      filtered,
    );
    assert.equal(plan.skippedCells, 2);
    assert.deepEqual(picture([cell('a', 1, 10n), cell('b', 'x', 20n)], filtered), ['insert@20/0[b=]']);
    assert.deepEqual(planRowWrites([cell('a', 1, 10n)], filtered).writes, []);
  });

  test('static cells become partition-level writes without a marker', () => {
    const plan = planStaticWrites([cell('s', 'v', 10n, 60)], options);
    assert.deepEqual(plan.writes, [
      { kind: 'static', timestamp: 10n, ttl: 60, assignments: [{ op: 'set', column: 's', value: 'v' }] },
    ]);
  });
});

describe('writeStatement', () => {
  const target = { tableCql: 'ks."T"', partitionKey: ['k'], clustering: ['Ck'] };
  test('INSERT with keys, cells, timestamp and TTL', () => {
    const s = writeStatement(
      target,
      { kind: 'insert', timestamp: 5n, ttl: 0, assignments: [{ op: 'set', column: 'a', value: 1 }] },
      [1, 2],
    );
    assert.equal(s.query, 'INSERT INTO ks."T" (k, "Ck", a) VALUES (?, ?, ?) USING TIMESTAMP ? AND TTL ?');
    assert.deepEqual(s.params, [1, 2, 1, 5n, 0]);
  });
  test('UPDATE with collection adds and UDT fields', () => {
    const s = writeStatement(
      target,
      {
        kind: 'update',
        timestamp: 5n,
        ttl: 3,
        assignments: [
          { op: 'add', column: 'st', value: ['x'] },
          { op: 'field', column: 'u', field: 'Zip', value: 1 },
        ],
      },
      [1, 2],
    );
    assert.equal(
      s.query,
      'UPDATE ks."T" USING TIMESTAMP ? AND TTL ? SET st = st + ?, u."Zip" = ? WHERE k = ? AND "Ck" = ?',
    );
    assert.deepEqual(s.params, [5n, 3, ['x'], 1, 1, 2]);
  });
  test('static writes address the partition only', () => {
    const s = writeStatement(
      target,
      { kind: 'static', timestamp: 5n, ttl: 0, assignments: [{ op: 'set', column: 's', value: 'v' }] },
      [1, 2],
    );
    assert.equal(s.query, 'UPDATE ks."T" USING TIMESTAMP ? AND TTL ? SET s = ? WHERE k = ?');
    assert.deepEqual(s.params, [5n, 0, 'v', 1]);
  });
});
