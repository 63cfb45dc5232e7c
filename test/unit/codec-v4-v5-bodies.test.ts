import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type BatchRequest,
  Consistency,
  decodeBatch,
  decodeError,
  decodeExecute,
  decodePrepare,
  decodeQuery,
  decodeResult,
  ErrorCode,
  encodeBatch,
  encodeError,
  encodeExecute,
  encodePrepare,
  encodeQuery,
  encodeResult,
  FrameFlag,
  Opcode,
  type PreparedResult,
  queryParameters,
  type RowsResult,
  requestV4ToV5,
  responseV5ToV4,
} from '../../src/proxy/codec/index.js';

const hex = (...fields: string[]): Buffer => Buffer.from(fields.join(''), 'hex');
const noId = (): Buffer => {
  throw new Error('no result metadata id expected');
};

describe('requestV4ToV5', () => {
  test('QUERY vector: the [byte] flags become an [int] with the same bits', () => {
    // QUERY "Q" at LOCAL_ONE, flags values | default timestamp, one null value, timestamp 42.
    const query = (flags: string) =>
      hex('00000001', '51', '000a', flags, '0001', 'ffffffff', '000000000000002a');
    const v4 = query('21'); // flags [byte]
    const v5 = query('00000021'); // flags [int]
    assert.deepEqual(requestV4ToV5(Opcode.QUERY, v4, 0, noId), v5);
  });

  test('EXECUTE vector: the result metadata id after the prepared id, flags widened', () => {
    const v4 = hex(
      '0002', // prepared id: 2 bytes
      'aabb',
      '0004', // consistency QUORUM
      '02', // flags [byte]: skip metadata
    );
    const v5 = hex(
      '0002', // prepared id: 2 bytes
      'aabb',
      '0003', // result metadata id: 3 bytes
      'c0ffee',
      '0004', // consistency QUORUM
      '00000002', // flags [int]: skip metadata
    );
    const asked: string[] = [];
    const out = requestV4ToV5(Opcode.EXECUTE, v4, 0, (id) => {
      asked.push(id.toString('hex'));
      return hex('c0ffee');
    });
    assert.deepEqual(out, v5);
    assert.deepEqual(asked, ['aabb']);
  });

  test('PREPARE vector: an [int] of no flags (no keyspace) after the query', () => {
    assert.deepEqual(
      requestV4ToV5(Opcode.PREPARE, hex('00000001', '51'), 0, noId),
      hex('00000001', '51', '00000000'),
    );
  });

  test('round trips: what the v4 codec wrote decodes in v5 to the same message', () => {
    const params = queryParameters(Consistency.LOCAL_ONE, {
      values: [hex('01'), null],
      pageSize: 5000,
      pagingState: hex('0102'),
      serialConsistency: Consistency.LOCAL_SERIAL,
      defaultTimestamp: 1234n,
    });
    const query = { query: 'SELECT * FROM ks.t', params };
    assert.deepEqual(decodeQuery(requestV4ToV5(Opcode.QUERY, encodeQuery(query, 4), 0, noId), 5), query);
    const execute = { id: hex('99'), resultMetadataId: null, params };
    assert.deepEqual(
      decodeExecute(
        requestV4ToV5(Opcode.EXECUTE, encodeExecute(execute, 4), 0, () => hex('77')),
        5,
      ),
      { ...execute, resultMetadataId: hex('77') },
    );
    const batch: BatchRequest = {
      type: 0,
      children: [
        { kind: 'query', query: 'INSERT INTO ks.t (k) VALUES (?)', values: [hex('01')] },
        { kind: 'prepared', id: hex('aa'), values: [hex('02')] },
      ],
      consistency: Consistency.QUORUM,
      serialConsistency: null,
      defaultTimestamp: 42n,
      keyspace: null,
      nowInSeconds: null,
    };
    assert.deepEqual(decodeBatch(requestV4ToV5(Opcode.BATCH, encodeBatch(batch, 4), 0, noId), 5), batch);
    assert.deepEqual(
      decodePrepare(
        requestV4ToV5(Opcode.PREPARE, encodePrepare({ query: 'Q', keyspace: null }, 4), 0, noId),
        5,
      ),
      { query: 'Q', keyspace: null },
    );
  });

  test('a custom payload before the message stays in place', () => {
    const payload = hex('0001', '0001', '6b', '00000001', '09'); // {"k": 0x09}
    const body = Buffer.concat([payload, encodeQuery({ query: 'Q', params: queryParameters(1) }, 4)]);
    const out = requestV4ToV5(Opcode.QUERY, body, FrameFlag.CUSTOM_PAYLOAD, noId);
    assert.deepEqual(out.subarray(0, payload.length), payload);
    assert.equal(decodeQuery(out.subarray(payload.length), 5).query, 'Q');
  });

  test('other requests are the same in both versions', () => {
    const body = hex('0001', '0003', '616263');
    assert.equal(requestV4ToV5(Opcode.REGISTER, body, 0, noId), body);
  });
});

