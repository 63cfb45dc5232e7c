import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import net, { type AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type cassandra from 'cassandra-driver';
import {
  BatchType,
  Consistency,
  decodeError,
  ErrorCode,
  encodeBatch,
  encodeExecute,
  encodeFrame,
  encodeHeader,
  encodePrepare,
  encodeQuery,
  encodeRegister,
  encodeStartup,
  Framer,
  Opcode,
  queryParameters,
  type RawFrame,
} from '../../src/proxy/codec/index.js';
import type { RunningProxy } from '../../src/proxy/start-proxy.js';
import { seededRandom } from '../../src/ranges/token-ring.js';
import type { SharedClusters } from '../helpers/clusters.js';
import { plainClusterPair } from '../helpers/keyspace.js';
import { processTreeMemory, proxyClient, testProxy } from './proxy-support.js';

/**
 * A hostile-client fuzzer against the real `zdm-proxy start` (a child process, so a crash shows as
 * an exit with its stack on stderr) in front of the real clusters: random bytes, bit-flipped and
 * truncated valid frames, huge length fields, unknown opcodes, reused stream ids and half-open
 * sockets, before and after the handshake. A Node driver session writes and reads through the
 * same proxy all along; the proxy must never exit and the session must never fail.
 *
 * Bounded: FUZZ_FRAMES frames or FUZZ_MS, whichever comes first. The seed is printed; set
 * ZDM_FUZZ_SEED to replay a run.
 */
const KS = 'proxy_fuzz_it';
const FUZZ_FRAMES = 100_000;
const FUZZ_MS = 50_000;
const WORKERS = 12;
const SEED = Number(process.env.ZDM_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

let clusters: SharedClusters;
let origin: cassandra.Client;
let target: cassandra.Client;
let proxy: ProxyProcess;

before(async () => {
  ({ clusters, origin, target } = await plainClusterPair(KS, [
    `CREATE TABLE ${KS}.kv (k int PRIMARY KEY, v text)`,
    // What the fuzzer's own (mutated) writes may land in, apart from the driver session's rows.
    `CREATE TABLE ${KS}.junk (k int PRIMARY KEY, v text)`,
  ]));
  proxy = await startProxyProcess(clusters);
});

after(async () => {
  await proxy?.stop();
  await origin?.shutdown();
  await target?.shutdown();
});

// ---- the proxy as a child process --------------------------------------------------------------

interface ProxyProcess {
  readonly port: number;
  readonly child: ChildProcess;
  /** stderr so far (the proxy logs at warn: errors and crashes only). */
  log(): string;
  rssMb(): number;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startProxyProcess(
  endpoints: SharedClusters,
  env: Record<string, string> = {},
): Promise<ProxyProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/zdm-proxy.ts', 'start'], {
    env: {
      ...process.env,
      ZDM_ORIGIN_CONTACT_POINTS: endpoints.origin.contactPoints.join(','),
      ZDM_ORIGIN_PORT: String(endpoints.origin.port),
      ZDM_TARGET_CONTACT_POINTS: endpoints.target.contactPoints.join(','),
      ZDM_TARGET_PORT: String(endpoints.target.port),
      ZDM_PROXY_LISTEN_ADDRESS: '127.0.0.1',
      ZDM_PROXY_LISTEN_PORT: String(port),
      ZDM_METRICS_ENABLED: 'false',
      ZDM_LOG_LEVEL: 'WARN',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Ready when it answers OPTIONS (a condition, not a sleep); it connects to both clusters first.
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`zdm-proxy exited with ${child.exitCode}:\n${stderr}`);
    const answer = await optionsAnswer(port).catch(() => null);
    if (answer?.header.opcode === Opcode.SUPPORTED) break;
    if (Date.now() > deadline) throw new Error(`zdm-proxy did not start:\n${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return {
    port,
    child,
    log: () => stderr,
    // With worker processes (ZDM_PROXY_WORKERS), the proxy is the process and its workers.
    rssMb: () => processTreeMemory(child.pid!).rss,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        await exited;
        clearTimeout(killer);
      }
    },
  };
}

// ---- raw connections ---------------------------------------------------------------------------

/** A raw client socket that collects the frames the proxy answers with. */
class RawClient {
  readonly frames: RawFrame[] = [];
  readonly closed: Promise<void>;
  readonly #framer = new Framer({ supportedVersions: [3, 4, 5] });
  #waiters: (() => void)[] = [];

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.frames.push(...this.#framer.push(chunk).frames);
      for (const wake of this.#waiters.splice(0)) wake();
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        for (const wake of this.#waiters.splice(0)) wake();
        resolve();
      }),
    );
  }

  static async open(port: number): Promise<RawClient> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.setNoDelay(true);
    return new RawClient(socket);
  }

  get isClosed(): boolean {
    return this.socket.destroyed || this.socket.readableEnded;
  }

  /** The first answer on `streamId`, or null when the connection closes or `ms` pass first. */
  async answer(streamId: number, ms: number): Promise<RawFrame | null> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.frames.find((f) => f.header.streamId === streamId);
      if (found !== undefined) return found;
      const left = deadline - Date.now();
      if (this.isClosed || left <= 0) return null;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits until the proxy closes the connection; false if it is still open after `ms`. */
  async closedWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const closed = await Promise.race([
      this.closed.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), ms);
      }),
    ]);
    clearTimeout(timer);
    return closed;
  }

  send(bytes: Buffer): boolean {
    if (this.socket.destroyed || this.socket.writableEnded) return false;
    this.socket.write(bytes);
    return true;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

async function optionsAnswer(port: number): Promise<RawFrame | null> {
  const client = await RawClient.open(port);
  try {
    client.send(request(4, 1, Opcode.OPTIONS, Buffer.alloc(0)));
    return await client.answer(1, 5000);
  } finally {
    client.destroy();
  }
}

const request = (version: number, streamId: number, opcode: number, body: Buffer, flags = 0) =>
  encodeFrame({ version, isResponse: false, flags, streamId, opcode }, body);

const STARTUP_BODY = encodeStartup({ options: new Map([['CQL_VERSION', '3.0.0']]) });

/** A connection past the handshake (the test clusters have no authentication); null if refused. */
async function readyClient(port: number): Promise<RawClient | null> {
  const client = await RawClient.open(port);
  client.send(request(4, 0, Opcode.STARTUP, STARTUP_BODY));
  const answer = await client.answer(0, 20_000);
  if (answer?.header.opcode === Opcode.READY) return client;
  client.destroy();
  return null;
}

// ---- the fuzzer's inputs -----------------------------------------------------------------------

class Inputs {
  readonly #random: () => number;

  constructor(seed: number) {
    this.#random = seededRandom(seed);
  }

  int(max: number): number {
    return Math.floor(this.#random() * max);
  }

  chance(p: number): boolean {
    return this.#random() < p;
  }

  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** A well-formed request the proxy would forward or answer. */
  validRequest(streamId: number): Buffer {
    const params = queryParameters(Consistency.ONE);
    const k = this.int(1000);
    switch (this.int(7)) {
      case 0:
        return request(
          4,
          streamId,
          Opcode.QUERY,
          encodeQuery({ query: `SELECT v FROM ${KS}.junk WHERE k = ${k}`, params }, 4),
        );
      case 1:
        return request(
          4,
          streamId,
          Opcode.QUERY,
          encodeQuery({ query: `INSERT INTO ${KS}.junk (k, v) VALUES (${k}, 'fuzz')`, params }, 4),
        );
      case 2:
        return request(
          4,
          streamId,
          Opcode.PREPARE,
          encodePrepare({ query: `SELECT v FROM ${KS}.junk WHERE k = ?`, keyspace: null }, 4),
        );
      case 3:
        return request(
          4,
          streamId,
          Opcode.EXECUTE,
          encodeExecute({ id: this.bytes(16), resultMetadataId: null, params }, 4),
        );
      case 4:
        return request(
          4,
          streamId,
          Opcode.BATCH,
          encodeBatch(
            {
              type: BatchType.UNLOGGED,
              children: [
                { kind: 'query', query: `INSERT INTO ${KS}.junk (k, v) VALUES (${k}, 'b')`, values: [] },
              ],
              consistency: Consistency.ONE,
              serialConsistency: null,
              defaultTimestamp: null,
              keyspace: null,
              nowInSeconds: null,
            },
            4,
          ),
        );
      case 5:
        return request(4, streamId, Opcode.REGISTER, encodeRegister({ eventTypes: ['SCHEMA_CHANGE'] }));
      default:
        return request(4, streamId, Opcode.OPTIONS, Buffer.alloc(0));
    }
  }

  /** One hostile frame: a mutation of a valid one, or something no client should send. */
  hostileFrame(streamId: number): Buffer {
    switch (this.int(7)) {
      case 0: {
        // Bit flips anywhere (header included).
        const frame = Buffer.from(this.validRequest(streamId));
        for (let flips = 1 + this.int(3); flips > 0; flips--) {
          const at = this.int(frame.length);
          frame[at] = frame[at]! ^ (1 << this.int(8));
        }
        return frame;
      }
      case 1:
        // An unknown or server-only opcode.
        return request(
          4,
          streamId,
          this.pick([0x00, 0x02, 0x04, 0x06, 0x08, 0x0c, 0x10, 0x11, 0x40, 0xff]),
          this.bytes(this.int(64)),
        );
      case 2:
        // A response frame from a client.
        return encodeFrame(
          { version: 4, isResponse: true, flags: 0, streamId, opcode: Opcode.RESULT },
          this.bytes(this.int(32)),
        );
      case 3:
        // Header flags the proxy never negotiated (compression, tracing, beta, custom payload).
        return request(
          4,
          streamId,
          Opcode.QUERY,
          this.bytes(this.int(64)),
          this.pick([0x01, 0x02, 0x04, 0x10, 0xff]),
        );
      case 4:
        // A well-formed body of random bytes.
        return request(
          4,
          streamId,
          this.pick([Opcode.QUERY, Opcode.EXECUTE, Opcode.BATCH, Opcode.PREPARE]),
          this.bytes(this.int(128)),
        );
      case 5: {
        // A readable statement followed by malformed parameters: routed, forwarded, then refused.
        const query = encodeQuery(
          {
            query: `SELECT v FROM ${KS}.junk WHERE k = ${this.int(1000)}`,
            params: queryParameters(Consistency.ONE),
          },
          4,
        );
        const text = 4 + query.readInt32BE(0);
        return request(
          4,
          streamId,
          Opcode.QUERY,
          Buffer.concat([query.subarray(0, text), this.bytes(this.int(12))]),
        );
      }
      default:
        return this.validRequest(streamId);
    }
  }

  /** A frame that ends the stream's framing: truncated, huge or negative length, bad version. */
  lastFrame(streamId: number): Buffer {
    switch (this.int(4)) {
      case 0: {
        const frame = this.validRequest(streamId);
        return frame.subarray(0, this.int(frame.length));
      }
      case 1:
        return Buffer.concat([
          encodeHeader({
            version: 4,
            isResponse: false,
            flags: 0,
            streamId,
            opcode: Opcode.QUERY,
            length: this.pick([250_000_000, 256 * 1024 * 1024, 17 * 1024 * 1024, 300 * 1024]),
          }),
          this.bytes(this.int(4096)),
        ]);
      case 2: {
        const header = encodeHeader({
          version: 4,
          isResponse: false,
          flags: 0,
          streamId,
          opcode: Opcode.QUERY,
          length: 0,
        });
        header.writeInt32BE(this.pick([-1, -(2 ** 31), 0x7fffffff]), 5);
        return header;
      }
      default:
        return Buffer.concat([
          Buffer.from([this.pick([0x01, 0x02, 0x05, 0x06, 0x42, 0x7f])]),
          this.bytes(this.int(32)),
        ]);
    }
  }
}

// ---- scenarios ---------------------------------------------------------------------------------

interface FuzzStats {
  frames: number;
  connections: number;
  afterHandshake: number;
}

/** Sends `count` hostile frames (some with one reused stream id) and maybe a stream-ending one. */
function burst(client: RawClient, inputs: Inputs, count: number, stats: FuzzStats): void {
  const reused = inputs.int(0x8000);
  const frames: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const streamId = inputs.chance(0.3) ? reused : inputs.int(0x8000);
    frames.push(inputs.hostileFrame(streamId));
  }
  if (inputs.chance(0.3)) frames.push(inputs.lastFrame(inputs.int(0x8000)));
  // Sometimes one write, sometimes frame by frame, sometimes cut at random places.
  if (inputs.chance(0.5)) {
    client.send(Buffer.concat(frames));
  } else {
    for (const frame of frames) client.send(frame);
  }
  stats.frames += frames.length;
}

/** Ends a fuzz connection one of the ways a client can: close, half-close, or vanish. */
async function finish(client: RawClient, inputs: Inputs): Promise<void> {
  switch (inputs.int(4)) {
    case 0:
      client.destroy();
      return;
    case 1:
      // Half-open: this side stops sending but keeps the socket.
      client.socket.end();
      await client.closedWithin(1000);
      client.destroy();
      return;
    case 2:
      // Stops reading: the proxy's answers back up in the socket.
      client.socket.pause();
      await client.closedWithin(500);
      client.destroy();
      return;
    default:
      await client.closedWithin(300);
      client.destroy();
  }
}

async function scenario(
  port: number,
  inputs: Inputs,
  stats: FuzzStats,
  afterHandshake = false,
): Promise<void> {
  stats.connections++;
  const kind = afterHandshake ? 6 : inputs.int(10);
  if (kind < 2) {
    // Random bytes as the very first thing on a connection.
    const client = await RawClient.open(port);
    const first = inputs.bytes(1 + inputs.int(512));
    if (inputs.chance(0.5)) first[0] = 4;
    client.send(first);
    stats.frames++;
    return finish(client, inputs);
  }
  if (kind < 6) {
    // Before the handshake: garbage, bit flips, requests that need a session.
    const client = await RawClient.open(port);
    burst(client, inputs, 1 + inputs.int(400), stats);
    return finish(client, inputs);
  }
  if (kind < 9) {
    // STARTUP, then garbage.
    const client = await readyClient(port);
    if (client === null) return;
    stats.afterHandshake++;
    stats.frames++;
    burst(client, inputs, 1 + inputs.int(300), stats);
    return finish(client, inputs);
  }
  // Half-open sockets: connect and say nothing, or send half a STARTUP.
  const client = await RawClient.open(port);
  if (inputs.chance(0.5)) client.send(request(4, 0, Opcode.STARTUP, STARTUP_BODY).subarray(0, 12));
  stats.frames++;
  client.socket.end();
  await client.closedWithin(200);
  client.destroy();
}

// ---- the tests ---------------------------------------------------------------------------------

/** A driver session's steady load: every acknowledged write is read back through the proxy. */
function driverLoad(client: cassandra.Client, base: number) {
  const acknowledged: number[] = [];
  const failures: string[] = [];
  let running = true;
  const done = (async () => {
    for (let k = base; running; k++) {
      try {
        await client.execute(`INSERT INTO ${KS}.kv (k, v) VALUES (?, ?)`, [k, `v${k}`], { prepare: true });
        acknowledged.push(k);
        const row = (
          await client.execute(`SELECT v FROM ${KS}.kv WHERE k = ?`, [k], { prepare: true })
        ).first();
        if (row?.get('v') !== `v${k}`) failures.push(`row ${k} read back as ${row?.get('v')}`);
      } catch (error) {
        failures.push(`${k}: ${(error as Error).message}`);
      }
    }
  })();
  return {
    acknowledged,
    failures,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

async function onBothClusters(keys: readonly number[]): Promise<void> {
  for (const [name, direct] of [
    ['origin', origin],
    ['target', target],
  ] as const) {
    const rows = (await direct.execute(`SELECT k FROM ${KS}.kv`)).rows.map((r) => r.get('k') as number);
    const present = new Set(rows);
    const missing = keys.filter((k) => !present.has(k));
    assert.deepEqual(missing, [], `acknowledged writes missing on ${name}`);
  }
}

function assertAlive(p: ProxyProcess): void {
  assert.equal(p.child.exitCode, null, `the proxy exited (${p.child.exitCode}):\n${p.log().slice(-4000)}`);
  assert.equal(p.child.signalCode, null, `the proxy was killed by ${p.child.signalCode}`);
}

describe('fuzzing the proxy', () => {
  test(`${FUZZ_FRAMES} hostile frames; a driver session works during and after (seed ${SEED})`, async (t) => {
    t.diagnostic(`seed ${SEED} (replay with ZDM_FUZZ_SEED=${SEED})`);
    const session = await proxyClient({ port: proxy.port });
    const rssBefore = proxy.rssMb();
    const load = driverLoad(session, 0);
    const stats: FuzzStats = { frames: 0, connections: 0, afterHandshake: 0 };
    const started = Date.now();
    const exitedDuringFuzz = new Promise<string>((resolve) =>
      proxy.child.once('exit', (code, signal) => resolve(`exit ${code} ${signal}`)),
    );
    let peakRss = rssBefore;
    const worker = async (index: number) => {
      const inputs = new Inputs(SEED + index);
      while (stats.frames < FUZZ_FRAMES && Date.now() - started < FUZZ_MS && proxy.child.exitCode === null) {
        await scenario(proxy.port, inputs, stats).catch(() => undefined); // refused or reset: the next one
        peakRss = Math.max(peakRss, proxy.rssMb());
      }
    };
    const fuzzing = Promise.all(Array.from({ length: WORKERS }, (_, i) => worker(i)));
    const outcome = await Promise.race([fuzzing.then(() => 'done'), exitedDuringFuzz]);
    const elapsed = Date.now() - started;
    t.diagnostic(
      `${stats.frames} frames on ${stats.connections} connections (${stats.afterHandshake} after the handshake) in ${elapsed} ms; ` +
        `proxy RSS ${rssBefore.toFixed(0)} MB before, peak ${peakRss.toFixed(0)} MB`,
    );
    assert.equal(outcome, 'done', `the proxy exited during the fuzz:\n${proxy.log().slice(-4000)}`);
    assertAlive(proxy);
    assert.ok(stats.frames >= FUZZ_FRAMES || elapsed >= FUZZ_MS, 'the fuzz ran to its bound');

    // After: the same session and a new one still work, and every acknowledged write is on both clusters.
    const during = load.acknowledged.length;
    await load.stop();
    assert.deepEqual(load.failures, [], 'the driver session failed during the fuzz');
    assert.ok(during > 10, `the driver session made progress during the fuzz (${during} writes)`);
    const fresh = await proxyClient({ port: proxy.port });
    try {
      const after = driverLoad(fresh, 1_000_000);
      while (after.acknowledged.length < 20 && after.failures.length === 0)
        await new Promise((r) => setImmediate(r));
      await after.stop();
      assert.deepEqual(after.failures, []);
      await onBothClusters([...load.acknowledged, ...after.acknowledged]);
    } finally {
      await fresh.shutdown();
      await session.shutdown();
    }
    assertAlive(proxy);
    const crashes = proxy
      .log()
      .split('\n')
      .filter((line) => /"level":(50|60)|Uncaught|FATAL/.test(line));
    t.diagnostic(
      `proxy error lines: ${crashes.length}${crashes.length > 0 ? `\n${crashes.slice(0, 5).join('\n')}` : ''}`,
    );
  });
});

describe('fuzzing the request timeout path', () => {
  test('with a 1 ms request timeout every forwarded request times out; hostile ones must not end the process', async (t) => {
    // A tiny proxy timeout (not a database one) makes the timeout path run for every request.
    const fast = await startProxyProcess(clusters, { ZDM_PROXY_REQUEST_TIMEOUT_MS: '1' });
    try {
      const stats: FuzzStats = { frames: 0, connections: 0, afterHandshake: 0 };
      const started = Date.now();
      const worker = async (index: number) => {
        const inputs = new Inputs(SEED + 1000 + index);
        while (stats.frames < 20_000 && Date.now() - started < 20_000 && fast.child.exitCode === null) {
          await scenario(fast.port, inputs, stats, true).catch(() => undefined);
        }
      };
      await Promise.all(Array.from({ length: 4 }, (_, i) => worker(i)));
      t.diagnostic(
        `${stats.frames} frames on ${stats.afterHandshake} sessions in ${Date.now() - started} ms`,
      );
      assertAlive(fast);
      assert.equal((await optionsAnswer(fast.port))?.header.opcode, Opcode.SUPPORTED);
    } finally {
      await fast.stop();
    }
  });
});

describe('oversized frames', () => {
  for (const phase of ['before', 'after'] as const) {
    test(`a 250 MB length field ${phase} the handshake: a clear PROTOCOL_ERROR, the connection closed, no body buffered`, async () => {
      const client = phase === 'before' ? await RawClient.open(proxy.port) : await readyClient(proxy.port);
      assert.ok(client !== null);
      const rssBefore = proxy.rssMb();
      const opcode = phase === 'before' ? Opcode.STARTUP : Opcode.QUERY;
      client.send(
        encodeHeader({ version: 4, isResponse: false, flags: 0, streamId: 5, opcode, length: 250_000_000 }),
      );
      // Part of the body: 64 MB, in 1 MB writes, as long as the proxy keeps the connection open.
      const chunk = Buffer.alloc(1024 * 1024, 0x41);
      for (let i = 0; i < 64 && !client.isClosed; i++) {
        client.send(chunk);
        if (client.socket.writableNeedDrain)
          await Promise.race([new Promise((r) => client.socket.once('drain', r)), client.closed]);
      }
      const answer = await client.answer(5, 20_000);
      assert.ok(answer !== null, 'an answer on the frame stream');
      const error = decodeError(answer.body, 4);
      assert.equal(error.code, ErrorCode.PROTOCOL_ERROR);
      assert.match(error.message, /250000000 bytes exceeds the limit of \d+ bytes \(ZDM_PROXY_\w+\)/);
      assert.ok(await client.closedWithin(10_000), 'the proxy closes the connection');
      const growth = proxy.rssMb() - rssBefore;
      assert.ok(growth < 32, `the proxy's RSS grew by ${growth.toFixed(0)} MB`);
      assertAlive(proxy);
    });
  }
});

