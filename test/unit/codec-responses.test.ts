import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CodecError,
  Consistency,
  decodeError,
  decodeEvent,
  decodeResponse,
  type ErrorBody,
  ErrorCode,
  type Event,
  encodeError,
  encodeEvent,
  encodeResponse,
  Opcode,
  type ProtocolVersion,
  type Response,
  unsupportedVersionError,
} from '../../src/proxy/codec/index.js';

const hex = (...fields: string[]): Buffer => Buffer.from(fields.join(''), 'hex');
const utf8 = (s: string): string => Buffer.from(s, 'utf8').toString('hex');

describe('ERROR (spec v4 §4.2.1, §9)', () => {
  test('protocol error for an unsupported version', () => {
    const body = hex(
      '0000000a', // code PROTOCOL_ERROR
      '002c', // [string] message, 44 bytes
      utf8('Invalid or unsupported protocol version (66)'),
    );
    assert.deepEqual(encodeError(unsupportedVersionError(66), 4), body);
    assert.deepEqual(decodeError(body, 4), unsupportedVersionError(66));
  });

  test('unavailable', () => {
    const body = hex(
      '00001000', // code UNAVAILABLE
      '0001', // message "x"
      utf8('x'),
      '0004', // consistency QUORUM
      '00000002', // required 2
      '00000001', // alive 1
    );
    const error: ErrorBody = {
      kind: 'unavailable',
      code: ErrorCode.UNAVAILABLE,
      message: 'x',
      consistency: Consistency.QUORUM,
      required: 2,
      alive: 1,
    };
    assert.deepEqual(decodeError(body, 4), error);
    assert.deepEqual(encodeError(error, 4), body);
  });

  test('write timeout; v5 adds contentions for CAS', () => {
    const v4 = hex(
      '00001100', // code WRITE_TIMEOUT
      '0000', // empty message
      '0001', // consistency ONE
      '00000000', // received 0
      '00000001', // blockfor 1
      '0006', // write type "SIMPLE"
      utf8('SIMPLE'),
    );
    const error: ErrorBody = {
      kind: 'write_timeout',
      code: ErrorCode.WRITE_TIMEOUT,
      message: '',
      consistency: 1,
      received: 0,
      blockFor: 1,
      writeType: 'SIMPLE',
      contentions: null,
    };
    assert.deepEqual(decodeError(v4, 4), error);
    assert.deepEqual(encodeError(error, 4), v4);
    const v5 = hex(
      '00001100', // code WRITE_TIMEOUT
      '0000', // empty message
      '0008', // consistency SERIAL
      '00000000', // received 0
      '00000001', // blockfor 1
      '0003', // write type "CAS"
      utf8('CAS'),
      '0002', // contentions 2 [short]
    );
    const cas: ErrorBody = { ...error, consistency: 8, writeType: 'CAS', contentions: 2 };
    assert.deepEqual(decodeError(v5, 5), cas);
    assert.deepEqual(encodeError(cas, 5), v5);
  });

  test('read timeout', () => {
    const body = hex(
      '00001200', // code READ_TIMEOUT
      '0000', // empty message
      '0006', // consistency LOCAL_QUORUM
      '00000001', // received 1
      '00000002', // blockfor 2
      '00', // data present: false
    );
    const error = decodeError(body, 4);
    assert.deepEqual(error, {
      kind: 'read_timeout',
      code: ErrorCode.READ_TIMEOUT,
      message: '',
      consistency: 6,
      received: 1,
      blockFor: 2,
      dataPresent: false,
    });
    assert.deepEqual(encodeError(error, 4), body);
  });

  test('read failure: v4 has <numfailures>, v5 a <reasonmap>', () => {
    const v4 = hex(
      '00001300', // code READ_FAILURE
      '0000', // empty message
      '0001', // consistency ONE
      '00000000', // received 0
      '00000001', // blockfor 1
      '00000001', // numfailures 1
      '01', // data present: true
    );
    const error = decodeError(v4, 4);
    assert.deepEqual(error, {
      kind: 'read_failure',
      code: ErrorCode.READ_FAILURE,
      message: '',
      consistency: 1,
      received: 0,
      blockFor: 1,
      numFailures: 1,
      reasons: null,
      dataPresent: true,
    });
    assert.deepEqual(encodeError(error, 4), v4);
    const v5 = hex(
      '00001300', // code READ_FAILURE
      '0000', // empty message
      '0001', // consistency ONE
      '00000000', // received 0
      '00000001', // blockfor 1
      '00000001', // reasonmap: 1 entry
      '04', // endpoint [inetaddr] size 4
      '0a000001', // 10.0.0.1
      '0000', // failure code 0 (UNKNOWN)
      '01', // data present
    );
    const withReasons = decodeError(v5, 5);
    assert.deepEqual(withReasons, { ...error, reasons: [{ endpoint: '10.0.0.1', failureCode: 0 }] });
    assert.deepEqual(encodeError(withReasons, 5), v5);
  });

  test('write failure (v4)', () => {
    const body = hex(
      '00001500', // code WRITE_FAILURE
      '0000', // empty message
      '0005', // consistency ALL
      '00000002', // received 2
      '00000003', // blockfor 3
      '00000001', // numfailures 1
      '0005', // write type "BATCH"
      utf8('BATCH'),
    );
    const error = decodeError(body, 4);
    assert.equal(error.kind, 'write_failure');
    assert.deepEqual(encodeError(error, 4), body);
  });

  test('function failure, already exists, unprepared, and a code without extra fields', () => {
    const functionFailure = hex(
      '00001400', // code FUNCTION_FAILURE
      '0000', // empty message
      '0002', // keyspace "ks"
      utf8('ks'),
      '0001', // function "f"
      utf8('f'),
      '0001', // arg types [string list] of 1
      '0003', // "int"
      utf8('int'),
    );
    assert.deepEqual(decodeError(functionFailure, 4), {
      kind: 'function_failure',
      code: ErrorCode.FUNCTION_FAILURE,
      message: '',
      keyspace: 'ks',
      functionName: 'f',
      argTypes: ['int'],
    });
    assert.deepEqual(encodeError(decodeError(functionFailure, 4), 4), functionFailure);

    const alreadyExists = hex(
      '00002400', // code ALREADY_EXISTS
      '0000', // empty message
      '0002', // keyspace "ks"
      utf8('ks'),
      '0000', // table "" (a keyspace exists)
    );
    assert.deepEqual(decodeError(alreadyExists, 4), {
      kind: 'already_exists',
      code: ErrorCode.ALREADY_EXISTS,
      message: '',
      keyspace: 'ks',
      table: '',
    });

    const unprepared = hex(
      '00002500', // code UNPREPARED
      '0000', // empty message
      '0002', // [short bytes] id
      'abcd',
    );
    const decoded = decodeError(unprepared, 4);
    assert.ok(decoded.kind === 'unprepared');
    assert.deepEqual(decoded, {
      kind: 'unprepared',
      code: ErrorCode.UNPREPARED,
      message: '',
      id: hex('abcd'),
    });
    // The proxy rewrites target's UNPREPARED to carry origin's id.
    assert.deepEqual(
      encodeError({ ...decoded, id: hex('0102') }, 4),
      hex('00002500', '0000', '0002', '0102'),
    );

    const invalid = hex('00002200', '0003', utf8('bad')); // code INVALID, message "bad"
    assert.deepEqual(decodeError(invalid, 4), { kind: 'simple', code: ErrorCode.INVALID, message: 'bad' });
  });
});

