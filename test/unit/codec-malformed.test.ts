import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  buildRowsResult,
  CodecError,
  Consistency,
  cqlType,
  decodeCell,
  decodeRequest,
  decodeResponse,
  ErrorCode,
  encodeRequest,
  encodeResponse,
  Opcode,
  openBody,
  type ProtocolVersion,
  preparedIds,
  queryParameters,
  type Request,
  type Response,
  UNSET,
  withDefaultTimestamp,
  withPreparedId,
} from '../../src/proxy/codec/index.js';

const hex = (...fields: string[]): Buffer => Buffer.from(fields.join(''), 'hex');

/** Runs `fn` and fails if it throws anything other than a CodecError. Returns whether it threw. */
function onlyCodecErrors(fn: () => unknown, label: string): boolean {
  try {
    fn();
    return false;
  } catch (error) {
    assert.ok(error instanceof CodecError, `${label}: ${String(error)}`);
    return true;
  }
}

function requests(version: ProtocolVersion): Request[] {
  return [
    { opcode: Opcode.STARTUP, message: { options: new Map([['CQL_VERSION', '3.0.0']]) } },
    { opcode: Opcode.AUTH_RESPONSE, message: { token: hex('00757365720070') } },
    {
      opcode: Opcode.QUERY,
      message: {
        query: 'SELECT * FROM t WHERE k = :k',
        params: queryParameters(Consistency.ONE, {
          values: [hex('01'), version >= 4 ? UNSET : null],
          names: ['k', 'j'],
          pageSize: 5,
          pagingState: hex('aa'),
          serialConsistency: Consistency.SERIAL,
          defaultTimestamp: 3n,
        }),
      },
    },
    { opcode: Opcode.PREPARE, message: { query: 'SELECT 1', keyspace: null } },
    {
      opcode: Opcode.EXECUTE,
      message: {
        id: hex('0102'),
        resultMetadataId: version >= 5 ? hex('03') : null,
        params: queryParameters(Consistency.ONE, { values: [hex('05')] }),
      },
    },
    {
      opcode: Opcode.BATCH,
      message: {
        type: 1,
        children: [
          { kind: 'query', query: 'Q', values: [hex('01')] },
          { kind: 'prepared', id: hex('02'), values: [null] },
        ],
        consistency: Consistency.ONE,
        serialConsistency: Consistency.SERIAL,
        defaultTimestamp: 1n,
        keyspace: null,
        nowInSeconds: null,
      },
    },
    { opcode: Opcode.REGISTER, message: { eventTypes: ['SCHEMA_CHANGE'] } },
  ];
}

function responses(version: ProtocolVersion): Response[] {
  const columns = [
    { keyspace: 'ks', table: 't', name: 'a', type: cqlType.map(cqlType.varchar, cqlType.list(cqlType.int)) },
    {
      keyspace: 'ks',
      table: 't',
      name: 'b',
      type: {
        kind: 'udt',
        keyspace: 'ks',
        name: 'u',
        fields: [{ name: 'f', type: cqlType.tuple(cqlType.inet) }],
      },
    },
  ] as const;
  return [
    {
      opcode: Opcode.ERROR,
      message: { kind: 'unprepared', code: ErrorCode.UNPREPARED, message: 'm', id: hex('01') },
    },
    {
      opcode: Opcode.ERROR,
      message: {
        kind: 'write_failure',
        code: ErrorCode.WRITE_FAILURE,
        message: 'm',
        consistency: 1,
        received: 0,
        blockFor: 1,
        numFailures: 1,
        reasons: version >= 5 ? [{ endpoint: '::1', failureCode: 1 }] : null,
        writeType: 'SIMPLE',
      },
    },
    { opcode: Opcode.AUTHENTICATE, message: { authenticator: 'Password' } },
    { opcode: Opcode.SUPPORTED, message: { options: new Map([['COMPRESSION', ['lz4']]]) } },
    {
      opcode: Opcode.RESULT,
      message: {
        kind: 'rows',
        metadata: { columnCount: 2, columns, pagingState: hex('09'), newMetadataId: null },
        rows: [[hex('00000000'), null]],
      },
    },
    {
      opcode: Opcode.RESULT,
      message: {
        kind: 'prepared',
        id: hex('01'),
        resultMetadataId: version >= 5 ? hex('02') : null,
        metadata: { pkIndexes: version >= 4 ? [0] : [], columns: [columns[0]] },
        resultMetadata: { columnCount: 2, columns, pagingState: null, newMetadataId: null },
      },
    },
    {
      opcode: Opcode.RESULT,
      message: {
        kind: 'schema_change',
        change: { changeType: 'CREATED', target: 'FUNCTION', keyspace: 'k', name: 'f', argTypes: ['int'] },
      },
    },
    {
      opcode: Opcode.EVENT,
      message: { type: 'TOPOLOGY_CHANGE', change: 'NEW_NODE', node: { address: '1.2.3.4', port: 1 } },
    },
  ];
}

const VERSIONS: ProtocolVersion[] = [3, 4, 5];

