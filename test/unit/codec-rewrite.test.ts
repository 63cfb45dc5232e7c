import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type BatchRequest,
  CodecError,
  Consistency,
  decodeBatch,
  decodeExecute,
  decodeQuery,
  encodeBatch,
  encodeExecute,
  encodeQuery,
  FrameFlag,
  Opcode,
  type ProtocolVersion,
  preparedIds,
  queryParameters,
  UNSET,
  type Value,
  withDefaultTimestamp,
  withPreparedId,
} from '../../src/proxy/codec/index.js';

const hex = (...fields: string[]): Buffer => Buffer.from(fields.join(''), 'hex');
const utf8 = (s: string): string => Buffer.from(s, 'utf8').toString('hex');

describe('withDefaultTimestamp', () => {
  test('QUERY v4 vector: inserts the timestamp after serial consistency and sets flag 0x20', () => {
    const before = hex(
      '00000001', // query "Q"
      utf8('Q'),
      '0001', // consistency ONE
      '11', // flags: values | serial
      '0001', // 1 value
      '00000001', // 1 byte
      '05',
      '0008', // serial SERIAL
    );
    const after = hex(
      '00000001', // query "Q"
      utf8('Q'),
      '0001', // consistency ONE
      '31', // flags: values | serial | timestamp
      '0001', // 1 value
      '00000001', // 1 byte
      '05',
      '0008', // serial SERIAL
      '000000000000007b', // timestamp 123
    );
    assert.deepEqual(withDefaultTimestamp(before, Opcode.QUERY, 4, 123n), after);
  });

  test('a timestamp the client sent is kept, or replaced on request', () => {
    const body = encodeQuery(
      { query: 'Q', params: queryParameters(Consistency.ONE, { defaultTimestamp: 5n }) },
      4,
    );
    assert.equal(withDefaultTimestamp(body, Opcode.QUERY, 4, 9n), body);
    const replaced = withDefaultTimestamp(body, Opcode.QUERY, 4, 9n, { replace: true });
    assert.equal(decodeQuery(replaced, 4).params.defaultTimestamp, 9n);
    assert.equal(decodeQuery(body, 4).params.defaultTimestamp, 5n); // input untouched
  });

  for (const version of [3, 4, 5] as ProtocolVersion[]) {
    test(`QUERY, EXECUTE and BATCH in v${version}: only the timestamp changes`, () => {
      const values: Value[] = version >= 4 ? [hex('01'), null, UNSET] : [hex('01'), null];
      const params = queryParameters(Consistency.QUORUM, {
        values,
        names: null,
        pageSize: 10,
        pagingState: hex('aabb'),
        serialConsistency: Consistency.LOCAL_SERIAL,
        ...(version >= 5 ? { keyspace: 'ks', nowInSeconds: 7 } : {}),
      });
      const query = { query: 'UPDATE t SET a = ?', params };
      const q = decodeQuery(
        withDefaultTimestamp(encodeQuery(query, version), Opcode.QUERY, version, 77n),
        version,
      );
      assert.deepEqual(q, { ...query, params: { ...params, defaultTimestamp: 77n } });

      const execute = { id: hex('0102'), resultMetadataId: version >= 5 ? hex('03') : null, params };
      const e = decodeExecute(
        withDefaultTimestamp(encodeExecute(execute, version), Opcode.EXECUTE, version, 78n),
        version,
      );
      assert.deepEqual(e, { ...execute, params: { ...params, defaultTimestamp: 78n } });

      const batch: BatchRequest = {
        type: 0,
        children: [
          { kind: 'query', query: 'Q', values: [hex('09')] },
          { kind: 'prepared', id: hex('0a0b'), values: [null] },
        ],
        consistency: Consistency.ONE,
        serialConsistency: Consistency.SERIAL,
        defaultTimestamp: null,
        keyspace: version >= 5 ? 'ks' : null,
        nowInSeconds: null,
      };
      const b = decodeBatch(
        withDefaultTimestamp(encodeBatch(batch, version), Opcode.BATCH, version, 79n),
        version,
      );
      assert.deepEqual(b, { ...batch, defaultTimestamp: 79n });
    });
  }

  test('skips a custom payload when the frame flag says so', () => {
    const payload = hex('0001', '0001', utf8('k'), '00000000'); // [bytes map] { k: <empty> }
    const message = encodeQuery({ query: 'Q', params: queryParameters(Consistency.ONE) }, 4);
    const body = Buffer.concat([payload, message]);
    const out = withDefaultTimestamp(body, Opcode.QUERY, 4, 1n, { frameFlags: FrameFlag.CUSTOM_PAYLOAD });
    assert.deepEqual(out.subarray(0, payload.length), payload);
    assert.equal(decodeQuery(out.subarray(payload.length), 4).params.defaultTimestamp, 1n);
  });

  test('other opcodes, negative timestamps and truncated bodies are CodecErrors', () => {
    assert.throws(() => withDefaultTimestamp(Buffer.alloc(0), Opcode.PREPARE, 4, 1n), CodecError);
    assert.throws(
      () => withDefaultTimestamp(hex('00000001', utf8('Q'), '0001', '00'), Opcode.QUERY, 4, -1n),
      CodecError,
    );
    assert.throws(
      () => withDefaultTimestamp(hex('00000001', utf8('Q'), '0001'), Opcode.QUERY, 4, 1n),
      CodecError,
    );
  });
});

