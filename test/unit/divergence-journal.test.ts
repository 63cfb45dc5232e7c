import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import pino from 'pino';
import {
  BatchType,
  Consistency,
  type DataType,
  ErrorCode,
  encodeBatch,
  encodeError,
  encodeExecute,
  encodeFrame,
  encodeQuery,
  encodeResult,
  Framer,
  Opcode,
  type PreparedMetadata,
  queryParameters,
  type RawFrame,
  simpleError,
  UNSET,
} from '../../src/proxy/codec/index.js';
import { divergenceEntries, preparedKeyOfResult } from '../../src/proxy/divergence-entries.js';
import {
  DivergenceJournal,
  journalLine,
  journalOfWorker,
  MAX_STATEMENT_CHARS,
  needsRotation,
  rotationSteps,
} from '../../src/proxy/divergence-journal.js';
import { boundKey, preparedKeyOf, writtenPartitionOf } from '../../src/proxy/partition-key-of.js';
import { PreparedCache } from '../../src/proxy/prepared-cache.js';

const INT: DataType = { kind: 'int' } as DataType;
const TEXT: DataType = { kind: 'varchar' } as DataType;
const col = (name: string, table = 't') => ({ keyspace: 'ks', table, name, type: INT });

function frame(opcode: number, body: Buffer, response = false): RawFrame {
  const raw = encodeFrame({ version: 4, isResponse: response, flags: 0, streamId: 3, opcode }, body);
  return new Framer({ supportedVersions: [4] }).push(raw).frames[0]!;
}

describe('partition key of a prepared statement (spec v4 §4.2.5.4 pk_indexes)', () => {
  const cases: [string, PreparedMetadata, unknown][] = [
    [
      'one key column after a value',
      { pkIndexes: [1], columns: [col('v'), col('k')] },
      { keyspace: 'ks', table: 't', columns: [{ name: 'k', index: 1 }] },
    ],
    [
      'composite key in key order, not marker order',
      { pkIndexes: [2, 0], columns: [col('b'), col('v'), col('a')] },
      {
        keyspace: 'ks',
        table: 't',
        columns: [
          { name: 'a', index: 2 },
          { name: 'b', index: 0 },
        ],
      },
    ],
    ['no pk indexes (v3, or key not fully bound)', { pkIndexes: [], columns: [col('v')] }, null],
    ['markers of two tables', { pkIndexes: [0], columns: [col('k'), col('k', 'u')] }, null],
    ['an index past the markers', { pkIndexes: [3], columns: [col('k')] }, null],
  ];
  for (const [name, metadata, expected] of cases)
    test(name, () => assert.deepEqual(preparedKeyOf(metadata), expected));

  test('bound values become hex by key column; missing, null, unset or named give none', () => {
    const key = preparedKeyOf({ pkIndexes: [2, 0], columns: [col('b'), col('v'), col('a')] })!;
    const values = [Buffer.from('0002', 'hex'), Buffer.from('ff', 'hex'), Buffer.from('01', 'hex')];
    assert.deepEqual(boundKey(key, values, false), { a: '01', b: '0002' });
    assert.equal(boundKey(key, values, true), null);
    assert.equal(boundKey(key, null, false), null);
    assert.equal(boundKey(key, [null, values[1]!, values[2]!], false), null);
    assert.equal(boundKey(key, [UNSET, values[1]!, values[2]!], false), null);
    assert.equal(boundKey(key, values.slice(0, 2), false), null);
  });
});

