import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
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
  requestV5ToV4,
  responseV4ToV5,
  resultMetadataIdOf,
  v5OnlyFields,
} from '../../src/proxy/codec/index.js';

const hex = (...fields: string[]): Buffer => Buffer.from(fields.join(''), 'hex');

describe('requestV5ToV4', () => {
  test('QUERY vector: [int] flags become a [byte]; keyspace and now_in_seconds go', () => {
    const head = ['00000001', '51', '000a']; // QUERY "Q" at LOCAL_ONE
    const v5 = hex(
      ...head,
      '000001a1', // flags: values | default timestamp | keyspace | now_in_seconds
      '0001', // one value
      'ffffffff', // null
      '000000000000002a', // timestamp 42
      '0002', // keyspace "ks"
      '6b73',
      '00000064', // now_in_seconds 100
    );
    const v4 = hex(...head, '21', '0001', 'ffffffff', '000000000000002a');
    assert.deepEqual(requestV5ToV4(Opcode.QUERY, v5, 0), { body: v4, execute: null });
    assert.deepEqual(v5OnlyFields(Opcode.QUERY, v5, 0), {
      keyspace: 'ks',
      nowInSeconds: true,
      texts: ['Q'],
    });
  });

  test('EXECUTE vector: the result metadata id and Skip_metadata go, and are reported', () => {
    const v5 = hex(
      '0002', // prepared id: 2 bytes
      'aabb',
      '0003', // result metadata id: 3 bytes
      'c0ffee',
      '0004', // consistency QUORUM
      '00000006', // flags [int]: skip metadata | page size
      '00001388', // page size 5000
    );
    const v4 = hex('0002', 'aabb', '0004', '04', '00001388');
    assert.deepEqual(requestV5ToV4(Opcode.EXECUTE, v5, 0), {
      body: v4,
      execute: { resultMetadataId: hex('c0ffee'), skipMetadata: true },
    });
  });

  test('PREPARE vector: the flags and keyspace go', () => {
    const v5 = hex('00000001', '51', '00000001', '0002', '6b73');
    assert.deepEqual(requestV5ToV4(Opcode.PREPARE, v5, 0).body, hex('00000001', '51'));
    assert.deepEqual(v5OnlyFields(Opcode.PREPARE, v5, 0), {
      keyspace: 'ks',
      nowInSeconds: false,
      texts: ['Q'],
    });
  });

  test('round trips: what the v5 codec wrote decodes in v4 to the same message, less the v5 fields', () => {
    const params = queryParameters(Consistency.LOCAL_ONE, {
      values: [hex('01'), null],
      pageSize: 5000,
      pagingState: hex('0102'),
      serialConsistency: Consistency.LOCAL_SERIAL,
      defaultTimestamp: 1234n,
      keyspace: 'ks',
      nowInSeconds: 7,
    });
    const v4Params = { ...params, keyspace: null, nowInSeconds: null };
    const query = { query: 'SELECT * FROM t', params };
    assert.deepEqual(decodeQuery(requestV5ToV4(Opcode.QUERY, encodeQuery(query, 5), 0).body, 4), {
      ...query,
      params: v4Params,
    });
    const execute = { id: hex('99'), resultMetadataId: hex('77'), params: { ...params, skipMetadata: true } };
    const out = requestV5ToV4(Opcode.EXECUTE, encodeExecute(execute, 5), 0);
    assert.deepEqual(decodeExecute(out.body, 4), {
      ...execute,
      resultMetadataId: null,
      params: { ...v4Params, skipMetadata: false },
    });
    const batch: BatchRequest = {
      type: 0,
      children: [
        { kind: 'query', query: 'INSERT INTO t (k) VALUES (?)', values: [hex('01')] },
        { kind: 'prepared', id: hex('aa'), values: [hex('02')] },
      ],
      consistency: Consistency.QUORUM,
      serialConsistency: Consistency.SERIAL,
      defaultTimestamp: 42n,
      keyspace: 'ks',
      nowInSeconds: null,
    };
    const encoded = encodeBatch(batch, 5);
    assert.deepEqual(decodeBatch(requestV5ToV4(Opcode.BATCH, encoded, 0).body, 4), {
      ...batch,
      keyspace: null,
    });
    assert.deepEqual(v5OnlyFields(Opcode.BATCH, encoded, 0), {
      keyspace: 'ks',
      nowInSeconds: false,
      texts: ['INSERT INTO t (k) VALUES (?)'],
    });
    const prepare = encodePrepare({ query: 'Q', keyspace: 'ks' }, 5);
    assert.deepEqual(decodePrepare(requestV5ToV4(Opcode.PREPARE, prepare, 0).body, 4), {
      query: 'Q',
      keyspace: null,
    });
  });

  test('a custom payload before the message stays in place', () => {
    const payload = hex('0001', '0001', '6b', '00000001', '09'); // {"k": 0x09}
    for (const [opcode, message] of [
      [Opcode.QUERY, encodeQuery({ query: 'Q', params: queryParameters(1, { keyspace: 'ks' }) }, 5)],
      [Opcode.PREPARE, encodePrepare({ query: 'Q', keyspace: 'ks' }, 5)],
    ] as const) {
      const body = Buffer.concat([payload, message]);
      const out = requestV5ToV4(opcode, body, FrameFlag.CUSTOM_PAYLOAD).body;
      assert.deepEqual(out.subarray(0, payload.length), payload);
      assert.equal(v5OnlyFields(opcode, body, FrameFlag.CUSTOM_PAYLOAD).keyspace, 'ks');
    }
  });

  test('requests without v5-only fields report none; other requests are the same', () => {
    const query = encodeQuery({ query: 'Q', params: queryParameters(1) }, 5);
    assert.deepEqual(v5OnlyFields(Opcode.QUERY, query, 0), {
      keyspace: null,
      nowInSeconds: false,
      texts: [],
    });
    const register = hex('0001', '0003', '616263');
    assert.equal(requestV5ToV4(Opcode.REGISTER, register, 0).body, register);
  });

  test('a truncated body is a codec error, not a crash', () => {
    const v5 = encodeQuery({ query: 'Q', params: queryParameters(1, { keyspace: 'ks' }) }, 5);
    for (let cut = 0; cut < v5.length; cut++) {
      assert.throws(() => v5OnlyFields(Opcode.QUERY, v5.subarray(0, cut), 0), /QUERY|request|v5/i);
    }
  });
});

