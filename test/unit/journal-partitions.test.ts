import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { OperatorError } from '../../src/errors.js';
import { parseCqlType } from '../../src/schema/cql-type.js';
import type { ColumnSchema, TableSchema } from '../../src/schema/table-schema.js';
import {
  journalPlan,
  literalBytes,
  murmur3Token,
  parseJournal,
  partitionKeyBytes,
  selectFromJournal,
  tokenRanges,
} from '../../src/validate/journal-partitions.js';

const column = (name: string, type: string, position: number): ColumnSchema => ({
  name,
  kind: 'partition_key',
  position,
  type: parseCqlType(type),
  typeText: type,
  clusteringOrder: undefined,
});

const schema = (partitionKey: ColumnSchema[]): TableSchema => ({
  keyspace: 'ks',
  table: 't',
  partitionKey,
  clustering: [],
  statics: [],
  regulars: [],
  defaultTtl: 0,
  userTypes: new Map(),
});

const int = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};

describe('reading journal text', () => {
  const cases: [string, string, { tables: (string | null)[]; corrupt: number[]; tornTail: boolean }][] = [
    [
      'two lines',
      '{"table":"ks.t"}\n{"table":null}\n',
      { tables: ['ks.t', null], corrupt: [], tornTail: false },
    ],
    ['empty', '', { tables: [], corrupt: [], tornTail: false }],
    [
      'a torn last line is skipped',
      '{"table":"ks.t"}\n{"table":"ks',
      { tables: ['ks.t'], corrupt: [], tornTail: true },
    ],
    [
      'a last line without newline but whole is kept',
      '{"table":"ks.t"}',
      { tables: ['ks.t'], corrupt: [], tornTail: false },
    ],
    [
      'garbage in the middle',
      '{"table":"a.b"}\nnot json\n[1]\n{"table":"a.b"}\n',
      { tables: ['a.b', 'a.b'], corrupt: [2, 3], tornTail: false },
    ],
    ['a line without table', '{"key":{}}\n', { tables: [], corrupt: [1], tornTail: false }],
    [
      'a key that is not text',
      '{"table":"a.b","key":{"k":1}}\n',
      { tables: [], corrupt: [1], tornTail: false },
    ],
  ];
  for (const [name, text, expected] of cases)
    test(name, () => {
      const parsed = parseJournal(text);
      assert.deepEqual(
        { tables: parsed.lines.map((l) => l.table), corrupt: parsed.corrupt, tornTail: parsed.tornTail },
        expected,
      );
    });
});

describe('Murmur3 tokens of partition keys', () => {
  // The token Cassandra gives an int key of 1 (SELECT token(k) ...); the integration test
  // (divergence-journal.test.ts) compares composite keys with a real cluster's token().
  test('single-column keys hash their bytes', () =>
    assert.equal(murmur3Token([int(1)]), -4069959284402364209n));
  test('a composite key hashes [short length][bytes][0] per component', () => {
    const composite = Buffer.concat([Buffer.from('00040000000100', 'hex'), Buffer.from('00016100', 'hex')]);
    assert.equal(murmur3Token([int(1), Buffer.from('a')]), murmur3Token([composite]));
    assert.notEqual(murmur3Token([int(1), Buffer.from('a')]), murmur3Token([int(1)]));
  });
  test('one-token ranges', () => assert.deepEqual(tokenRanges([5n]), [{ start: 4n, end: 5n }]));
});