describe('the partition a statement text writes', () => {
  const cases: [string, unknown][] = [
    [
      "INSERT INTO ks.t (k, c, v) VALUES (1, 'a''b', 2.5)",
      { keyspace: 'ks', table: 't', literals: { k: '1', c: "'a''b'", v: '2.5' } },
    ],
    ['insert into T (k, v) values (?, 3) USING TTL 5', { keyspace: null, table: 't', literals: { v: '3' } }],
    [
      'INSERT INTO "Ks"."T" (id, v) VALUES (123e4567-e89b-12d3-a456-426614174000, -4)',
      { keyspace: 'Ks', table: 'T', literals: { id: '123e4567-e89b-12d3-a456-426614174000', v: '-4' } },
    ],
    ['INSERT INTO ks.t (k, v) VALUES (now(), [1, 2])', { keyspace: 'ks', table: 't', literals: {} }],
    [
      "UPDATE ks.t USING TTL 10 SET v = 'x' WHERE k = 7 AND c = 'q' IF v = 'y'",
      { keyspace: 'ks', table: 't', literals: { k: '7', c: "'q'" } },
    ],
    [
      'UPDATE ks.t SET v = 1 WHERE k IN (1, 2) AND c = 3',
      { keyspace: 'ks', table: 't', literals: { c: '3' } },
    ],
    [
      'DELETE v FROM ks.t USING TIMESTAMP 5 WHERE k = 0x0aff;',
      { keyspace: 'ks', table: 't', literals: { k: '0x0aff' } },
    ],
    ['DELETE FROM t WHERE k = ? AND c > 3', { keyspace: null, table: 't', literals: {} }],
    ['SELECT * FROM ks.t WHERE k = 1', null],
    ['INSERT INTO ks.t JSON \'{"k": 1}\'', null],
    ['INSERT INTO ks.t (k, v) VALUES (1', null],
    ['DELETE FROM', null],
  ];
  for (const [text, expected] of cases)
    test(text, () => assert.deepEqual(writtenPartitionOf(text), expected));
});

describe('journal lines and rotation', () => {
  test('a line is one JSON object and a newline; long statements are cut', () => {
    const entry = {
      time: '2025-01-01T00:00:00.000Z',
      table: 'ks.t',
      failed: 'target' as const,
      error: 'down',
      request: 'QUERY' as const,
      statement: 'x'.repeat(MAX_STATEMENT_CHARS + 50),
    };
    const line = journalLine(entry);
    assert.ok(line.endsWith('}\n'));
    assert.equal(line.indexOf('\n'), line.length - 1);
    assert.equal(JSON.parse(line).statement.length, MAX_STATEMENT_CHARS + 1);
  });

  const rotations: [number, number, number, boolean][] = [
    [0, 500, 100, false], // an empty file takes any line: a line is never split
    [50, 50, 100, false],
    [51, 50, 100, true],
  ];
  for (const [size, line, max, expected] of rotations)
    test(`size ${size} + line ${line} against max ${max}: rotate ${expected}`, () =>
      assert.equal(needsRotation(size, line, max), expected));

  test('rotation renames oldest first and drops the last kept file', () => {
    assert.deepEqual(rotationSteps('j', 3), {
      drop: 'j.2',
      renames: [
        ['j.1', 'j.2'],
        ['j', 'j.1'],
      ],
    });
    assert.deepEqual(rotationSteps('j', 1), { drop: 'j', renames: [] });
  });

  const dir = mkdtempSync(join(tmpdir(), 'journal-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('the journal file rotates at its size and keeps the configured number of files', () => {
    const path = join(dir, 'sub', 'j.jsonl');
    const journal = new DivergenceJournal(
      { path, maxBytes: 4096, files: 2, syncIntervalMs: 10 },
      pino({ level: 'silent' }),
    );
    const entry = (i: number) => ({
      time: 't',
      table: 'ks.t',
      failed: 'target' as const,
      error: 'e'.repeat(900),
      request: 'EXECUTE' as const,
      key: { k: i.toString(16).padStart(8, '0') },
    });
    for (let i = 0; i < 12; i++) journal.record([entry(i)]);
    journal.close();
    assert.deepEqual(readdirSync(join(dir, 'sub')).sort(), ['j.jsonl', 'j.jsonl.1']);
    const keys = (file: string) =>
      readFileSync(join(dir, 'sub', file), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).key.k);
    // Four ~1 KB lines fit in 4 KiB: lines 0-7 were rotated away, 8-11 remain, newest in the live file.
    assert.deepEqual(
      [...keys('j.jsonl.1'), ...keys('j.jsonl')],
      ['00000004', '00000005', '00000006', '00000007', '00000008', '00000009', '0000000a', '0000000b'],
    );
  });
});

