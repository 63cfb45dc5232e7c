import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { silentLogger } from '../../src/log/logger.js';
import { V4ToV5Link, V5ToV4Link } from '../../src/proxy/bridge-links.js';
import type { ClusterLink } from '../../src/proxy/cluster-link.js';
import { ClusterLinks } from '../../src/proxy/cluster-links.js';
import {
  Consistency,
  decodeError,
  ErrorCode,
  encodeError,
  encodeFrame,
  encodeQuery,
  encodeStartup,
  Framer,
  Opcode,
  type ProtocolVersion,
  queryParameters,
  type RawFrame,
} from '../../src/proxy/codec/index.js';
import { ProxyMetrics } from '../../src/proxy/proxy-metrics.js';
import type { ClusterName } from '../../src/proxy/route-request.js';
import { startupStep } from '../../src/proxy/session-handshake.js';
import type { Waiter } from '../../src/proxy/stream-ids.js';

/**
 * The handshake when a cluster refuses the client's protocol version: bridged (a v4 client, a
 * cluster that speaks only v5) or relayed so the driver steps down (a v5 client, a cluster
 * without v5). Nodes are scripted links answering STARTUP the way Cassandra does.
 */

/** A node that accepts `speaks` and refuses other versions with Cassandra's PROTOCOL_ERROR. */
function node(
  cluster: ClusterName,
  version: ProtocolVersion,
  speaks: readonly number[],
  message: string,
): ClusterLink {
  const answer = (): RawFrame => {
    const refused = !speaks.includes(version);
    const body = refused
      ? encodeError({ kind: 'simple', code: ErrorCode.PROTOCOL_ERROR, message }, 4)
      : Buffer.alloc(0);
    const raw = encodeFrame(
      // Cassandra answers a refused version in a version the client can read.
      {
        version: refused ? 4 : version,
        isResponse: true,
        flags: 0,
        streamId: 0,
        opcode: refused ? Opcode.ERROR : Opcode.READY,
      },
      body,
    );
    return new Framer({ supportedVersions: [3, 4, 5] }).push(raw).frames[0]!;
  };
  const link: ClusterLink = {
    cluster,
    address: `memory-${cluster}`,
    closed: false,
    inFlight: 0,
    backedUp: false,
    request: (_opcode: number, _flags: number, _body: Buffer, onResult: Waiter) => onResult(answer()),
    requestSecondary: () => true,
    send: (opcode, flags, body) =>
      new Promise((resolve, reject) =>
        link.request(opcode, flags, body, (r) => (r instanceof Error ? reject(r) : resolve(r))),
      ),
    close: () => undefined,
  };
  return link;
}

async function handshake(
  clientVersion: ProtocolVersion,
  targetSpeaks: readonly number[],
  refusal: string,
  originSpeaks: readonly number[] = [3, 4, 5],
) {
  const opened: string[] = [];
  const links = new ClusterLinks({
    connect: async (cluster, version) => {
      opened.push(`${cluster} v${version}`);
      return node(
        cluster,
        version as ProtocolVersion,
        cluster === 'origin' ? originSpeaks : targetSpeaks,
        refusal,
      );
    },
    credentials: { origin: undefined, target: undefined },
    metrics: new ProxyMetrics(),
    logger: silentLogger(),
    onEvent: () => undefined,
    onDrain: () => undefined,
  });
  links.version = clientVersion;
  const step = await startupStep(
    links,
    encodeStartup({ options: new Map([['CQL_VERSION', '3.0.0']]) }),
    false,
  );
  return { step, opened, links };
}

describe('a cluster that refuses the client’s version at STARTUP', () => {
  test('a v4 client, a Target that speaks only v5: Target is reopened in v5 and bridged', async () => {
    const { step, opened, links } = await handshake(4, [5], 'Rejecting Protocol Version 4/v4 < 5/v5.');
    assert.equal(step.next, 'ready');
    assert.deepEqual(opened.sort(), ['origin v4', 'target v4', 'target v5']);
    assert.equal(links.versionOf('target'), 5);
    assert.equal(links.versionOf('origin'), 4);
    assert.ok(links.get('target') instanceof V4ToV5Link);
  });

  test('a v5 client, a Target without v5 (Cassandra 3.x): Target is reopened in v4 and bridged', async () => {
    const message = 'Beta version of the protocol used (5/v5-beta), but USE_BETA flag is unset';
    const { step, opened, links } = await handshake(5, [3, 4], message);
    assert.equal(step.next, 'ready');
    assert.deepEqual(opened.sort(), ['origin v5', 'target v4', 'target v5']);
    assert.equal(links.versionOf('target'), 4);
    assert.equal(links.versionOf('origin'), 5);
    assert.ok(links.get('target') instanceof V5ToV4Link);
  });

  test('a v5 client bridged to a v4 Target: requests v4 cannot carry are refused before they go anywhere', async () => {
    const message = 'Beta version of the protocol used (5/v5-beta), but USE_BETA flag is unset';
    const { links } = await handshake(5, [3, 4], message);
    const query = (text: string, keyspace: string | null) =>
      encodeQuery({ query: text, params: queryParameters(Consistency.ONE, { keyspace }) }, 5);
    const refusal = links.bridgeRefusal(Opcode.QUERY, 0, query('INSERT INTO t (k) VALUES (1)', 'ks'));
    assert.equal(refusal?.code, ErrorCode.INVALID);
    assert.match(refusal?.message ?? '', /Target speaks protocol v4.*"ks"/);
    assert.equal(links.bridgeRefusal(Opcode.QUERY, 0, query('INSERT INTO ks.t (k) VALUES (1)', 'ks')), null);
    assert.equal(links.bridgeRefusal(Opcode.QUERY, 0, query('INSERT INTO t (k) VALUES (1)', null)), null);
    links.keyspace = 'ks';
    assert.equal(links.bridgeRefusal(Opcode.QUERY, 0, query('INSERT INTO t (k) VALUES (1)', 'ks')), null);
  });

  test('a v4 client: no request is refused for its version', async () => {
    const { links } = await handshake(4, [5], 'Rejecting Protocol Version 4/v4 < 5/v5.');
    const body = encodeQuery({ query: 'SELECT * FROM t', params: queryParameters(Consistency.ONE) }, 4);
    assert.equal(links.bridgeRefusal(Opcode.QUERY, 0, body), null);
  });

  test('a v5 client, neither cluster with v5: the refusal reaches the client, whose driver steps down', async () => {
    const message = 'Invalid or unsupported protocol version (5); supported versions are (3/v3, 4/v4)';
    const { step, opened, links } = await handshake(5, [3, 4], message, [3, 4]);
    assert.equal(step.next, 'awaiting_startup');
    assert.equal(step.answer.kind, 'relay');
    const frame = step.answer.kind === 'relay' ? step.answer.frame : assert.fail('no relayed frame');
    assert.equal(decodeError(frame.body, 4).message, message);
    assert.deepEqual(opened.sort(), ['origin v5', 'target v5']);
    assert.equal(links.get('target'), null, 'the connections are dropped for the retry');
  });

  test('a v3 client, a Target that speaks only v5: not bridged, the refusal reaches the client', async () => {
    const { step, opened } = await handshake(3, [5], 'Rejecting Protocol Version 3/v3 < 5/v5.');
    assert.equal(step.answer.kind, 'relay');
    assert.deepEqual(opened.sort(), ['origin v3', 'target v3']);
  });
});
