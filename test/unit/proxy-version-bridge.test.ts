import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { V4ToV5Link, V5ToV4Link } from '../../src/proxy/bridge-links.js';
import { refusesDriverProtocols } from '../../src/proxy/cluster-control.js';
import type { ClusterLink } from '../../src/proxy/cluster-link.js';
import {
  Consistency,
  decodeExecute,
  decodePrepare,
  decodeQuery,
  decodeResult,
  type ErrorBody,
  ErrorCode,
  encodeExecute,
  encodeFrame,
  encodePrepare,
  encodeQuery,
  encodeResult,
  Framer,
  Opcode,
  type ProtocolVersion,
  queryParameters,
  type RawFrame,
  type RowsResult,
} from '../../src/proxy/codec/index.js';
import type { Waiter } from '../../src/proxy/stream-ids.js';
import { bridgeVersionAfterRefusal, v4Refusal } from '../../src/proxy/version-bridge.js';

describe('bridgeVersionAfterRefusal', () => {
  const protocolError = (message: string): ErrorBody => ({
    kind: 'simple',
    code: ErrorCode.PROTOCOL_ERROR,
    message,
  });
  // [case, client version, the refusal, whether the other cluster took the client's version, bridge to]
  const cases: readonly [string, ProtocolVersion, ErrorBody, boolean, ProtocolVersion | null][] = [
    // Cassandra 5.0 with native_transport_allow_older_protocols: false.
    [
      'v4 client, "Rejecting Protocol Version v4 < v5."',
      4,
      protocolError('Rejecting Protocol Version v4 < v5.'),
      true,
      5,
    ],
    [
      'v4 client, a cluster without v4',
      4,
      protocolError('Invalid or unsupported protocol version (4); supported versions are (5/v5)'),
      false,
      5,
    ],
    // A v5 client and a cluster with v4 at most: bridged while the other cluster speaks v5...
    [
      'v5 client, a cluster without v5, the other with',
      5,
      protocolError('Invalid or unsupported protocol version (5); supported versions are (3/v3, 4/v4)'),
      true,
      4,
    ],
    [
      'v5 client, Cassandra 3.x (v5 beta only)',
      5,
      protocolError('Beta version of the protocol used (5/v5-beta), but USE_BETA flag is unset'),
      true,
      4,
    ],
    // ...else the driver steps down to v4 itself, and no translation is needed.
    [
      'v5 client, neither cluster with v5',
      5,
      protocolError('Invalid or unsupported protocol version (5)'),
      false,
      null,
    ],
    ['v3 client', 3, protocolError('Rejecting Protocol Version v3 < v5.'), true, null],
    ['another protocol error', 4, protocolError('unknown compression'), true, null],
    [
      'not a protocol error',
      4,
      { kind: 'simple', code: ErrorCode.SERVER_ERROR, message: 'protocol version' },
      true,
      null,
    ],
  ];
  for (const [name, version, error, otherAccepted, expected] of cases) {
    test(name, () => assert.equal(bridgeVersionAfterRefusal(version, error, otherAccepted), expected));
  }
});

