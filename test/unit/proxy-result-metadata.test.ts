import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type ColumnSpec,
  decodeResult,
  encodeFrame,
  encodeResult,
  Framer,
  Opcode,
  type PreparedResult,
  type ProtocolVersion,
  type RawFrame,
  type RowsMetadata,
} from '../../src/proxy/codec/index.js';
import { clientPreparedFrame, rowsNewMetadataId } from '../../src/proxy/frame-reading.js';
import { PreparedCache } from '../../src/proxy/prepared-cache.js';
import {
  executeResultMetadataIdFor,
  type ResultMetadataIds,
  resultMetadataSource,
  withNewResultMetadataId,
} from '../../src/proxy/result-metadata.js';
import type { ClusterName } from '../../src/proxy/route-request.js';
import { classifyStatement } from '../../src/proxy/statement.js';

const id = (hex: string) => Buffer.from(hex, 'hex');
const column = (name: string, type: 'int' | 'varchar'): ColumnSpec => ({
  keyspace: 'ks',
  table: 't',
  name,
  type: { kind: type },
});

describe('resultMetadataSource: whose result columns the client gets with PREPARED', () => {
  const cases: readonly [ClusterName, boolean, ClusterName][] = [
    ['origin', true, 'origin'],
    ['origin', false, 'origin'],
    // Reads run on Target: the client must decode them by Target's columns.
    ['target', true, 'target'],
    // Target did not prepare it: reads of it run on Origin.
    ['target', false, 'origin'],
  ];
  for (const [primary, targetPrepared, expected] of cases) {
    test(`primary ${primary}, Target prepared: ${targetPrepared} → ${expected}`, () => {
      assert.equal(resultMetadataSource(primary, targetPrepared), expected);
    });
  }
});

describe('executeResultMetadataIdFor: the <result_metadata_id> an EXECUTE carries to a cluster', () => {
  const client = id('c1');
  const own = id('0a');
  const cases: readonly [string, Buffer | null, boolean, Buffer][] = [
    [
      'answer reaches the client: the client id, so a difference comes back as Metadata_changed',
      own,
      true,
      client,
    ],
    ['answer reaches the client, own id unknown', null, true, client],
    ['asynchronous copy: the cluster’s own id, so it sends no metadata nobody reads', own, false, own],
    ['asynchronous copy, own id unknown: the client id', null, false, client],
  ];
  for (const [name, ownId, reaches, expected] of cases) {
    test(name, () => {
      assert.deepEqual(executeResultMetadataIdFor(client, ownId, reaches), expected);
    });
  }
});

describe('withNewResultMetadataId', () => {
  const ids: ResultMetadataIds = { origin: id('01'), target: id('02') };
  test('replaces the cluster’s id only', () => {
    assert.deepEqual(withNewResultMetadataId(ids, 'target', id('03')), {
      origin: id('01'),
      target: id('03'),
    });
  });
  test('the same id: the same object', () => {
    assert.equal(withNewResultMetadataId(ids, 'origin', id('01')), ids);
  });
});

describe('PreparedCache.learnResultMetadataId', () => {
  const statement = classifyStatement('SELECT * FROM ks.t WHERE k = ?');
  test('updates the cluster’s id and keeps the eviction order', () => {
    const cache = new PreparedCache(2);
    cache.set(id('aa'), {
      targetId: id('aa'),
      statement,
      resultMetadataIds: { origin: id('01'), target: id('02') },
    });
    cache.set(id('bb'), { targetId: id('bb'), statement });
    cache.learnResultMetadataId(id('aa'), 'target', id('09'));
    assert.deepEqual(cache.get(id('aa'))?.resultMetadataIds, { origin: id('01'), target: id('09') });
    // 'aa' was read last: adding a third entry evicts 'bb'.
    cache.set(id('cc'), { targetId: id('cc'), statement });
    assert.equal(cache.get(id('bb')), undefined);
  });
  test('an entry without ids (prepared before v5) or a dropped one is left alone', () => {
    const cache = new PreparedCache(2);
    cache.set(id('aa'), { targetId: id('aa'), statement });
    cache.learnResultMetadataId(id('aa'), 'origin', id('09'));
    cache.learnResultMetadataId(id('ff'), 'origin', id('09'));
    assert.equal(cache.get(id('aa'))?.resultMetadataIds, undefined);
    assert.equal(cache.size, 1);
  });
});

function frameOf(version: ProtocolVersion, opcode: number, body: Buffer): RawFrame {
  const raw = encodeFrame({ version, isResponse: true, flags: 0, streamId: 7, opcode }, body);
  return new Framer({ supportedVersions: [version] }).push(raw).frames[0]!;
}

const rowsMetadata = (columns: readonly ColumnSpec[]): RowsMetadata => ({
  columnCount: columns.length,
  columns,
  pagingState: null,
  newMetadataId: null,
});

function prepared(resultId: Buffer | null, columns: readonly ColumnSpec[]): PreparedResult {
  return {
    kind: 'prepared',
    id: id('abcd'),
    resultMetadataId: resultId,
    metadata: { pkIndexes: [0], columns: [column('k', 'int')] },
    resultMetadata: rowsMetadata(columns),
  };
}

describe('clientPreparedFrame: Origin’s PREPARED with the primary’s result part', () => {
  // Target has a column `a` Origin lacks: SELECT * returns k, a, v there and k, v on Origin.
  const originColumns = [column('k', 'int'), column('v', 'varchar')];
  const targetColumns = [column('k', 'int'), column('a', 'int'), column('v', 'varchar')];
  for (const version of [4, 5] as const) {
    test(`v${version}: Target’s result columns${version === 5 ? ' and id' : ''}, Origin’s id and bind markers`, () => {
      const origin = frameOf(
        version,
        Opcode.RESULT,
        encodeResult(prepared(version === 5 ? id('01') : null, originColumns), version),
      );
      const target = prepared(version === 5 ? id('02') : null, targetColumns);
      const out = new Framer({ supportedVersions: [version] }).push(
        clientPreparedFrame(origin, version, [], target),
      ).frames[0]!;
      assert.equal(out.header.streamId, 7);
      assert.deepEqual(decodeResult(out.body, version), {
        ...prepared(version === 5 ? id('02') : null, targetColumns),
        id: id('abcd'),
      });
    });
  }
});

describe('rowsNewMetadataId (a whole RESULT frame)', () => {
  const rows = (newMetadataId: Buffer | null) =>
    encodeResult(
      { kind: 'rows', metadata: { ...rowsMetadata([column('k', 'int')]), newMetadataId }, rows: [] },
      5,
    );
  test('v5 ROWS with Metadata_changed', () => {
    assert.deepEqual(rowsNewMetadataId(frameOf(5, Opcode.RESULT, rows(id('55'))), 5), id('55'));
  });
  test('v5 ROWS without it, an ERROR frame, v4', () => {
    assert.equal(rowsNewMetadataId(frameOf(5, Opcode.RESULT, rows(null)), 5), null);
    assert.equal(rowsNewMetadataId(frameOf(5, Opcode.ERROR, Buffer.from('0000000000', 'hex')), 5), null);
    assert.equal(rowsNewMetadataId(frameOf(4, Opcode.RESULT, encodeResult({ kind: 'void' }, 4)), 4), null);
  });
});