describe('truncated bodies give a CodecError', () => {
  for (const version of VERSIONS) {
    test(`every request cut at every offset, v${version}`, () => {
      for (const request of requests(version)) {
        const body = encodeRequest(request, version);
        for (let cut = 0; cut < body.length; cut++) {
          const label = `opcode ${request.opcode} cut at ${cut}/${body.length}`;
          assert.ok(
            onlyCodecErrors(() => decodeRequest(request.opcode, body.subarray(0, cut), version), label),
            label,
          );
        }
      }
    });

    test(`every response cut at every offset, v${version}`, () => {
      for (const response of responses(version)) {
        const body = encodeResponse(response, version);
        for (let cut = 0; cut < body.length; cut++) {
          const label = `opcode ${response.opcode} cut at ${cut}/${body.length}`;
          assert.ok(
            onlyCodecErrors(() => decodeResponse(response.opcode, body.subarray(0, cut), version), label),
            label,
          );
        }
      }
    });

    test(`rewrites of truncated bodies, v${version}`, () => {
      for (const request of requests(version)) {
        if (
          request.opcode !== Opcode.QUERY &&
          request.opcode !== Opcode.EXECUTE &&
          request.opcode !== Opcode.BATCH
        )
          continue;
        const body = encodeRequest(request, version);
        for (let cut = 0; cut < body.length; cut++) {
          const part = body.subarray(0, cut);
          const label = `opcode ${request.opcode} cut at ${cut}`;
          assert.ok(
            onlyCodecErrors(() => withDefaultTimestamp(part, request.opcode, version, 1n), label),
            label,
          );
          onlyCodecErrors(() => withPreparedId(part, request.opcode, version, (id) => id), label);
          onlyCodecErrors(() => preparedIds(part, request.opcode, version), label);
        }
      }
    });
  }
});

describe('bad lengths', () => {
  test('string length beyond the body', () => {
    assert.throws(() => decodeRequest(Opcode.STARTUP, hex('0001', '0010', '61'), 4), CodecError);
  });
  test('negative long string length', () => {
    assert.throws(() => decodeRequest(Opcode.QUERY, hex('ffffffff', '0001', '00'), 4), CodecError);
  });
  test('value length below -2 in v4', () => {
    assert.throws(
      () => decodeRequest(Opcode.QUERY, hex('00000000', '0001', '01', '0001', 'fffffffd'), 4),
      CodecError,
    );
  });
  test('huge row count with little data does not allocate or loop', () => {
    const body = hex('00000002', '00000004', '00000001', '7fffffff', '00000000');
    assert.throws(() => decodeResponse(Opcode.RESULT, body, 4), CodecError);
    const noColumns = hex('00000002', '00000004', '00000000', '7fffffff');
    assert.throws(() => decodeResponse(Opcode.RESULT, noColumns, 4), CodecError);
  });
  test('huge column count', () => {
    assert.throws(
      () => decodeResponse(Opcode.RESULT, hex('00000002', '00000000', '7fffffff', '0000'), 4),
      CodecError,
    );
    assert.throws(
      () => decodeResponse(Opcode.RESULT, hex('00000002', '00000000', 'ffffffff'), 4),
      CodecError,
    );
  });
  test('deeply nested types are refused', () => {
    const nested = Buffer.concat([
      hex('00000002', '00000001', '00000001', '0000', '0000', '0001', '61'),
      Buffer.from('0020'.repeat(10_000), 'hex'),
      hex('0009'),
    ]);
    assert.throws(() => decodeResponse(Opcode.RESULT, nested, 4), CodecError);
  });
  test('inet with a bad address size in an event', () => {
    const body = Buffer.concat([
      hex('000d'),
      Buffer.from('STATUS_CHANGE'),
      hex('0002'),
      Buffer.from('UP'),
      hex('05', '0102030405', '00000001'),
    ]);
    assert.throws(() => decodeResponse(Opcode.EVENT, body, 4), CodecError);
  });
  test('cells: bad collection counts and sizes', () => {
    assert.throws(
      () => decodeCell(cqlType.list(cqlType.int), hex('00000001', '00000004', '0000'), 4),
      CodecError,
    );
    assert.throws(() => decodeCell(cqlType.inet, hex('0102'), 4), CodecError);
    assert.throws(
      () => buildRowsResult([{ keyspace: 'k', table: 't', name: 'c', type: cqlType.inet }], [['nope']], 4),
      CodecError,
    );
  });
});

describe('garbage never escapes as another exception type', () => {
  let seed = 987654321;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed;
  };

  test('random bodies for every opcode, flag set and version', () => {
    for (let round = 0; round < 3000; round++) {
      const version = VERSIONS[round % 3]!;
      const body = Buffer.from(Array.from({ length: random() % 48 }, () => random() & 0xff));
      const opcode = random() % 0x11;
      const label = `round ${round} opcode ${opcode} ${body.toString('hex')}`;
      onlyCodecErrors(() => decodeRequest(opcode, body, version), label);
      onlyCodecErrors(() => decodeResponse(opcode, body, version), label);
      onlyCodecErrors(() => openBody(body, random() & 0x0f, (random() & 1) === 1, version), label);
      onlyCodecErrors(() => withDefaultTimestamp(body, opcode, version, 1n), label);
      onlyCodecErrors(() => withPreparedId(body, opcode, version, (id) => id), label);
    }
  });

  test('valid bodies with one byte changed', () => {
    for (const version of VERSIONS) {
      const all: [number, Buffer, 'request' | 'response'][] = [
        ...requests(version).map(
          (r) => [r.opcode, encodeRequest(r, version), 'request'] as [number, Buffer, 'request'],
        ),
        ...responses(version).map(
          (r) => [r.opcode, encodeResponse(r, version), 'response'] as [number, Buffer, 'response'],
        ),
      ];
      for (const [opcode, body, side] of all) {
        for (let i = 0; i < body.length; i++) {
          for (const value of [0x00, 0x7f, 0x80, 0xff, random() & 0xff]) {
            const mutated = Buffer.from(body);
            mutated[i] = value;
            const label = `${side} opcode ${opcode} byte ${i} = ${value}`;
            if (side === 'request') {
              onlyCodecErrors(() => decodeRequest(opcode, mutated, version), label);
              onlyCodecErrors(() => withDefaultTimestamp(mutated, opcode, version, 1n), label);
            } else {
              onlyCodecErrors(() => decodeResponse(opcode, mutated, version), label);
            }
          }
        }
      }
    }
  });
});
