import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type BatchRequest,
  CodecError,
  Consistency,
  decodeBatch,
  decodeExecute,
  decodePrepare,
  decodeQuery,
  decodeRequest,
  encodeBatch,
  encodeExecute,
  encodePrepare,
  encodeQuery,
  encodeRequest,
  Opcode,
  type ProtocolVersion,
  plainSaslToken,
  queryParameters,
  type Request,
  UNSET,
} from '../../src/proxy/codec/index.js';

const hex = (...fields: string[]): Buffer => Buffer.from(fields.join(''), 'hex');
const utf8 = (s: string): string => Buffer.from(s, 'utf8').toString('hex');

describe('QUERY (spec v4 §4.1.4)', () => {
  test('v4: values with unset, page size, paging state, serial consistency, timestamp', () => {
    const body = hex(
      '00000008', // [long string] query, 8 bytes
      utf8('SELECT ?'),
      '0001', // consistency ONE
      '3d', // flags [byte]: values 0x01 | page size 0x04 | paging state 0x08 | serial 0x10 | timestamp 0x20
      '0002', // 2 values
      '00000001', // value 1: 1 byte
      '2a',
      'fffffffe', // value 2: unset (-2)
      '00001388', // page size 5000
      '00000002', // paging state [bytes], 2 bytes
      'beef',
      '0009', // serial consistency LOCAL_SERIAL
      '0005e8d6f4d0a3c0', // default timestamp (µs)
    );
    const message = decodeQuery(body, 4);
    assert.equal(message.query, 'SELECT ?');
    assert.deepEqual(
      message.params,
      queryParameters(Consistency.ONE, {
        values: [hex('2a'), UNSET],
        pageSize: 5000,
        pagingState: hex('beef'),
        serialConsistency: Consistency.LOCAL_SERIAL,
        defaultTimestamp: 0x0005e8d6f4d0a3c0n,
      }),
    );
    assert.deepEqual(encodeQuery(message, 4), body);
  });

  test('v3: same layout but -2 is a null value and unset cannot be encoded', () => {
    const body = hex(
      '00000001', // [long string] query, 1 byte
      utf8('Q'),
      '0004', // consistency QUORUM
      '01', // flags [byte]: values
      '0001', // 1 value
      'fffffffe', // negative [bytes] length: null in v3
    );
    const message = decodeQuery(body, 3);
    assert.deepEqual(message.params.values, [null]);
    assert.deepEqual(encodeQuery(message, 3), hex('00000001', utf8('Q'), '0004', '01', '0001', 'ffffffff'));
    const unset = { query: 'Q', params: queryParameters(Consistency.ONE, { values: [UNSET] }) };
    assert.throws(() => encodeQuery(unset, 3), CodecError);
  });

  test('v4: named values and skip metadata', () => {
    const body = hex(
      '00000001', // query "Q"
      utf8('Q'),
      '000a', // consistency LOCAL_ONE
      '43', // flags: values 0x01 | skip metadata 0x02 | names 0x40
      '0001', // 1 value
      '0002', // name [string] "id"
      utf8('id'),
      'ffffffff', // value null
    );
    const message = decodeQuery(body, 4);
    assert.deepEqual(message.params.names, ['id']);
    assert.deepEqual(message.params.values, [null]);
    assert.equal(message.params.skipMetadata, true);
    assert.deepEqual(encodeQuery(message, 4), body);
  });

  test('v5: [int] flags, keyspace and now_in_seconds', () => {
    const body = hex(
      '00000001', // query "Q"
      utf8('Q'),
      '0001', // consistency ONE
      '00000180', // flags [int]: keyspace 0x80 | now_in_seconds 0x100
      '0002', // keyspace [string] "ks"
      utf8('ks'),
      '00000064', // now_in_seconds 100
    );
    const message = decodeQuery(body, 5);
    assert.equal(message.params.keyspace, 'ks');
    assert.equal(message.params.nowInSeconds, 100);
    assert.deepEqual(encodeQuery(message, 5), body);
    assert.throws(() => encodeQuery(message, 4), CodecError);
  });

  test('no flags at all', () => {
    const body = hex('00000001', utf8('Q'), '0001', '00');
    assert.deepEqual(decodeQuery(body, 4).params, queryParameters(Consistency.ONE));
    assert.deepEqual(encodeQuery(decodeQuery(body, 4), 4), body);
  });
});