describe('EVENT (spec v4 §4.2.6)', () => {
  test('topology and status change', () => {
    const body = hex(
      '000f', // event type "TOPOLOGY_CHANGE"
      utf8('TOPOLOGY_CHANGE'),
      '0008', // change "NEW_NODE"
      utf8('NEW_NODE'),
      '04', // [inet] size 4
      '7f000002', // 127.0.0.2
      '00002352', // port 9042
    );
    const event = decodeEvent(body);
    assert.deepEqual(event, {
      type: 'TOPOLOGY_CHANGE',
      change: 'NEW_NODE',
      node: { address: '127.0.0.2', port: 9042 },
    });
    assert.deepEqual(encodeEvent(event), body);
    const status: Event = { type: 'STATUS_CHANGE', change: 'DOWN', node: { address: '::1', port: 9042 } };
    assert.deepEqual(decodeEvent(encodeEvent(status)), status);
  });

  test('schema change: table, keyspace, function', () => {
    const body = hex(
      '000d', // event type "SCHEMA_CHANGE"
      utf8('SCHEMA_CHANGE'),
      '0007', // change type "CREATED"
      utf8('CREATED'),
      '0005', // target "TABLE"
      utf8('TABLE'),
      '0002', // keyspace "ks"
      utf8('ks'),
      '0001', // table "t"
      utf8('t'),
    );
    const event = decodeEvent(body);
    assert.deepEqual(event, {
      type: 'SCHEMA_CHANGE',
      change: { changeType: 'CREATED', target: 'TABLE', keyspace: 'ks', name: 't', argTypes: null },
    });
    assert.deepEqual(encodeEvent(event), body);
    for (const change of [
      { changeType: 'DROPPED', target: 'KEYSPACE', keyspace: 'ks', name: null, argTypes: null },
      { changeType: 'UPDATED', target: 'FUNCTION', keyspace: 'ks', name: 'f', argTypes: ['int', 'text'] },
    ] as const) {
      const schema: Event = { type: 'SCHEMA_CHANGE', change };
      assert.deepEqual(decodeEvent(encodeEvent(schema)), schema);
    }
  });

  test('unknown event type or target is a CodecError', () => {
    assert.throws(() => decodeEvent(hex('0001', utf8('X'))), CodecError);
    assert.throws(
      () => decodeEvent(hex('000d', utf8('SCHEMA_CHANGE'), '0001', utf8('C'), '0001', utf8('X'), '0000')),
      CodecError,
    );
  });
});