const columns = [{ keyspace: 'ks', table: 't', name: 'k', type: { kind: 'int' } }] as const;

/** Global table spec ks.t, column k int, then 0 rows. */
const COLUMN_K_NO_ROWS = [
  '0002', // keyspace "ks"
  '6b73',
  '0001', // table "t"
  '74',
  '0001', // column "k"
  '6b',
  '0009', // int
  '00000000', // 0 rows
];

describe('responseV5ToV4', () => {
  test('ROWS vector: Metadata_changed and the new id go, the metadata stays', () => {
    const v5 = hex(
      '00000002', // kind ROWS
      '00000009', // flags: global tables spec | metadata changed
      '00000001', // 1 column
      '0002', // new metadata id: 2 bytes
      'abcd',
      ...COLUMN_K_NO_ROWS,
    );
    const v4 = hex(
      '00000002', // kind ROWS
      '00000001', // flags: global tables spec
      '00000001', // 1 column
      ...COLUMN_K_NO_ROWS,
    );
    assert.deepEqual(responseV5ToV4(Opcode.RESULT, v5, 0), { body: v4, flags: 0, prepared: null });
  });

  test('ROWS with paging state: decodes in v4 to the same rows and paging state', () => {
    const rows: RowsResult = {
      kind: 'rows',
      metadata: { columnCount: 1, columns, pagingState: hex('0102'), newMetadataId: hex('ee') },
      rows: [[hex('00000007')]],
    };
    const out = responseV5ToV4(Opcode.RESULT, encodeResult(rows, 5), 0);
    assert.deepEqual(decodeResult(out.body, 4), {
      ...rows,
      metadata: { ...rows.metadata, newMetadataId: null },
    });
  });

  test('ROWS without the flag, VOID: the body itself', () => {
    const rows = encodeResult(
      {
        kind: 'rows',
        metadata: { columnCount: 1, columns: null, pagingState: null, newMetadataId: null },
        rows: [],
      },
      5,
    );
    assert.equal(responseV5ToV4(Opcode.RESULT, rows, 0).body, rows);
    const done = encodeResult({ kind: 'void' }, 5);
    assert.equal(responseV5ToV4(Opcode.RESULT, done, 0).body, done);
  });

  test('PREPARED: the result metadata id goes, and is reported', () => {
    const prepared: PreparedResult = {
      kind: 'prepared',
      id: hex('aabb'),
      resultMetadataId: hex('0c0d'),
      metadata: { pkIndexes: [0], columns },
      resultMetadata: { columnCount: 1, columns, pagingState: null, newMetadataId: null },
    };
    const out = responseV5ToV4(Opcode.RESULT, encodeResult(prepared, 5), 0);
    assert.deepEqual(decodeResult(out.body, 4), { ...prepared, resultMetadataId: null });
    assert.deepEqual(out.prepared, { id: hex('aabb'), resultMetadataId: hex('0c0d') });
  });

  test('READ_FAILURE: the v5 reason map becomes the v4 count', () => {
    const READ_FAILURE_HEAD = [
      '00001300', // READ_FAILURE
      '0001', // message "m"
      '6d',
      '0004', // consistency QUORUM
      '00000001', // received 1
      '00000002', // block for 2
    ];
    const v5 = hex(
      ...READ_FAILURE_HEAD,
      '00000001', // reason map: 1 entry
      '04', // inet: 4 bytes
      '7f000001', // 127.0.0.1
      '0000', // failure code 0
      '00', // data present: no
    );
    const v4 = hex(
      ...READ_FAILURE_HEAD,
      '00000001', // 1 failure
      '00', // data present: no
    );
    assert.deepEqual(responseV5ToV4(Opcode.ERROR, v5, 0).body, v4);
  });

  test('an error both versions share, with warnings before it, decodes the same', () => {
    const error = { kind: 'simple', code: ErrorCode.INVALID, message: 'bad' } as const;
    const warnings = hex('0001', '0001', '77'); // ["w"]
    const body = Buffer.concat([warnings, encodeError(error, 5)]);
    const out = responseV5ToV4(Opcode.ERROR, body, FrameFlag.WARNING);
    assert.equal(out.flags, FrameFlag.WARNING);
    assert.deepEqual(out.body.subarray(0, warnings.length), warnings);
    assert.deepEqual(
      decodeError(out.body.subarray(warnings.length), 4),
      decodeError(encodeError(error, 5), 5),
    );
  });
});