/** A cluster connection in `version` that records the bodies it is given and answers with `answer`. */
function recordingLink(
  answer: (opcode: number, body: Buffer) => { opcode: number; body: Buffer },
  version: ProtocolVersion = 5,
) {
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
        { version, isResponse: true, flags: 0, streamId: 3, opcode: reply.opcode },
        reply.body,
      );
      onResult(new Framer({ supportedVersions: [version] }).push(raw).frames[0]!);
    },
    requestSecondary(opcode: number, flags: number, body: Buffer, onResult?: Waiter) {
      link.request(opcode, flags, body, onResult ?? (() => undefined));
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

const ROWS_K: RowsResult = {
  kind: 'rows',
  metadata: { columnCount: 1, columns, pagingState: null, newMetadataId: null },
  rows: [[Buffer.from('00000007', 'hex')]],
};

describe('V5ToV4Link', () => {
  const v4Cluster = () =>
    recordingLink(
      (opcode) =>
        opcode === Opcode.PREPARE
          ? {
              opcode: Opcode.RESULT,
              body: encodeResult(
                {
                  kind: 'prepared',
                  id: Buffer.from('aa', 'hex'),
                  resultMetadataId: null,
                  metadata: { pkIndexes: [0], columns },
                  resultMetadata: ROWS_K.metadata,
                },
                4,
              ),
            }
          : { opcode: Opcode.RESULT, body: encodeResult(ROWS_K, 4) },
      4,
    );

  test('PREPARE, then EXECUTEs: the client gets v5 frames, ids and Metadata_changed as from a v5 cluster', async () => {
    const { link, sent } = v4Cluster();
    const bridged = new V5ToV4Link(link);
    const prepare = encodePrepare({ query: 'SELECT k FROM t WHERE k = ?', keyspace: 'ks' }, 5);
    const prepared = await bridged.send(Opcode.PREPARE, 0, prepare);
    assert.equal(prepared.header.version, 5, 'the client gets a v5 frame');
    assert.equal(decodePrepare(sent[0]!.body, 4).query, 'SELECT k FROM t WHERE k = ?');
    const result = decodeResult(prepared.body, 5);
    const id = result.kind === 'prepared' ? result.resultMetadataId : null;
    assert.ok(id !== null && id.length === 16, 'an MD5 result metadata id');

    const execute = (resultMetadataId: Buffer) =>
      encodeExecute(
        {
          id: Buffer.from('aa', 'hex'),
          resultMetadataId,
          params: queryParameters(Consistency.ONE, { skipMetadata: true }),
        },
        5,
      );
    const current = decodeResult((await bridged.send(Opcode.EXECUTE, 0, execute(id))).body, 5);
    assert.deepEqual(current, { ...ROWS_K, metadata: { ...ROWS_K.metadata, columns: null } });
    assert.equal(
      decodeExecute(sent[1]!.body, 4).params.skipMetadata,
      false,
      'the cluster always sends columns',
    );
    const stale = decodeResult((await bridged.send(Opcode.EXECUTE, 0, execute(Buffer.of(1)))).body, 5);
    assert.deepEqual(stale, { ...ROWS_K, metadata: { ...ROWS_K.metadata, newMetadataId: id } });
  });

  test('the asynchronous copy of a read is translated, and its result reported', async () => {
    const { link, sent } = v4Cluster();
    const query = encodeQuery({ query: 'SELECT k FROM ks.t', params: queryParameters(Consistency.ONE) }, 5);
    const done = new Promise<RawFrame | Error>((resolve) =>
      new V5ToV4Link(link).requestSecondary(Opcode.QUERY, 0, query, resolve),
    );
    assert.equal(decodeQuery(sent[0]!.body, 4).query, 'SELECT k FROM ks.t');
    assert.ok(!((await done) instanceof Error));
  });
});

describe('v4Refusal (a v5 request for a cluster bridged to v4)', () => {
  const fields = (keyspace: string | null, texts: readonly string[], nowInSeconds = false) => ({
    keyspace,
    nowInSeconds,
    texts,
  });
  // [case, request kind, its v5-only fields, the session keyspace, refused]
  const cases: readonly [string, 'execute' | 'other', ReturnType<typeof fields>, string | null, boolean][] = [
    ['no v5-only field', 'other', fields(null, []), null, false],
    ['the session keyspace', 'other', fields('ks', ['SELECT * FROM t']), 'ks', false],
    [
      'every text names its keyspace',
      'other',
      fields('ks', ['SELECT * FROM ks.t', 'INSERT INTO ks.u (k) VALUES (1)']),
      null,
      false,
    ],
    ['a batch of prepared children only', 'other', fields('ks', []), null, false],
    ['an EXECUTE: its statement is bound', 'execute', fields('ks', []), 'other', false],
    ['an unqualified SELECT, another keyspace', 'other', fields('ks', ['SELECT * FROM t']), 'other', true],
    [
      'an unqualified UPDATE, no session keyspace',
      'other',
      fields('ks', ['UPDATE t SET v = 1 WHERE k = 1']),
      null,
      true,
    ],
    ['DDL with a keyspace', 'other', fields('ks', ['CREATE TABLE ks.t (k int PRIMARY KEY)']), null, true],
    ['now_in_seconds', 'other', fields(null, ['SELECT * FROM ks.t'], true), null, true],
    ['now_in_seconds in an EXECUTE', 'execute', fields(null, [], true), null, true],
  ];
  for (const [name, kind, given, session, refused] of cases) {
    test(name, () => {
      const refusal = v4Refusal(kind, given, session, 'target');
      assert.equal(refusal !== null, refused);
      if (refusal !== null) {
        assert.equal(refusal.code, ErrorCode.INVALID);
        assert.match(refusal.message, /speaks protocol v4.*connect with protocol v4/);
      }
    });
  }
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
