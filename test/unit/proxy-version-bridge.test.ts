import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { refusesDriverProtocols } from '../../src/proxy/cluster-control.js';
import type { ClusterLink } from '../../src/proxy/cluster-link.js';
import {
  Consistency,
  decodeExecute,
  decodeResult,
  type ErrorBody,
  ErrorCode,
  encodeExecute,
  encodeFrame,
  encodePrepare,
  encodeResult,
  Framer,
  Opcode,
  type ProtocolVersion,
  queryParameters,
  type RawFrame,
} from '../../src/proxy/codec/index.js';
import type { Waiter } from '../../src/proxy/stream-ids.js';
import { bridgeVersionAfterRefusal, V4ToV5Link } from '../../src/proxy/version-bridge.js';

describe('bridgeVersionAfterRefusal', () => {
  const protocolError = (message: string): ErrorBody => ({
    kind: 'simple',
    code: ErrorCode.PROTOCOL_ERROR,
    message,
  });
  const cases: readonly [string, ProtocolVersion, ErrorBody, ProtocolVersion | null][] = [
    // Cassandra 5.0 with native_transport_allow_older_protocols: false.
    [
      'v4 client, "Rejecting Protocol Version v4 < v5."',
      4,
      protocolError('Rejecting Protocol Version v4 < v5.'),
      5,
    ],
    [
      'v4 client, a cluster without v4',
      4,
      protocolError('Invalid or unsupported protocol version (4); supported versions are (5/v5)'),
      5,
    ],
    // A v5 client steps down itself when it sees the refusal; v3 is not bridged.
    ['v5 client', 5, protocolError('Invalid or unsupported protocol version (5)'), null],
    ['v3 client', 3, protocolError('Rejecting Protocol Version v3 < v5.'), null],
    ['another protocol error', 4, protocolError('unknown compression'), null],
    [
      'not a protocol error',
      4,
      { kind: 'simple', code: ErrorCode.SERVER_ERROR, message: 'protocol version' },
      null,
    ],
  ];
  for (const [name, version, error, expected] of cases) {
    test(name, () => assert.equal(bridgeVersionAfterRefusal(version, error), expected));
  }
});

/** A v5 cluster connection that records the bodies it is given and answers with `answer`. */
function recordingLink(answer: (opcode: number, body: Buffer) => { opcode: number; body: Buffer }) {
  const sent: { opcode: number; body: Buffer }[] = [];
  const link: ClusterLink = {
    cluster: 'target',
    address: 'memory',
    closed: false,
    inFlight: 0,
    backedUp: false,
    request(opcode: number, _flags: number, body: Buffer, onResult: Waiter) {
      sent.push({ opcode, body });
      const reply = answer(opcode, body);
      const raw = encodeFrame(
        { version: 5, isResponse: true, flags: 0, streamId: 3, opcode: reply.opcode },
        reply.body,
      );
      onResult(new Framer({ supportedVersions: [5] }).push(raw).frames[0]!);
    },
    requestSecondary(opcode: number, _flags: number, body: Buffer) {
      sent.push({ opcode, body });
      return true;
    },
    send: () => Promise.reject(new Error('unused')),
    close: () => undefined,
  };
  return { link, sent };
}

const columns = [{ keyspace: 'ks', table: 't', name: 'k', type: { kind: 'int' } }] as const;
const PREPARED_V5 = encodeResult(
  {
    kind: 'prepared',
    id: Buffer.from('aa', 'hex'),
    resultMetadataId: Buffer.from('5151', 'hex'),
    metadata: { pkIndexes: [0], columns },
    resultMetadata: { columnCount: 1, columns, pagingState: null, newMetadataId: null },
  },
  5,
);

describe('V4ToV5Link', () => {
  for (const holds of [true, false]) {
    test(`PREPARE then EXECUTE, the client ${holds ? 'holds' : 'does not hold'} this cluster's columns`, async () => {
      const { link, sent } = recordingLink((opcode) =>
        opcode === Opcode.PREPARE
          ? { opcode: Opcode.RESULT, body: PREPARED_V5 }
          : { opcode: Opcode.RESULT, body: encodeResult({ kind: 'void' }, 5) },
      );
      const bridged = new V4ToV5Link(link, holds);
      const prepared: RawFrame = await bridged.send(
        Opcode.PREPARE,
        0,
        encodePrepare({ query: 'SELECT * FROM ks.t WHERE k = ?', keyspace: null }, 4),
      );
      assert.equal(prepared.header.version, 4, 'the client gets a v4 frame');
      assert.equal(prepared.header.streamId, 3);
      const result = decodeResult(prepared.body, 4);
      assert.equal(result.kind === 'prepared' && result.resultMetadataId, null);

      const execute = {
        id: Buffer.from('aa', 'hex'),
        resultMetadataId: null,
        params: queryParameters(Consistency.ONE),
      };
      await bridged.send(Opcode.EXECUTE, 0, encodeExecute(execute, 4));
      const atCluster = decodeExecute(sent[1]!.body, 5);
      // Its own id when the client decodes by its columns; else none, so the cluster sends them.
      assert.deepEqual(atCluster.resultMetadataId, holds ? Buffer.from('5151', 'hex') : Buffer.alloc(0));
    });
  }

  test('the asynchronous copy of a read is translated too', () => {
    const { link, sent } = recordingLink(() => ({
      opcode: Opcode.RESULT,
      body: encodeResult({ kind: 'void' }, 5),
    }));
    const execute = {
      id: Buffer.from('aa', 'hex'),
      resultMetadataId: null,
      params: queryParameters(Consistency.ONE),
    };
    assert.equal(
      new V4ToV5Link(link, false).requestSecondary(Opcode.EXECUTE, 0, encodeExecute(execute, 4)),
      true,
    );
    assert.deepEqual(decodeExecute(sent[0]!.body, 5), { ...execute, resultMetadataId: Buffer.alloc(0) });
  });

  test('an answer that cannot be translated reaches the caller as an error', async () => {
    const { link } = recordingLink(() => ({ opcode: Opcode.ERROR, body: Buffer.from('00', 'hex') }));
    await assert.rejects(new V4ToV5Link(link, true).send(Opcode.OPTIONS, 0, Buffer.alloc(0)));
  });
});

describe('refusesDriverProtocols (the control connection to a v5-only cluster)', () => {
  const cases: readonly [string, boolean][] = [
    [
      'All host(s) tried for query failed. First host tried, 127.0.0.3:9042: ResponseError: Rejecting Protocol Version 4/v4 < 5/v5.',
      true,
    ],
    ['All host(s) tried for query failed. First host tried, 127.0.0.3:9042: connect ECONNREFUSED', false],
    ['Provided username cassandra and/or password are incorrect', false],
  ];
  for (const [message, expected] of cases) {
    test(message.slice(-40), () => assert.equal(refusesDriverProtocols(message), expected));
  }
});
