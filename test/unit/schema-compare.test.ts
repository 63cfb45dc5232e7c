import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compareTables, type IncompatibilityKind } from '../../src/schema/compare.js';
import { tableOf } from '../helpers/schema-builder.js';

const base = { k: 'pk int', c: 'ck int desc', s: 'static text', v: 'map<text, int>', u: 'frozen<addr>' };
const types = { addr: { street: 'text', zip: 'int' } };

describe('compareTables', () => {
  const cases: [
    name: string,
    target: Record<string, string>,
    expected: IncompatibilityKind[],
    targetTypes?: Record<string, Record<string, string>>,
  ][] = [
    ['identical', base, []],
    ['extra regular column on Target is fine', { ...base, extra: 'int' }, []],
    [
      'missing column',
      { k: 'pk int', c: 'ck int desc', s: 'static text', u: 'frozen<addr>' },
      ['missing_column'],
    ],
    ['different type', { ...base, v: 'map<text, bigint>' }, ['type_mismatch']],
    ['frozen vs not', { ...base, v: 'frozen<map<text, int>>' }, ['type_mismatch']],
    ['static vs regular', { ...base, s: 'text' }, ['kind_mismatch']],
    ['clustering order', { ...base, c: 'ck int' }, ['clustering_mismatch']],
    [
      'partition key',
      {
        k: 'pk int',
        k2: 'pk int',
        c: 'ck int desc',
        s: 'static text',
        v: 'map<text, int>',
        u: 'frozen<addr>',
      },
      ['partition_key_mismatch', 'extra_key_column'],
    ],
    ['UDT with a different field type', base, ['type_mismatch'], { addr: { street: 'text', zip: 'text' } }],
    [
      'UDT with an extra trailing field on Target',
      base,
      [],
      { addr: { street: 'text', zip: 'int', city: 'text' } },
    ],
  ];
  for (const [name, targetColumns, expected, targetTypes] of cases) {
    test(name, () => {
      const origin = tableOf(base, { userTypes: types });
      const target = tableOf(targetColumns, { userTypes: targetTypes ?? types, keyspace: 'other' });
      assert.deepEqual(
        compareTables(origin, target).map((p) => p.kind),
        expected,
      );
    });
  }
  test('rename and skip map Origin columns onto Target', () => {
    const origin = tableOf({ k: 'pk int', old: 'text', gone: 'blob' });
    const target = tableOf({ k: 'pk int', new: 'text' });
    const mapping = { skip: new Set(['gone']), rename: new Map([['old', 'new']]) };
    assert.deepEqual(compareTables(origin, target, mapping), []);
    assert.deepEqual(
      compareTables(origin, target, { skip: new Set(['k', 'nope']), rename: new Map() }).map((p) => p.kind),
      ['unknown_mapped_column', 'skipped_key_column', 'missing_column', 'missing_column', 'extra_key_column'],
    );
  });
  test('messages name the column and both types', () => {
    const [problem] = compareTables(
      tableOf(base, { userTypes: types }),
      tableOf({ ...base, v: 'list<int>' }, { userTypes: types }),
    );
    assert.equal(problem?.message, 'column v is map<text, int> on Origin but list<int> on Target');
  });
});