describe('the connection limit', () => {
  let limited: RunningProxy;
  before(async () => {
    limited = await testProxy(clusters, { ZDM_PROXY_MAX_CLIENT_CONNECTIONS: '3' });
  });
  after(async () => {
    await limited?.close();
  });

  test('over the limit: a clear OVERLOADED error naming the setting; a freed slot is reused', async () => {
    const held = await Promise.all([0, 1, 2].map(() => RawClient.open(limited.port)));
    try {
      for (const client of held) {
        client.send(request(4, 1, Opcode.OPTIONS, Buffer.alloc(0)));
        assert.equal((await client.answer(1, 10_000))?.header.opcode, Opcode.SUPPORTED);
      }
      const refused = await RawClient.open(limited.port);
      refused.send(request(4, 9, Opcode.STARTUP, STARTUP_BODY));
      const answer = await refused.answer(9, 10_000);
      assert.equal(answer?.header.opcode, Opcode.ERROR);
      const error = decodeError(answer.body, 4);
      assert.equal(error.code, ErrorCode.OVERLOADED);
      assert.match(
        error.message,
        /too many client connections \(the limit is 3, set by ZDM_PROXY_MAX_CLIENT_CONNECTIONS\)/,
      );
      assert.ok(await refused.closedWithin(10_000), 'the refused connection is closed');

      // The driver reports the proxy's reason.
      await assert.rejects(proxyClient(limited), /too many client connections/);

      // One held connection closes: its slot is free again (retried until the proxy has seen the close).
      held.pop()!.destroy();
      const deadline = Date.now() + 20_000;
      let opcode: number | undefined;
      while (Date.now() < deadline) {
        opcode = (await optionsAnswer(limited.port))?.header.opcode;
        if (opcode === Opcode.SUPPORTED) break;
      }
      assert.equal(opcode, Opcode.SUPPORTED, 'a new connection is served once one has closed');
    } finally {
      for (const client of held) client.destroy();
    }
  });
});
