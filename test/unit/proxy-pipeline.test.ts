import assert from 'node:assert/strict';
import { Duplex, PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { silentLogger } from '../../src/log/logger.js';
import { ClientSession, type SessionContext, SessionStep } from '../../src/proxy/client-session.js';
import type { LinkOptions } from '../../src/proxy/cluster-link.js';
import {
  Consistency,
  decodeError,
  decodeQuery,
  ErrorCode,
  encodeExecute,
  encodeFrame,
  encodePrepare,
  encodeQuery,
  encodeStartup,
  FrameFlag,
  Framer,
  loadCompression,
  Opcode,
  queryParameters,
  type RawFrame,
  simpleError,
} from '../../src/proxy/codec/index.js';
import { statementText } from '../../src/proxy/frame-reading.js';
import {
  answers,
  memoryConnector,
  memoryLink,
  type NodeAnswer,
  type ScriptedNode,
} from '../../src/proxy/memory-cluster-link.js';
import { PreparedCache } from '../../src/proxy/prepared-cache.js';
import { ProxyMetrics } from '../../src/proxy/proxy-metrics.js';
import type { ClusterName } from '../../src/proxy/route-request.js';
import { SessionRegistry } from '../../src/proxy/session-registry.js';
import { monotonicMicros } from '../../src/proxy/timestamps.js';
import { virtualHosts } from '../../src/proxy/virtual-tables.js';

const LINK: Omit<LinkOptions, 'version'> = {
  maxStreamIds: 2048,
  secondaryStreamIds: 8,
  requestTimeoutMs: 300,
  secondaryTimeoutMs: 300,
  heartbeatIntervalMs: 60_000,
  heartbeatMisses: 2,
};

/** A scripted node: READY to STARTUP, SUPPORTED to OPTIONS, `answer` for the rest; it records what it got. */
function node(answer: (request: RawFrame, text: string | null) => NodeAnswer | Promise<NodeAnswer>) {
  const received: { opcode: number; text: string | null; body: Buffer }[] = [];
  const script: ScriptedNode = (request) => {
    const { opcode } = request.header;
    if (opcode === Opcode.STARTUP) return answers.ready();
    if (opcode === Opcode.OPTIONS) return answers.supported();
    const text = opcode === Opcode.QUERY || opcode === Opcode.PREPARE ? statementText(request, 4) : null;
    received.push({ opcode, text, body: Buffer.from(request.body) });
    return answer(request, text);
  };
  return { script, received };
}

const voidNode = () => node(() => answers.void());

interface Setup {
  readonly origin?: ScriptedNode | Error;
  readonly target?: ScriptedNode | Error;
  readonly context?: Partial<SessionContext>;
  readonly link?: Partial<Omit<LinkOptions, 'version'>>;
}

/** A session over an in-memory duplex whose clusters are scripted nodes; the test plays the client. */
function open(setup: Setup = {}) {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  const server = Duplex.from({ readable: toServer, writable: toClient });
  const client = Duplex.from({ readable: toClient, writable: toServer });
  const metrics = new ProxyMetrics();
  const connects: ClusterName[] = [];
  const nodes = { origin: setup.origin ?? voidNode().script, target: setup.target ?? voidNode().script };
  const connect = memoryConnector(
    (cluster) => {
      connects.push(cluster);
      return nodes[cluster];
    },
    { ...LINK, ...setup.link },
  );
  const context: SessionContext = {
    primary: 'origin',
    dualReads: false,
    requestTimeoutMs: LINK.requestTimeoutMs,
    forwardClientCredentialsToOrigin: false,
    replaceDefaultTimestamp: true,
    credentials: { origin: undefined, target: undefined },
    connect,
    prepared: new PreparedCache(100),
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
    metrics,
    logger: silentLogger(),
    ...setup.context,
  };
  const session = new ClientSession(server, context);
  const framer = new Framer({ supportedVersions: [4] });
  const byStream = new Map<number, RawFrame>();
  let ended = false;
  let wake: (() => void)[] = [];
  client.on('error', () => undefined);
  client.on('data', (chunk: Buffer) => {
    for (const frame of framer.push(chunk).frames) byStream.set(frame.header.streamId, frame);
    for (const w of wake.splice(0)) w();
  });
  const end = () => {
    ended = true;
    for (const w of wake.splice(0)) w();
  };
  client.on('end', end);
  client.on('close', end);
  toClient.on('close', end);
  const until = async (done: () => boolean) => {
    while (!done()) {
      if (ended) throw new Error('connection ended');
      await new Promise<void>((resolve) => wake.push(resolve));
    }
  };
  /** The answer on `stream` (waits for it). */
  const answer = async (stream: number): Promise<RawFrame> => {
    await until(() => byStream.has(stream));
    const frame = byStream.get(stream)!;
    byStream.delete(stream);
    return frame;
  };
  const send = (stream: number, opcode: number, body: Buffer) =>
    client.write(encodeFrame({ version: 4, isResponse: false, flags: 0, streamId: stream, opcode }, body));
  const ready = async () => {
    send(0, Opcode.STARTUP, encodeStartup({ options: new Map([['CQL_VERSION', '3.0.0']]) }));
    assert.equal((await answer(0)).header.opcode, Opcode.READY);
  };
  const closed = async () => {
    while (!ended) await new Promise<void>((resolve) => wake.push(resolve));
  };
  return {
    session,
    client,
    metrics,
    context,
    connects,
    send,
    answer,
    ready,
    closed,
    received: () => byStream.size,
    reset: () => {
      wake = [];
    },
  };
}

const query = (text: string) => encodeQuery({ query: text, params: queryParameters(Consistency.ONE) }, 4);
const prepare = (text: string) => encodePrepare({ query: text, keyspace: null }, 4);
const execute = (id: Buffer) =>
  encodeExecute({ id, resultMetadataId: null, params: queryParameters(Consistency.ONE) }, 4);

function errorOf(frame: RawFrame) {
  assert.equal(frame.header.opcode, Opcode.ERROR, `expected an ERROR, got opcode ${frame.header.opcode}`);
  return decodeError(frame.body, 4);
}

async function metric(metrics: ProxyMetrics, name: string, labels: Record<string, string>): Promise<number> {
  const found = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  const value = found?.values.find((v) =>
    Object.entries(labels).every(([k, l]) => (v.labels as Record<string, unknown>)[k] === l),
  );
  return value?.value ?? 0;
}

describe('request path over in-memory cluster links', () => {
  test('writes go to both clusters with one timestamp, reads to the primary only', async () => {
    const origin = voidNode();
    const target = voidNode();
    const c = open({ origin: origin.script, target: target.script });
    await c.ready();
    c.send(1, Opcode.QUERY, query('INSERT INTO ks.t (k, v) VALUES (1, 2)'));
    assert.equal((await c.answer(1)).header.opcode, Opcode.RESULT);
    c.send(2, Opcode.QUERY, query('SELECT v FROM ks.t WHERE k = 1'));
    assert.equal((await c.answer(2)).header.opcode, Opcode.RESULT);
    assert.deepEqual(
      origin.received.map((r) => r.text),
      ['INSERT INTO ks.t (k, v) VALUES (1, 2)', 'SELECT v FROM ks.t WHERE k = 1'],
    );
    assert.deepEqual(
      target.received.map((r) => r.text),
      ['INSERT INTO ks.t (k, v) VALUES (1, 2)'],
    );
    const stamp = (body: Buffer) => decodeQuery(body, 4).params.defaultTimestamp;
    assert.notEqual(stamp(origin.received[0]!.body), null);
    assert.equal(stamp(origin.received[0]!.body), stamp(target.received[0]!.body));
    c.session.close();
  });

  test("EXECUTE carries Target's own prepared id there; Target's UNPREPARED names Origin's id", async () => {
    const originId = Buffer.from('aaaa', 'hex');
    const targetId = Buffer.from('bbbb', 'hex');
    let targetForgot = false;
    const origin = node((r) =>
      r.header.opcode === Opcode.PREPARE ? answers.prepared(originId) : answers.void(),
    );
    const target = node((r) => {
      if (r.header.opcode === Opcode.PREPARE) return answers.prepared(targetId);
      if (targetForgot)
        return answers.error({
          kind: 'unprepared',
          code: ErrorCode.UNPREPARED,
          message: 'gone',
          id: targetId,
        });
      return answers.void();
    });
    const c = open({ origin: origin.script, target: target.script });
    await c.ready();
    c.send(1, Opcode.PREPARE, prepare('INSERT INTO ks.t (k) VALUES (?)'));
    assert.equal((await c.answer(1)).header.opcode, Opcode.RESULT);
    c.send(2, Opcode.EXECUTE, execute(originId));
    assert.equal((await c.answer(2)).header.opcode, Opcode.RESULT);
    assert.deepEqual(origin.received[1]!.body.subarray(2, 4), originId);
    assert.deepEqual(target.received[1]!.body.subarray(2, 4), targetId);
    targetForgot = true;
    c.send(3, Opcode.EXECUTE, execute(originId));
    const error = errorOf(await c.answer(3));
    assert.equal(error.code, ErrorCode.UNPREPARED);
    assert.deepEqual(error.kind === 'unprepared' ? error.id : null, originId);
    c.send(4, Opcode.EXECUTE, execute(Buffer.from('cccc', 'hex')));
    assert.equal(errorOf(await c.answer(4)).code, ErrorCode.UNPREPARED, 'an id the proxy never saw');
    c.session.close();
  });

  test('a cluster that does not answer in time: WRITE_TIMEOUT naming it; its late answer is dropped', async () => {
    let slow = true;
    const target = node(async () => {
      if (!slow) return answers.void();
      await new Promise((resolve) => setTimeout(resolve, 500));
      return answers.error(simpleError(ErrorCode.SERVER_ERROR, 'late'));
    });
    const c = open({ target: target.script });
    await c.ready();
    c.send(1, Opcode.QUERY, query('INSERT INTO ks.t (k) VALUES (1)'));
    const error = errorOf(await c.answer(1));
    assert.equal(error.code, ErrorCode.WRITE_TIMEOUT);
    assert.match(error.message, /Target did not answer within 300 ms/);
    slow = false;
    // The late answer arrives meanwhile; the next request on the same link gets its own answer.
    await new Promise((resolve) => setTimeout(resolve, 300));
    c.send(2, Opcode.QUERY, query('INSERT INTO ks.t (k) VALUES (2)'));
    assert.equal((await c.answer(2)).header.opcode, Opcode.RESULT);
    c.session.close();
  });

  test('issue item 1: a malformed QUERY whose answer times out gets an error; the session and others carry on', async () => {
    const silent = node(() => null);
    const c = open({ origin: silent.script });
    const other = open();
    await c.ready();
    await other.ready();
    // A read (forwarded as it is), its parameters cut short: the proxy cannot read its consistency.
    const text = Buffer.from('SELECT v FROM ks.t WHERE k = 1');
    const body = Buffer.alloc(4 + text.length + 1);
    body.writeInt32BE(text.length, 0);
    text.copy(body, 4);
    c.send(1, Opcode.QUERY, body);
    const error = errorOf(await c.answer(1));
    assert.equal(error.code, ErrorCode.SERVER_ERROR);
    assert.match(error.message, /did not answer within/);
    other.send(1, Opcode.QUERY, query('SELECT v FROM ks.t'));
    assert.equal((await other.answer(1)).header.opcode, Opcode.RESULT);
    c.session.close();
    other.session.close();
  });

  test('DUAL_ASYNC_ON_SECONDARY with Target failing: simple and prepared reads keep working on Origin', async () => {
    const originId = Buffer.from('0101', 'hex');
    const origin = node((r) =>
      r.header.opcode === Opcode.PREPARE ? answers.prepared(originId) : answers.void(),
    );
    const target = node(() => answers.error(simpleError(ErrorCode.SERVER_ERROR, 'Target is away')));
    const c = open({ origin: origin.script, target: target.script, context: { dualReads: true } });
    await c.ready();
    c.send(1, Opcode.PREPARE, prepare('SELECT v FROM ks.t WHERE k = ?'));
    assert.equal((await c.answer(1)).header.opcode, Opcode.RESULT);
    for (const stream of [2, 3, 4]) {
      c.send(stream, Opcode.EXECUTE, execute(originId));
      assert.equal((await c.answer(stream)).header.opcode, Opcode.RESULT, 'no UNPREPARED for a read');
    }
    c.send(5, Opcode.QUERY, query('SELECT v FROM ks.t WHERE k = 1'));
    assert.equal((await c.answer(5)).header.opcode, Opcode.RESULT);
    // Target got the PREPARE and the simple read's copy; no EXECUTE with an id it never gave.
    assert.deepEqual(
      target.received.map((r) => r.opcode),
      [Opcode.PREPARE, Opcode.QUERY],
    );
    c.send(6, Opcode.PREPARE, prepare('INSERT INTO ks.t (k) VALUES (?)'));
    assert.match(errorOf(await c.answer(6)).message, /Target is away/, 'a write needs both');
    c.session.close();
  });

  test('secondary reads have their own bounded lane: beyond it they are dropped and counted', async () => {
    const target = node((r) => (r.header.opcode === Opcode.QUERY ? null : answers.void()));
    const c = open({ target: target.script, context: { dualReads: true }, link: { secondaryStreamIds: 2 } });
    await c.ready();
    for (let stream = 1; stream <= 5; stream++) c.send(stream, Opcode.QUERY, query('SELECT v FROM ks.t'));
    for (let stream = 1; stream <= 5; stream++)
      assert.equal((await c.answer(stream)).header.opcode, Opcode.RESULT);
    assert.equal(target.received.length, 2);
    assert.equal(
      await metric(c.metrics, 'zdm_proxy_secondary_reads_dropped_total', { cluster: 'target' }),
      3,
    );
    c.session.close();
  });

  test('USE that fails on Target: the client gets the error, Origin goes back to the previous keyspace', async () => {
    const origin = node((_, text) =>
      text?.startsWith('USE') ? answers.result({ kind: 'set_keyspace', keyspace: 'x' }) : answers.void(),
    );
    const target = node((_, text) =>
      text === 'USE ks2'
        ? answers.error(simpleError(ErrorCode.INVALID, "Keyspace 'ks2' does not exist"))
        : text?.startsWith('USE')
          ? answers.result({ kind: 'set_keyspace', keyspace: 'x' })
          : answers.void(),
    );
    const c = open({ origin: origin.script, target: target.script });
    await c.ready();
    c.send(1, Opcode.QUERY, query('USE ks1'));
    assert.equal((await c.answer(1)).header.opcode, Opcode.RESULT);
    c.send(2, Opcode.QUERY, query('USE ks2'));
    assert.match(errorOf(await c.answer(2)).message, /ks2/);
    assert.deepEqual(
      origin.received.map((r) => r.text),
      ['USE ks1', 'USE ks2', 'USE "ks1"'],
    );
    c.session.close();
  });

  test('USE that fails on Target with no previous keyspace: Origin gets a fresh connection', async () => {
    const target = node((_, text) =>
      text?.startsWith('USE')
        ? answers.error(simpleError(ErrorCode.INVALID, 'no such keyspace'))
        : answers.void(),
    );
    const c = open({ target: target.script });
    await c.ready();
    assert.deepEqual(c.connects.sort(), ['origin', 'target']);
    c.send(1, Opcode.QUERY, query('USE ks'));
    assert.match(errorOf(await c.answer(1)).message, /no such keyspace/);
    assert.deepEqual(c.connects.sort(), ['origin', 'origin', 'target']);
    c.send(2, Opcode.QUERY, query('INSERT INTO ks.t (k) VALUES (1)'));
    assert.equal((await c.answer(2)).header.opcode, Opcode.RESULT, 'the new connection is usable');
    c.session.close();
  });

  test('5,000 pipelined requests on one connection are all answered, in one write', async () => {
    const c = open();
    await c.ready();
    const frames = Array.from({ length: 5000 }, (_, i) =>
      encodeFrame(
        { version: 4, isResponse: false, flags: 0, streamId: i + 1, opcode: Opcode.QUERY },
        query(`INSERT INTO ks.t (k) VALUES (${i})`),
      ),
    );
    c.client.write(Buffer.concat(frames));
    for (let i = 1; i <= 5000; i++)
      assert.equal((await c.answer(i)).header.opcode, Opcode.RESULT, `stream ${i}`);
    c.session.close();
  });

  test('a client is not read beyond its in-flight bound', async () => {
    const silent = node(() => null);
    const c = open({ origin: silent.script, context: { limits: { ...baseLimits(), maxInFlight: 10 } } });
    await c.ready();
    for (let stream = 1; stream <= 50; stream++) c.send(stream, Opcode.QUERY, query('SELECT v FROM ks.t'));
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(silent.received.length, 10);
    assert.equal(c.session.inFlight, 10);
    // As answers (timeouts here) go out, the next requests are read.
    await c.answer(1);
    await until(() => silent.received.length >= 20);
    c.session.close();
  });

  test('handshake and idle timeouts close the connection', async () => {
    const quiet = open({ context: { limits: { ...baseLimits(), handshakeTimeoutMs: 100 } } });
    await quiet.closed();
    assert.equal(quiet.session.step, SessionStep.CLOSED);
    const idle = open({ context: { limits: { ...baseLimits(), idleTimeoutMs: 100 } } });
    await idle.ready();
    await idle.closed();
    assert.equal(idle.session.step, SessionStep.CLOSED);
  });

  test('a frame larger than the limit before authentication is refused from its header', async () => {
    const c = open();
    const header = Buffer.from([0x04, 0, 0, 1, Opcode.STARTUP, 0, 0, 0, 0]);
    header.writeInt32BE(256 * 1024 + 1, 5);
    c.client.write(header);
    // Answered on the oversized request's own stream, so the driver fails that request.
    assert.equal(errorOf(await c.answer(1)).code, ErrorCode.PROTOCOL_ERROR);
    await c.closed();
  });

  test('drain: requests in flight are answered, then the connection closes; new sessions are refused', async () => {
    const slow = node(async () => {
      await new Promise((resolve) => setTimeout(resolve, 100));
      return answers.void();
    });
    const registry = new SessionRegistry();
    const c = open({ origin: slow.script, context: { registry } });
    await c.ready();
    c.send(1, Opcode.QUERY, query('INSERT INTO ks.t (k) VALUES (1)'));
    await until(() => slow.received.length === 1);
    const unfinished = await registry.drain(5000);
    assert.equal(unfinished, 0);
    assert.equal((await c.answer(1)).header.opcode, Opcode.RESULT);
    await c.closed();
    const late = open({ context: { registry } });
    await late.closed();
  });
});

describe('fault isolation', () => {
  const stages: { name: string; setup: () => Setup; request: (c: ReturnType<typeof open>) => void }[] = [
    {
      name: 'routing a request (prepared cache throws)',
      setup: () => ({
        context: {
          prepared: Object.assign(new PreparedCache(10), {
            get: () => {
              throw new Error('injected');
            },
          }),
        },
      }),
      request: (c) => c.send(1, Opcode.EXECUTE, execute(Buffer.from('01', 'hex'))),
    },
    {
      name: 'stamping a write (timestamp source throws)',
      setup: () => ({
        context: {
          timestamps: () => {
            throw new Error('injected');
          },
        },
      }),
      request: (c) => c.send(1, Opcode.QUERY, query('INSERT INTO ks.t (k) VALUES (1)')),
    },
    {
      name: "reading a cluster's answer (a malformed PREPARED result)",
      setup: () => ({
        origin: node((r) =>
          r.header.opcode === Opcode.PREPARE
            ? { opcode: Opcode.RESULT, body: Buffer.from([0, 0, 0, 4, 0, 9]) }
            : answers.void(),
        ).script,
      }),
      request: (c) => c.send(1, Opcode.PREPARE, prepare('INSERT INTO ks.t (k) VALUES (?)')),
    },
    {
      name: 'answering the client (the socket write throws)',
      setup: () => ({}),
      request: (c) => {
        const stream = c.client as unknown as { _writeBroken?: boolean };
        stream._writeBroken = true;
        c.send(1, Opcode.QUERY, query('SELECT v FROM ks.t'));
      },
    },
  ];
  for (const stage of stages) {
    test(`a throw while ${stage.name} closes that session only`, async () => {
      const healthy = open();
      const faulty = open(stage.setup());
      await healthy.ready();
      await faulty.ready();
      if (stage.name.startsWith('answering')) breakWrites(faulty.session);
      stage.request(faulty);
      await faulty.closed();
      assert.equal(faulty.session.step, SessionStep.CLOSED);
      assert.ok((await faultCount(faulty.metrics)) >= 1, 'counted as a session fault');
      healthy.send(7, Opcode.QUERY, query('INSERT INTO ks.t (k) VALUES (1)'));
      assert.equal((await healthy.answer(7)).header.opcode, Opcode.RESULT);
      healthy.session.close();
    });
  }
});

describe('links', () => {
  // Heartbeat timers do not hold the process open (unref): this does, while a test waits on them.
  let keepAlive: NodeJS.Timeout;
  beforeEach(() => {
    keepAlive = setInterval(() => undefined, 1000);
  });
  afterEach(() => clearInterval(keepAlive));
  test('a link that misses its heartbeats is closed', async () => {
    let closedWith: Error | undefined;
    const closed = new Promise<void>((resolve) => {
      memoryLink(
        'target',
        (r) => (r.header.opcode === Opcode.OPTIONS ? null : answers.void()),
        { ...LINK, version: 4, heartbeatIntervalMs: 50, heartbeatMisses: 2, requestTimeoutMs: 50 },
        {
          onEvent: () => undefined,
          onDrain: () => undefined,
          onClose: (error) => {
            closedWith = error;
            resolve();
          },
        },
      );
    });
    await closed;
    assert.match(String(closedWith?.message), /missed 2 heartbeats in a row/);
  });

  test('a link whose heartbeats are answered stays open', async () => {
    let closed = false;
    const link = memoryLink(
      'origin',
      () => answers.supported(),
      { ...LINK, version: 4, heartbeatIntervalMs: 20, heartbeatMisses: 1, requestTimeoutMs: 50 },
      { onEvent: () => undefined, onDrain: () => undefined, onClose: () => (closed = true) },
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(closed, false);
    link.close();
  });
});

function baseLimits() {
  return {
    maxFrameBytes: 16 * 1024 * 1024,
    preAuthFrameBytes: 256 * 1024,
    handshakeTimeoutMs: 0,
    idleTimeoutMs: 0,
    maxInFlight: 1024,
  };
}

async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** Makes the session's socket throw on write, as a destroyed native handle might. */
function breakWrites(session: ClientSession): void {
  const stream = (session as unknown as { stream: Duplex }).stream;
  stream.write = () => {
    throw new Error('injected write failure');
  };
}

async function faultCount(metrics: ProxyMetrics): Promise<number> {
  const found = (await metrics.registry.getMetricsAsJSON()).find(
    (m) => m.name === 'zdm_proxy_session_faults_total',
  );
  return (found?.values ?? []).reduce((sum, v) => sum + v.value, 0);
}

describe('a cluster that restarts under a session', () => {
  test('Target forgets its prepared statements: UNPREPARED, re-PREPARE, and EXECUTE works again', async () => {
    const originId = Buffer.from('0a0a', 'hex');
    const targetId = Buffer.from('0b0b', 'hex');
    const known = new Set<string>();
    const target = node((r) => {
      if (r.header.opcode === Opcode.PREPARE) {
        known.add(targetId.toString('hex'));
        return answers.prepared(targetId);
      }
      if (r.header.opcode === Opcode.EXECUTE && !known.has(r.body.subarray(2, 4).toString('hex')))
        return answers.error({
          kind: 'unprepared',
          code: ErrorCode.UNPREPARED,
          message: 'not found',
          id: targetId,
        });
      return answers.void();
    });
    const origin = node((r) =>
      r.header.opcode === Opcode.PREPARE ? answers.prepared(originId) : answers.void(),
    );
    const links: { cluster: ClusterName; close(): void }[] = [];
    const inner = memoryConnector((cluster) => (cluster === 'origin' ? origin.script : target.script), LINK);
    const c = open({
      context: {
        connect: async (cluster, version, hooks) => {
          const link = await inner(cluster, version, hooks);
          links.push(link);
          return link;
        },
      },
    });
    await c.ready();
    c.send(1, Opcode.PREPARE, prepare('INSERT INTO ks.t (k) VALUES (?)'));
    assert.equal((await c.answer(1)).header.opcode, Opcode.RESULT);
    c.send(2, Opcode.EXECUTE, execute(originId));
    assert.equal((await c.answer(2)).header.opcode, Opcode.RESULT);
    // Target restarts: its connection drops and its prepared statements are gone.
    known.clear();
    links.find((l) => l.cluster === 'target')!.close();
    await until(() => links.filter((l) => l.cluster === 'target').length === 2);
    await new Promise((resolve) => setTimeout(resolve, 50));
    c.send(3, Opcode.EXECUTE, execute(originId));
    const error = errorOf(await c.answer(3));
    assert.equal(error.code, ErrorCode.UNPREPARED);
    c.send(4, Opcode.PREPARE, prepare('INSERT INTO ks.t (k) VALUES (?)'));
    assert.equal((await c.answer(4)).header.opcode, Opcode.RESULT);
    c.send(5, Opcode.EXECUTE, execute(originId));
    assert.equal((await c.answer(5)).header.opcode, Opcode.RESULT);
    c.session.close();
  });
});

describe('metrics of the request path', () => {
  test('a write Target refuses: failed on target, per table and per node cause; async reads are timed', {
    timeout: 10_000,
  }, async () => {
    const target = node((r, text) =>
      r.header.opcode === Opcode.QUERY && text?.startsWith('INSERT')
        ? answers.error(simpleError(ErrorCode.INVALID, 'unconfigured table audit'))
        : answers.void(),
    );
    const c = open({ target: target.script, context: { dualReads: true } });
    await c.ready();
    c.send(1, Opcode.QUERY, query('INSERT INTO app.audit (k) VALUES (1)'));
    assert.match(errorOf(await c.answer(1)).message, /unconfigured table audit/);
    c.send(2, Opcode.QUERY, query('SELECT v FROM app.audit WHERE k = 1'));
    assert.equal((await c.answer(2)).header.opcode, Opcode.RESULT);
    const targetNode = { node: 'memory-target' };
    assert.equal(
      await metric(c.metrics, 'zdm_proxy_failed_writes_by_table_total', {
        keyspace: 'app',
        table: 'audit',
        failed_on: 'target',
      }),
      1,
    );
    assert.equal(
      await metric(c.metrics, 'zdm_target_requests_failed_total', { ...targetNode, error: 'other' }),
      1,
    );
    // The async copy's answer arrives after the client's: wait for it to be timed.
    const timed =
      'zdm_async_request_duration_seconds_count{cluster="target",node="memory-target",type="reads"} 1';
    while (!(await c.metrics.registry.metrics()).includes(timed))
      await new Promise((resolve) => setTimeout(resolve, 5));
    c.session.close();
  });
});

describe('a session with compressed frames (LZ4 or Snappy agreed in STARTUP)', () => {
  const loaded = loadCompression();
  for (const compression of loaded.bodies) {
    const name = compression.algorithm;
    /** A session that agreed on `name`, and its two recording nodes. */
    async function compressedSession(limits?: Partial<SessionContext['limits']>) {
      const origin = voidNode();
      const target = voidNode();
      const c = open({
        origin: origin.script,
        target: target.script,
        context: {
          protocol: { versions: [4], compressions: loaded.bodies, lz4Block: loaded.lz4Block },
          ...(limits === undefined ? {} : { limits: { ...baseLimits(), ...limits } }),
        },
      });
      const options = new Map([
        ['CQL_VERSION', '3.0.0'],
        ['COMPRESSION', name],
      ]);
      c.send(0, Opcode.STARTUP, encodeStartup({ options }));
      const ready = await c.answer(0);
      assert.equal(ready.header.opcode, Opcode.READY);
      assert.equal(ready.header.flags & FrameFlag.COMPRESSION, 0, 'READY itself is not compressed');
      const sendCompressed = (stream: number, body: Buffer) =>
        c.client.write(
          encodeFrame(
            {
              version: 4,
              isResponse: false,
              flags: FrameFlag.COMPRESSION,
              streamId: stream,
              opcode: Opcode.QUERY,
            },
            body,
          ),
        );
      return { c, origin, target, sendCompressed };
    }

    test(`${name}: requests are decompressed for the clusters, answers compressed, many in one write`, async () => {
      const { c, origin, target, sendCompressed } = await compressedSession();
      const statements = Array.from(
        { length: 20 },
        (_, i) => `INSERT INTO ks.t (k, v) VALUES (${i}, '${'v'.repeat(i * 50)}')`,
      );
      // All in one write: their answers leave in the same tick, through one batch.
      c.client.write(
        Buffer.concat(
          statements.map((text, i) =>
            encodeFrame(
              {
                version: 4,
                isResponse: false,
                flags: FrameFlag.COMPRESSION,
                streamId: i + 1,
                opcode: Opcode.QUERY,
              },
              compression.compress(query(text)),
            ),
          ),
        ),
      );
      for (const i of statements.keys()) {
        const frame = await c.answer(i + 1);
        assert.equal(
          frame.header.flags & FrameFlag.COMPRESSION,
          FrameFlag.COMPRESSION,
          `answer ${i + 1} compressed`,
        );
        const body = compression.decompress(frame.body, 1 << 20);
        assert.equal(frame.header.opcode, Opcode.RESULT);
        assert.equal(body.readInt32BE(0), 1, 'a VOID result'); // RESULT kind 0x0001 (spec v4 §4.2.5.1)
      }
      assert.deepEqual(
        origin.received.map((r) => r.text),
        statements,
      );
      assert.deepEqual(
        target.received.map((r) => r.text),
        statements,
      );
      sendCompressed(99, compression.compress(query('SELECT * FROM ks.t')));
      assert.equal((await c.answer(99)).header.flags & FrameFlag.COMPRESSION, FrameFlag.COMPRESSION);
      c.session.close();
    });

    test(`${name}: a corrupt body gets a protocol error that names it, reaches no cluster, and closes the connection`, async () => {
      const { c, origin, target, sendCompressed } = await compressedSession();
      const valid = compression.compress(query(`INSERT INTO ks.t (k, v) VALUES (1, '${'x'.repeat(200)}')`));
      const corrupt = Buffer.from(valid);
      corrupt.fill(0xff, corrupt.length - 8); // the last bytes of the block, past the length it announces
      sendCompressed(5, corrupt);
      const frame = await c.answer(5);
      const error = decodeError(compression.decompress(frame.body, 1 << 20), 4);
      assert.equal(error.code, ErrorCode.PROTOCOL_ERROR);
      assert.match(error.message, new RegExp(`malformed request: .*${name}`));
      await c.closed();
      assert.deepEqual(origin.received, []);
      assert.deepEqual(target.received, []);
    });

    test(`${name}: a body that decompresses past the frame limit is refused before it is decompressed`, async () => {
      const { c, origin, sendCompressed } = await compressedSession({ maxFrameBytes: 4096 });
      // 8 KiB of one byte compresses to a few dozen bytes: small on the wire, too large once decompressed.
      sendCompressed(
        6,
        compression.compress(query(`INSERT INTO ks.t (k, v) VALUES (1, '${'a'.repeat(8192)}')`)),
      );
      const frame = await c.answer(6);
      const error = decodeError(compression.decompress(frame.body, 1 << 20), 4);
      assert.equal(error.code, ErrorCode.PROTOCOL_ERROR);
      assert.match(error.message, /ZDM_PROXY_MAX_FRAME_SIZE_BYTES applies to the decompressed body/);
      await c.closed();
      assert.deepEqual(origin.received, []);
    });
  }
});