describe('partition keys of journal lines', () => {
  const table = schema([column('id', 'int', 0), column('name', 'text', 1)]);
  const cases: [string, object, Buffer[] | null][] = [
    ['bound key values', { table: 'ks.t', key: { id: '00000001', name: '61' } }, [int(1), Buffer.from('a')]],
    ['literals', { table: 'ks.t', literals: { id: '1', name: "'a'", v: '3' } }, [int(1), Buffer.from('a')]],
    ['a key column missing', { table: 'ks.t', literals: { id: '1' } }, null],
    ['a literal of the wrong kind', { table: 'ks.t', literals: { id: "'x'", name: "'a'" } }, null],
    ['key hex that is not hex', { table: 'ks.t', key: { id: 'zz', name: '61' } }, null],
    ['no key at all', { table: 'ks.t', statement: 'UPDATE ...' }, null],
  ];
  for (const [name, line, expected] of cases)
    test(name, () => assert.deepEqual(partitionKeyBytes(line as never, table.partitionKey, table), expected));

  const literalCases: [string, string, string | null][] = [
    ['-7', 'bigint', 'fffffffffffffff9'],
    ['12', 'smallint', '000c'],
    ["'it''s'", 'text', Buffer.from("it's").toString('hex')],
    ['123e4567-e89b-12d3-a456-426614174000', 'uuid', '123e4567e89b12d3a456426614174000'],
    ['0xbeef', 'blob', 'beef'],
    ['true', 'boolean', '01'],
    ['1.5', 'int', null],
    ['[1]', 'frozen<list<int>>', null],
  ];
  for (const [literal, type, expected] of literalCases)
    test(`literal ${literal} as ${type}`, () =>
      assert.equal(literalBytes(literal, parseCqlType(type), table)?.toString('hex') ?? null, expected));

  test('the plan of one table: its partitions once each, the lines without key, the tables listed', () => {
    const plan = journalPlan(
      [
        { table: 'ks.t', key: { id: '00000001', name: '61' } },
        { table: 'ks.t', literals: { id: '1', name: "'a'" } },
        { table: 'ks.t', statement: 'DELETE FROM ks.t WHERE id IN (1, 2)' },
        { table: 'ks.other', key: { k: '00' } },
        { table: null, statement: 'BATCH ...' },
      ],
      table,
    );
    assert.deepEqual(plan.tokens, [murmur3Token([int(1), Buffer.from('a')])]);
    assert.deepEqual(plan.unkeyed, ['DELETE FROM ks.t WHERE id IN (1, 2)']);
    assert.deepEqual([...plan.tables].sort(), ['ks.other', 'ks.t']);
    assert.equal(plan.linesOfTable, 3);
  });
});

describe('selecting from journal files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'journal-select-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const table = schema([column('id', 'int', 0)]);
  const code = (work: () => unknown) => {
    try {
      work();
    } catch (error) {
      assert.ok(error instanceof OperatorError, String(error));
      return { code: error.code, message: error.message };
    }
    assert.fail('expected an operator error');
  };

  test('rotated files are read too, oldest first', () => {
    const path = join(dir, 'j.jsonl');
    writeFileSync(path, '{"table":"ks.t","key":{"id":"00000001"}}\n');
    writeFileSync(`${path}.1`, '{"table":"ks.t","key":{"id":"00000002"}}\n');
    const selection = selectFromJournal(path, table);
    assert.deepEqual(selection.files, [`${path}.1`, path]);
    assert.equal(selection.ranges.length, 2);
  });

  test('the files of the worker processes of a proxy are found from the configured path', () => {
    const path = join(dir, 'w.jsonl');
    const worker1 = join(dir, 'w.worker1.jsonl');
    const worker3 = join(dir, 'w.worker3.jsonl');
    writeFileSync(worker1, '{"table":"ks.t","key":{"id":"00000001"}}\n');
    writeFileSync(`${worker1}.1`, '{"table":"ks.t","key":{"id":"00000002"}}\n');
    // Worker 2 never journaled anything: no file, and the search goes on past it.
    writeFileSync(worker3, '{"table":"ks.t","key":{"id":"00000003"}}\n');
    const selection = selectFromJournal(path, table);
    assert.deepEqual(selection.files, [`${worker1}.1`, worker1, worker3]);
    assert.equal(selection.ranges.length, 3);
  });

  test('a missing file, corrupt lines and a table the journal does not list are operator errors', () => {
    assert.equal(code(() => selectFromJournal(join(dir, 'none.jsonl'), table)).code, 'JOURNAL_NOT_FOUND');
    const corrupt = join(dir, 'c.jsonl');
    writeFileSync(corrupt, '{"table":"ks.t"}\nhello\n');
    const bad = code(() => selectFromJournal(corrupt, table));
    assert.equal(bad.code, 'JOURNAL_CORRUPT');
    assert.match(bad.message, /line 2 is not/);
    const other = join(dir, 'o.jsonl');
    writeFileSync(other, '{"table":"ks.u","key":{"id":"00"}}\n');
    const none = code(() => selectFromJournal(other, table));
    assert.equal(none.code, 'JOURNAL_NO_TABLE');
    assert.match(none.message, /lists ks\.u/);
  });
});