describe('withPreparedId and preparedIds', () => {
  test('EXECUTE v4 vector', () => {
    const before = hex(
      '0002', // id, 2 bytes
      'abcd',
      '0001', // consistency ONE
      '00', // no flags
    );
    const after = hex(
      '0004', // id, 4 bytes
      '01020304',
      '0001', // consistency ONE
      '00', // no flags
    );
    assert.deepEqual(preparedIds(before, Opcode.EXECUTE, 4), [hex('abcd')]);
    assert.deepEqual(
      withPreparedId(before, Opcode.EXECUTE, 4, () => hex('01020304')),
      after,
    );
  });

  test('BATCH: every prepared child, query children untouched', () => {
    const batch: BatchRequest = {
      type: 1,
      children: [
        { kind: 'prepared', id: hex('01'), values: [hex('ff')] },
        { kind: 'query', query: 'Q', values: [] },
        { kind: 'prepared', id: hex('02'), values: [] },
      ],
      consistency: Consistency.ONE,
      serialConsistency: null,
      defaultTimestamp: 3n,
      keyspace: null,
      nowInSeconds: null,
    };
    for (const version of [3, 4, 5] as ProtocolVersion[]) {
      const body = encodeBatch(batch, version);
      assert.deepEqual(preparedIds(body, Opcode.BATCH, version), [hex('01'), hex('02')]);
      const map = new Map([
        ['01', hex('a1a1a1')],
        ['02', hex('')],
      ]);
      const out = withPreparedId(body, Opcode.BATCH, version, (id) => map.get(id.toString('hex'))!);
      assert.deepEqual(decodeBatch(out, version), {
        ...batch,
        children: [
          { kind: 'prepared', id: hex('a1a1a1'), values: [hex('ff')] },
          { kind: 'query', query: 'Q', values: [] },
          { kind: 'prepared', id: hex(''), values: [] },
        ],
      });
    }
  });

  test('EXECUTE v5 keeps the result metadata id', () => {
    const execute = { id: hex('01'), resultMetadataId: hex('02'), params: queryParameters(Consistency.ONE) };
    const out = withPreparedId(encodeExecute(execute, 5), Opcode.EXECUTE, 5, () => hex('0909'));
    assert.deepEqual(decodeExecute(out, 5), { ...execute, id: hex('0909') });
  });

  test('a QUERY has no prepared ids and comes back as is', () => {
    const body = encodeQuery({ query: 'Q', params: queryParameters(Consistency.ONE) }, 4);
    assert.deepEqual(preparedIds(body, Opcode.QUERY, 4), []);
    assert.equal(
      withPreparedId(body, Opcode.QUERY, 4, () => hex('00')),
      body,
    );
  });
});