describe('response round trips for every version', () => {
  const responses: Response[] = [
    { opcode: Opcode.READY, message: null },
    {
      opcode: Opcode.AUTHENTICATE,
      message: { authenticator: 'org.apache.cassandra.auth.PasswordAuthenticator' },
    },
    { opcode: Opcode.AUTH_CHALLENGE, message: { token: hex('0102') } },
    { opcode: Opcode.AUTH_SUCCESS, message: { token: null } },
    {
      opcode: Opcode.SUPPORTED,
      message: {
        options: new Map([
          ['CQL_VERSION', ['3.4.5']],
          ['COMPRESSION', ['lz4', 'snappy']],
          ['PROTOCOL_VERSIONS', ['3/v3', '4/v4', '5/v5']],
        ]),
      },
    },
    { opcode: Opcode.RESULT, message: { kind: 'void' } },
    { opcode: Opcode.RESULT, message: { kind: 'set_keyspace', keyspace: 'ks' } },
    { opcode: Opcode.ERROR, message: { kind: 'simple', code: ErrorCode.SERVER_ERROR, message: 'boom' } },
    {
      opcode: Opcode.ERROR,
      message: {
        kind: 'cas_write_unknown',
        code: ErrorCode.CAS_WRITE_UNKNOWN,
        message: '',
        consistency: 8,
        received: 0,
        blockFor: 1,
      },
    },
    {
      opcode: Opcode.EVENT,
      message: { type: 'STATUS_CHANGE', change: 'UP', node: { address: '10.1.2.3', port: 9042 } },
    },
  ];
  for (const version of [3, 4, 5] as ProtocolVersion[]) {
    test(`v${version}`, () => {
      for (const response of responses) {
        const body = encodeResponse(response, version);
        assert.deepEqual(
          decodeResponse(response.opcode, body, version),
          response,
          `opcode ${response.opcode}`,
        );
      }
    });
  }

  test('a request opcode is not a response', () => {
    assert.throws(() => decodeResponse(Opcode.QUERY, Buffer.alloc(0), 4), CodecError);
  });
});