const columns = [{ keyspace: 'ks', table: 't', name: 'k', type: { kind: 'int' } }] as const;
const metadata = { columnCount: 1, columns, pagingState: null, newMetadataId: null };

describe('resultMetadataIdOf', () => {
  test('the MD5 of the columns in their canonical v4 encoding; paging state aside', () => {
    const canonical = hex('00000001', '00000001', '0002', '6b73', '0001', '74', '0001', '6b', '0009');
    assert.deepEqual(resultMetadataIdOf(metadata), createHash('md5').update(canonical).digest());
    assert.deepEqual(
      resultMetadataIdOf({ ...metadata, pagingState: hex('01') }),
      resultMetadataIdOf(metadata),
    );
    const other = [{ ...columns[0], type: { kind: 'bigint' } }] as const;
    assert.notDeepEqual(resultMetadataIdOf({ ...metadata, columns: other }), resultMetadataIdOf(metadata));
  });
});

describe('responseV4ToV5', () => {
  const rows: RowsResult = { kind: 'rows', metadata, rows: [[hex('00000007')]] };
  const id = resultMetadataIdOf(metadata);

  test('PREPARED gains the id of its result columns', () => {
    const prepared: PreparedResult = {
      kind: 'prepared',
      id: hex('aabb'),
      resultMetadataId: null,
      metadata: { pkIndexes: [0], columns },
      resultMetadata: metadata,
    };
    const out = responseV4ToV5(Opcode.RESULT, encodeResult(prepared, 4), 0, null);
    assert.deepEqual(decodeResult(out.body, 5), { ...prepared, resultMetadataId: id });
  });

  test('ROWS for an EXECUTE that skips metadata with the current id: no columns', () => {
    const out = responseV4ToV5(Opcode.RESULT, encodeResult(rows, 4), 0, {
      resultMetadataId: id,
      skipMetadata: true,
    });
    assert.deepEqual(decodeResult(out.body, 5), { ...rows, metadata: { ...metadata, columns: null } });
  });

  test('ROWS for an EXECUTE with an older id: Metadata_changed, the new id and the columns', () => {
    for (const skipMetadata of [true, false]) {
      const out = responseV4ToV5(Opcode.RESULT, encodeResult(rows, 4), 0, {
        resultMetadataId: hex('0bad'),
        skipMetadata,
      });
      assert.deepEqual(decodeResult(out.body, 5), { ...rows, metadata: { ...metadata, newMetadataId: id } });
    }
  });

  test('ROWS of a QUERY, of an EXECUTE that wants the columns, VOID: the body itself', () => {
    const body = encodeResult(rows, 4);
    assert.equal(responseV4ToV5(Opcode.RESULT, body, 0, null).body, body);
    assert.equal(
      responseV4ToV5(Opcode.RESULT, body, 0, { resultMetadataId: id, skipMetadata: false }).body,
      body,
    );
    const done = encodeResult({ kind: 'void' }, 4);
    assert.equal(responseV4ToV5(Opcode.RESULT, done, 0, null).body, done);
  });

  test('WRITE_FAILURE: the v4 count becomes a reason map of as many unknown entries', () => {
    const failure = {
      kind: 'write_failure',
      code: ErrorCode.WRITE_FAILURE,
      message: 'm',
      consistency: Consistency.QUORUM,
      received: 1,
      blockFor: 2,
      numFailures: 2,
      reasons: null,
      writeType: 'SIMPLE',
    } as const;
    const out = decodeError(responseV4ToV5(Opcode.ERROR, encodeError(failure, 4), 0, null).body, 5);
    assert.deepEqual(out, {
      ...failure,
      reasons: [
        { endpoint: '0.0.0.0', failureCode: 0 },
        { endpoint: '0.0.0.1', failureCode: 0 },
      ],
    });
  });

  test('a CAS WRITE_TIMEOUT gains its contentions; warnings before an error stay', () => {
    const timeout = {
      kind: 'write_timeout',
      code: ErrorCode.WRITE_TIMEOUT,
      message: 'm',
      consistency: Consistency.SERIAL,
      received: 0,
      blockFor: 1,
      writeType: 'CAS',
      contentions: null,
    } as const;
    const warnings = hex('0001', '0001', '77'); // ["w"]
    const body = Buffer.concat([warnings, encodeError(timeout, 4)]);
    const out = responseV4ToV5(Opcode.ERROR, body, FrameFlag.WARNING, null);
    assert.equal(out.flags, FrameFlag.WARNING);
    assert.deepEqual(out.body.subarray(0, warnings.length), warnings);
    assert.deepEqual(decodeError(out.body.subarray(warnings.length), 5), { ...timeout, contentions: 0 });
  });
});