describe('PREPARE and EXECUTE (spec v4 §4.1.5-6)', () => {
  test('PREPARE v4 is a long string; v5 adds flags and keyspace', () => {
    const v4 = hex('00000001', utf8('Q')); // [long string] "Q"
    assert.deepEqual(decodePrepare(v4, 4), { query: 'Q', keyspace: null });
    assert.deepEqual(encodePrepare({ query: 'Q', keyspace: null }, 4), v4);
    const v5 = hex(
      '00000001', // [long string] "Q"
      utf8('Q'),
      '00000001', // flags [int]: with keyspace
      '0002', // keyspace "ks"
      utf8('ks'),
    );
    assert.deepEqual(decodePrepare(v5, 5), { query: 'Q', keyspace: 'ks' });
    assert.deepEqual(encodePrepare({ query: 'Q', keyspace: 'ks' }, 5), v5);
    assert.throws(() => encodePrepare({ query: 'Q', keyspace: 'ks' }, 4), CodecError);
  });

  test('EXECUTE v4', () => {
    const body = hex(
      '0002', // [short bytes] id, 2 bytes
      'abcd',
      '0006', // consistency LOCAL_QUORUM
      '01', // flags: values
      '0001', // 1 value
      '00000000', // empty value (not null)
    );
    const message = decodeExecute(body, 4);
    assert.deepEqual(message, {
      id: hex('abcd'),
      resultMetadataId: null,
      params: queryParameters(Consistency.LOCAL_QUORUM, { values: [Buffer.alloc(0)] }),
    });
    assert.deepEqual(encodeExecute(message, 4), body);
  });

  test('EXECUTE v5 carries the result metadata id', () => {
    const body = hex(
      '0001', // id, 1 byte
      'aa',
      '0001', // result metadata id, 1 byte
      'bb',
      '0001', // consistency ONE
      '00000000', // flags [int]: none
    );
    const message = decodeExecute(body, 5);
    assert.deepEqual(message.resultMetadataId, hex('bb'));
    assert.deepEqual(encodeExecute(message, 5), body);
    assert.throws(() => encodeExecute({ ...message, resultMetadataId: null }, 5), CodecError);
  });
});

describe('BATCH (spec v4 §4.1.7)', () => {
  const v4Body = hex(
    '01', // type: unlogged
    '0002', // 2 children
    '00', // child 1: kind query string
    '00000001', // [long string] "Q"
    utf8('Q'),
    '0001', // 1 value
    '00000001', // value: 1 byte
    '07',
    '01', // child 2: kind prepared
    '0002', // [short bytes] id
    'abcd',
    '0000', // no values
    '0004', // consistency QUORUM
    '30', // flags [byte]: serial 0x10 | timestamp 0x20
    '0008', // serial consistency SERIAL
    '0000000000000001', // default timestamp 1
  );
  const v4Message: BatchRequest = {
    type: 1,
    children: [
      { kind: 'query', query: 'Q', values: [hex('07')] },
      { kind: 'prepared', id: hex('abcd'), values: [] },
    ],
    consistency: Consistency.QUORUM,
    serialConsistency: Consistency.SERIAL,
    defaultTimestamp: 1n,
    keyspace: null,
    nowInSeconds: null,
  };

  test('v4 vector', () => {
    assert.deepEqual(decodeBatch(v4Body, 4), v4Message);
    assert.deepEqual(encodeBatch(v4Message, 4), v4Body);
  });

  test('v3 has the same layout', () => {
    assert.deepEqual(decodeBatch(v4Body, 3), v4Message);
  });

  test('v5: [int] flags and keyspace', () => {
    const body = hex(
      '00', // type logged
      '0000', // no children
      '0001', // consistency ONE
      '00000080', // flags [int]: keyspace
      '0002', // keyspace "ks"
      utf8('ks'),
    );
    const message = decodeBatch(body, 5);
    assert.equal(message.keyspace, 'ks');
    assert.deepEqual(encodeBatch(message, 5), body);
  });

  test('bad child kind and named values are refused', () => {
    assert.throws(() => decodeBatch(hex('00', '0001', '02'), 4), CodecError);
    assert.throws(() => decodeBatch(hex('00', '0000', '0001', '40'), 4), CodecError);
  });
});

