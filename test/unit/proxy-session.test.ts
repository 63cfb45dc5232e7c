import assert from 'node:assert/strict';
import { Duplex, PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { silentLogger } from '../../src/log/logger.js';
import { openTcpLink } from '../../src/proxy/backend-connection.js';
import { ClientSession, type SessionContext, SessionStep } from '../../src/proxy/client-session.js';
import {
  decodeError,
  decodeHeader,
  decodeSupported,
  ErrorCode,
  encodeFrame,
  encodeStartup,
  Framer,
  Opcode,
  type RawFrame,
} from '../../src/proxy/codec/index.js';
import { PreparedCache } from '../../src/proxy/prepared-cache.js';
import { ProxyMetrics } from '../../src/proxy/proxy-metrics.js';
import { monotonicMicros } from '../../src/proxy/timestamps.js';
import { virtualHosts } from '../../src/proxy/virtual-tables.js';

/** Two ends of an in-memory connection: the session gets one, the test plays the client on the other. */
function duplexPair(): [Duplex, Duplex] {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  return [
    Duplex.from({ readable: toServer, writable: toClient }),
    Duplex.from({ readable: toClient, writable: toServer }),
  ];
}

function context(connects: string[]): SessionContext {
  return {
    primary: 'origin',
    dualReads: false,
    requestTimeoutMs: 1000,
    forwardClientCredentialsToOrigin: false,
    replaceDefaultTimestamp: true,
    credentials: { origin: undefined, target: undefined },
    // A real connection attempt to a port nobody listens on: the cluster is down.
    connect: (cluster, version, hooks) => {
      connects.push(cluster);
      return openTcpLink(
        { cluster, host: '127.0.0.1', port: 1, tls: undefined },
        {
          version,
          maxStreamIds: 16,
          secondaryStreamIds: 0,
          requestTimeoutMs: 1000,
          secondaryTimeoutMs: 1000,
          connectTimeoutMs: 2000,
          heartbeatIntervalMs: 60000,
          heartbeatMisses: 2,
        },
        hooks,
      );
    },
    prepared: new PreparedCache(10),
    topology: { hosts: virtualHosts(['127.0.0.1'], 8), self: 0, port: 9042 },
    cqlVersions: ['3.4.7'],
    timestamps: monotonicMicros(),
    limits: {
      maxFrameBytes: 16 * 1024 * 1024,
      preAuthFrameBytes: 256 * 1024,
      handshakeTimeoutMs: 0,
      idleTimeoutMs: 0,
      maxInFlight: 1024,
    },
    metrics: new ProxyMetrics(),
    logger: silentLogger(),
  };
}

/** A session on an in-memory duplex, and a client end that collects response frames. */
function open() {
  const [server, client] = duplexPair();
  const connects: string[] = [];
  const session = new ClientSession(server, context(connects));
  const framer = new Framer({ supportedVersions: [3, 4] });
  const frames: RawFrame[] = [];
  let ended = false;
  const waiters: (() => void)[] = [];
  client.on('error', () => undefined);
  client.on('data', (chunk: Buffer) => {
    frames.push(...framer.push(chunk).frames);
    for (const w of waiters.splice(0)) w();
  });
  client.on('end', () => {
    ended = true;
    for (const w of waiters.splice(0)) w();
  });
  const next = async (): Promise<RawFrame> => {
    while (frames.length === 0) {
      if (ended) throw new Error('connection ended');
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
    return frames.shift()!;
  };
  const closed = async () => {
    while (!ended) await new Promise<void>((resolve) => waiters.push(resolve));
  };
  return { session, client, next, closed, connects };
}

const request = (version: number, stream: number, opcode: number, body: Buffer = Buffer.alloc(0)) =>
  encodeFrame({ version, isResponse: false, flags: 0, streamId: stream, opcode }, body);

function errorOf(frame: RawFrame) {
  assert.equal(frame.header.opcode, Opcode.ERROR);
  return decodeError(frame.body, 4);
}

describe('ClientSession over an in-memory duplex', () => {
  test('OPTIONS before STARTUP is answered by the proxy, on the same stream, without touching a cluster', async () => {
    const c = open();
    c.client.write(request(4, 7, Opcode.OPTIONS));
    const frame = await c.next();
    assert.equal(frame.header.streamId, 7);
    assert.equal(frame.header.isResponse, true);
    assert.equal(frame.header.opcode, Opcode.SUPPORTED);
    const supported = decodeSupported(frame.body).options;
    assert.deepEqual(supported.get('CQL_VERSION'), ['3.4.7']);
    assert.deepEqual(supported.get('COMPRESSION'), []);
    assert.deepEqual(c.connects, []);
    c.session.close();
  });

  for (const [version, name] of [
    [5, 'v5'],
    [0x42, 'DSE v2'],
    [2, 'v2'],
  ] as const) {
    test(`${name} is refused with "Invalid or unsupported protocol version (${version})" on stream 0`, async () => {
      const c = open();
      c.client.write(request(version === 2 ? 4 : 4, 3, Opcode.STARTUP).fill(version, 0, 1));
      const frame = await c.next();
      assert.equal(frame.header.streamId, 0);
      assert.equal(frame.header.version, 4);
      const error = errorOf(frame);
      assert.equal(error.code, ErrorCode.PROTOCOL_ERROR);
      assert.equal(error.message, `Invalid or unsupported protocol version (${version})`);
      await c.closed();
      assert.equal(c.session.step, SessionStep.CLOSED);
    });
  }

  test('an oversized frame closes the connection with a protocol error', async () => {
    const c = open();
    const header = Buffer.from([0x04, 0, 0, 1, Opcode.QUERY, 0, 0, 0, 0]);
    header.writeInt32BE(256 * 1024 * 1024 + 1, 5);
    c.client.write(header);
    const error = errorOf(await c.next());
    assert.equal(error.code, ErrorCode.PROTOCOL_ERROR);
    assert.match(
      error.message,
      /exceeds the limit of 262144 bytes \(ZDM_PROXY_PREAUTH_MAX_FRAME_SIZE_BYTES\)/,
    );
    await c.closed();
  });

  test('a negative body length closes the connection with a protocol error', async () => {
    const c = open();
    c.client.write(Buffer.from([0x04, 0, 0, 1, Opcode.QUERY, 0xff, 0xff, 0xff, 0xfe]));
    assert.match(errorOf(await c.next()).message, /negative frame body length/);
    await c.closed();
  });

  test('a truncated STARTUP body closes the connection with a protocol error', async () => {
    const c = open();
    c.client.write(request(4, 1, Opcode.STARTUP, Buffer.from([0, 1, 0, 9, 0x41])));
    const frame = await c.next();
    assert.equal(frame.header.streamId, 1);
    assert.match(errorOf(frame).message, /malformed request/);
    await c.closed();
    assert.deepEqual(c.connects, []);
  });

  test('a request before STARTUP gets an error and the connection stays usable', async () => {
    const c = open();
    c.client.write(request(4, 2, Opcode.QUERY, Buffer.from([0, 0, 0, 0, 0, 1, 0])));
    assert.match(errorOf(await c.next()).message, /expected STARTUP/);
    c.client.write(request(4, 3, Opcode.OPTIONS));
    assert.equal((await c.next()).header.opcode, Opcode.SUPPORTED);
    c.session.close();
  });

  test('a response frame from a client is refused', async () => {
    const c = open();
    c.client.write(
      encodeFrame(
        { version: 4, isResponse: true, flags: 0, streamId: 5, opcode: Opcode.READY },
        Buffer.alloc(0),
      ),
    );
    assert.match(errorOf(await c.next()).message, /response frame/);
    await c.closed();
  });

  test('compression is refused at STARTUP (none is advertised)', async () => {
    const c = open();
    const body = encodeStartup({
      options: new Map([
        ['CQL_VERSION', '3.0.0'],
        ['COMPRESSION', 'lz4'],
      ]),
    });
    c.client.write(request(4, 1, Opcode.STARTUP, body));
    assert.match(errorOf(await c.next()).message, /compression lz4 is not supported/);
    assert.equal(c.session.step, SessionStep.AWAITING_STARTUP);
    c.session.close();
  });

  test('a cluster that cannot be reached fails STARTUP with a server error naming it', async () => {
    const c = open();
    c.client.write(
      request(4, 1, Opcode.STARTUP, encodeStartup({ options: new Map([['CQL_VERSION', '3.0.0']]) })),
    );
    const frame = await c.next();
    assert.equal(frame.header.streamId, 1);
    const error = errorOf(frame);
    assert.equal(error.code, ErrorCode.SERVER_ERROR);
    assert.match(error.message, /zdm-proxy: (Origin|Target) is unavailable: cannot connect/);
    assert.deepEqual(c.connects.sort(), ['origin', 'target']);
    assert.equal(c.session.step, SessionStep.AWAITING_STARTUP);
    c.session.close();
  });

  test('input cut into single bytes is framed the same', async () => {
    const c = open();
    for (const byte of request(4, 9, Opcode.OPTIONS)) c.client.write(Buffer.from([byte]));
    const frame = await c.next();
    assert.deepEqual(decodeHeader(frame.raw), {
      version: 4,
      isResponse: true,
      flags: 0,
      streamId: 9,
      opcode: Opcode.SUPPORTED,
      length: frame.body.length,
    });
    c.session.close();
  });
});