describe('journal entries of a diverged request', () => {
  const failure = frame(Opcode.ERROR, encodeError(simpleError(ErrorCode.SERVER_ERROR, 'timed out'), 4), true);
  const prepared = frame(
    Opcode.RESULT,
    encodeResult(
      {
        kind: 'prepared',
        id: Buffer.from('abcd', 'hex'),
        resultMetadataId: null,
        metadata: { pkIndexes: [1], columns: [{ ...col('v'), type: TEXT }, col('k')] },
        resultMetadata: { columnCount: 0, columns: null, pagingState: null, newMetadataId: null },
      },
      4,
    ),
    true,
  );
  const key = preparedKeyOfResult(prepared, 4);
  const write = (request: RawFrame) => ({
    frame: request,
    version: 4 as const,
    failed: 'target' as const,
    failure,
    keyspace: 'app',
    preparedKey: (id: Buffer) => (id.toString('hex') === 'abcd' ? key : undefined),
    preparedText: (id: Buffer) =>
      id.toString('hex') === 'abcd' ? 'INSERT INTO ks.t (v, k) VALUES (?, ?)' : undefined,
  });
  const at = new Date('2025-01-02T03:04:05.000Z');
  const base = { time: at.toISOString(), failed: 'target', error: 'timed out' };

  test('EXECUTE: the bound key values', () => {
    const body = encodeExecute(
      {
        id: Buffer.from('abcd', 'hex'),
        resultMetadataId: null,
        params: queryParameters(Consistency.ONE, {
          values: [Buffer.from('x'), Buffer.from('00000007', 'hex')],
        }),
      },
      4,
    );
    assert.deepEqual(divergenceEntries(write(frame(Opcode.EXECUTE, body)), at), [
      { ...base, request: 'EXECUTE', table: 'ks.t', key: { k: '00000007' } },
    ]);
  });

  test('QUERY: literals of an unqualified table in the session keyspace; the proxy error of a down cluster', () => {
    const text = 'UPDATE t SET v = 1 WHERE k = 5';
    const body = encodeQuery({ query: text, params: queryParameters(Consistency.ONE) }, 4);
    const down = { ...write(frame(Opcode.QUERY, body)), failure: new Error('target connection closed') };
    assert.deepEqual(divergenceEntries(down, at), [
      {
        ...base,
        error: 'target connection closed',
        request: 'QUERY',
        table: 'app.t',
        literals: { k: '5' },
        statement: text,
      },
    ]);
  });

  test('BATCH: one entry per child; an unknown table keeps the statement', () => {
    const body = encodeBatch(
      {
        type: BatchType.LOGGED,
        children: [
          {
            kind: 'prepared',
            id: Buffer.from('abcd', 'hex'),
            values: [null, Buffer.from('00000009', 'hex')],
          },
          { kind: 'query', query: 'TRUNCATE x', values: [] },
        ],
        consistency: Consistency.ONE,
        serialConsistency: null,
        defaultTimestamp: null,
        keyspace: null,
        nowInSeconds: null,
      },
      4,
    );
    assert.deepEqual(divergenceEntries(write(frame(Opcode.BATCH, body)), at), [
      { ...base, request: 'BATCH', table: 'ks.t', key: { k: '00000009' } },
      { ...base, request: 'BATCH', table: null, statement: 'TRUNCATE x' },
    ]);
  });
});

describe('the prepared cache keeps what the journal needs', () => {
  test('key and text survive set and get', () => {
    const cache = new PreparedCache(2);
    const key = { keyspace: 'ks', table: 't', columns: [{ name: 'k', index: 0 }] };
    cache.set(Buffer.from('01', 'hex'), {
      targetId: Buffer.from('02', 'hex'),
      statement: { kind: 'other' },
      key,
      text: 'INSERT ...',
    });
    const entry = cache.get(Buffer.from('01', 'hex'));
    assert.deepEqual([entry?.key, entry?.text], [key, 'INSERT ...']);
  });
});

test('each worker of a pool journals to its own file; a single process keeps the path', () => {
  const options = { path: 'state/divergence-journal.jsonl', maxBytes: 1024, files: 2, syncIntervalMs: 100 };
  assert.equal(journalOfWorker(options, undefined).path, 'state/divergence-journal.jsonl');
  assert.equal(journalOfWorker(options, 2).path, 'state/divergence-journal.worker2.jsonl');
  assert.equal(journalOfWorker({ ...options, path: 'state.d/journal' }, 1).path, 'state.d/journal.worker1');
});