describe('handshake requests', () => {
  test('STARTUP, AUTH_RESPONSE, OPTIONS, REGISTER vectors', () => {
    const startup = hex(
      '0001', // [string map] 1 entry
      '000b', // "CQL_VERSION"
      utf8('CQL_VERSION'),
      '0005', // "3.0.0"
      utf8('3.0.0'),
    );
    const decoded = decodeRequest(Opcode.STARTUP, startup, 4);
    assert.deepEqual(decoded, {
      opcode: Opcode.STARTUP,
      message: { options: new Map([['CQL_VERSION', '3.0.0']]) },
    });
    assert.deepEqual(encodeRequest(decoded, 4), startup);

    const auth = hex(
      '0000000b', // [bytes] token, 11 bytes
      '00', // \0
      utf8('user'),
      '00', // \0
      utf8('pass1'),
    );
    const authRequest = decodeRequest(Opcode.AUTH_RESPONSE, auth, 4);
    assert.deepEqual(authRequest, {
      opcode: Opcode.AUTH_RESPONSE,
      message: { token: plainSaslToken('user', 'pass1') },
    });
    assert.deepEqual(encodeRequest(authRequest, 4), auth);

    assert.deepEqual(encodeRequest({ opcode: Opcode.OPTIONS, message: null }, 4), Buffer.alloc(0));

    const registerBody = hex(
      '0001', // [string list] of 1
      '000d', // "SCHEMA_CHANGE", 13 bytes
      utf8('SCHEMA_CHANGE'),
    );
    const registerRequest = decodeRequest(Opcode.REGISTER, registerBody, 4);
    assert.deepEqual(registerRequest, {
      opcode: Opcode.REGISTER,
      message: { eventTypes: ['SCHEMA_CHANGE'] },
    });
    assert.deepEqual(encodeRequest(registerRequest, 4), registerBody);
  });

  test('a response opcode is not a request', () => {
    assert.throws(() => decodeRequest(Opcode.RESULT, Buffer.alloc(0), 4), CodecError);
  });
});

describe('request round trips for every version', () => {
  const requests: Request[] = [
    {
      opcode: Opcode.STARTUP,
      message: {
        options: new Map([
          ['CQL_VERSION', '3.0.0'],
          ['COMPRESSION', 'lz4'],
        ]),
      },
    },
    { opcode: Opcode.AUTH_RESPONSE, message: { token: null } },
    { opcode: Opcode.OPTIONS, message: null },
    {
      opcode: Opcode.QUERY,
      message: {
        query: 'INSERT INTO ks.t (a, b) VALUES (?, ?)',
        params: queryParameters(Consistency.LOCAL_QUORUM, {
          values: [hex('01'), null],
          pageSize: 100,
          defaultTimestamp: 42n,
        }),
      },
    },
    { opcode: Opcode.PREPARE, message: { query: 'SELECT * FROM ks.t WHERE a = ?', keyspace: null } },
    {
      opcode: Opcode.REGISTER,
      message: { eventTypes: ['TOPOLOGY_CHANGE', 'STATUS_CHANGE', 'SCHEMA_CHANGE'] },
    },
    {
      opcode: Opcode.BATCH,
      message: {
        type: 0,
        children: [{ kind: 'prepared', id: hex('0102'), values: [hex('03'), null] }],
        consistency: Consistency.ONE,
        serialConsistency: null,
        defaultTimestamp: null,
        keyspace: null,
        nowInSeconds: null,
      },
    },
  ];
  for (const version of [3, 4, 5] as ProtocolVersion[]) {
    test(`v${version}`, () => {
      for (const request of requests) {
        const body = encodeRequest(request, version);
        assert.deepEqual(decodeRequest(request.opcode, body, version), request, `opcode ${request.opcode}`);
      }
      const execute: Request = {
        opcode: Opcode.EXECUTE,
        message: {
          id: hex('ff'),
          resultMetadataId: version === 5 ? hex('ee') : null,
          params: queryParameters(Consistency.ONE, {
            values: [],
            skipMetadata: true,
            pagingState: hex('00'),
          }),
        },
      };
      assert.deepEqual(decodeRequest(Opcode.EXECUTE, encodeRequest(execute, version), version), execute);
    });
  }
});
