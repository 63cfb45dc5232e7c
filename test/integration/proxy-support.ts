/**
 * Helpers of the proxy integration tests (not a test file itself): start a proxy in-process on an
 * ephemeral port in front of two test clusters, and connect a driver through it.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import cassandra from 'cassandra-driver';
import { CLUSTER_SETTINGS } from '../../src/config/cluster-settings.js';
import { resolveSettings } from '../../src/config/resolve.js';
import { createLogger } from '../../src/log/logger.js';
import {
  Consistency,
  encodeFrame,
  encodeQuery,
  encodeStartup,
  Framer,
  Opcode,
  queryParameters,
  type RawFrame,
} from '../../src/proxy/codec/index.js';
import { PROXY_SETTINGS, proxyConfig } from '../../src/proxy/proxy-settings.js';
import { type RunningProxy, startProxy } from '../../src/proxy/start-proxy.js';
import { type ClusterEndpoint, cqlClient } from '../helpers/clusters.js';
import { freshKeyspace } from '../helpers/keyspace.js';

export interface ProxyEndpoints {
  readonly origin: ClusterEndpoint;
  readonly target: ClusterEndpoint;
}

/** A proxy in front of `clusters`; `env` takes ZDM_* overrides exactly as the CLI would. */
export async function testProxy(
  clusters: ProxyEndpoints,
  env: Record<string, string> = {},
): Promise<RunningProxy> {
  const values = resolveSettings(
    { ...PROXY_SETTINGS, ...CLUSTER_SETTINGS },
    {
      env: {
        ZDM_ORIGIN_CONTACT_POINTS: clusters.origin.contactPoints.join(','),
        ZDM_ORIGIN_PORT: String(clusters.origin.port),
        ZDM_TARGET_CONTACT_POINTS: clusters.target.contactPoints.join(','),
        ZDM_TARGET_PORT: String(clusters.target.port),
        ZDM_PROXY_LISTEN_ADDRESS: '127.0.0.1',
        ZDM_PROXY_LISTEN_PORT: '0',
        ZDM_METRICS_ADDRESS: '127.0.0.1',
        ZDM_METRICS_PORT: '0',
        ...env,
      },
    },
  );
  const logger = createLogger({ level: process.env.ZDM_LOG_LEVEL ?? 'warn', pretty: false });
  return startProxy(proxyConfig(values), logger);
}

export interface DriverOptions {
  readonly credentials?: { readonly username: string; readonly password: string };
  readonly keyspace?: string;
  /** false: the driver sends no client timestamps, so the proxy's default timestamp is what clusters store. */
  readonly clientTimestamps?: boolean;
  readonly host?: string;
}

/** The Node driver, pointed at the proxy only. */
export async function proxyClient(
  proxy: { readonly port: number },
  options: DriverOptions = {},
): Promise<cassandra.Client> {
  const client = new cassandra.Client(<cassandra.ClientOptions>(<unknown>{
    contactPoints: [`${options.host ?? '127.0.0.1'}:${proxy.port}`],
    protocolOptions: { port: proxy.port },
    localDataCenter: 'datacenter1',
    ...(options.keyspace === undefined ? {} : { keyspace: options.keyspace }),
    ...(options.credentials === undefined
      ? {}
      : {
          authProvider: new cassandra.auth.PlainTextAuthProvider(
            options.credentials.username,
            options.credentials.password,
          ),
        }),
    ...(options.clientTimestamps === false ? { policies: { timestampGeneration: null } } : {}),
    socketOptions: { readTimeout: 30000 },
  }));
  try {
    await client.connect();
  } catch (error) {
    await client.shutdown().catch(() => undefined);
    throw error;
  }
  return client;
}

/** `SELECT <column>, writetime(<column>)` of one row, read straight from a cluster. */
export async function cellWithWritetime(
  client: cassandra.Client,
  table: string,
  column: string,
  where: string,
  params: unknown[] = [],
): Promise<{ value: unknown; writetime: string } | null> {
  const row = (
    await client.execute(
      `SELECT ${column} AS v, writetime(${column}) AS wt FROM ${table} WHERE ${where}`,
      params,
      { prepare: true },
    )
  ).first();
  return row === null ? null : { value: row.get('v'), writetime: String(row.get('wt')) };
}

/** A free TCP port on 127.0.0.1 (taken and released at once). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface ProxyProcess {
  readonly pid: number;
  readonly port: number;
  readonly metricsPort: number;
  /** The exit code (null when killed by a signal) once the process has ended. */
  readonly exited: Promise<number | null>;
  /**
   * Resident set size now and at its peak (VmRSS, VmHWM), in MiB: of the process and its worker
   * processes together (ZDM_PROXY_WORKERS), since together they are the proxy.
   */
  memory(): { rss: number; peak: number };
  /** What it logged on stderr so far (also passed through to the test's stderr). */
  log(): string;
  kill(signal?: NodeJS.Signals): void;
}

/** The real `zdm-proxy start` CLI in a process of its own, in front of `clusters`; resolves once it accepts CQL. */
export async function spawnProxy(
  clusters: ProxyEndpoints,
  env: Record<string, string> = {},
): Promise<ProxyProcess> {
  const port = await freePort();
  const metricsPort = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/zdm-proxy.ts', 'start'], {
    env: {
      ...process.env,
      ZDM_ORIGIN_CONTACT_POINTS: clusters.origin.contactPoints.join(','),
      ZDM_ORIGIN_PORT: String(clusters.origin.port),
      ZDM_TARGET_CONTACT_POINTS: clusters.target.contactPoints.join(','),
      ZDM_TARGET_PORT: String(clusters.target.port),
      ZDM_PROXY_LISTEN_ADDRESS: '127.0.0.1',
      ZDM_PROXY_LISTEN_PORT: String(port),
      ZDM_METRICS_ADDRESS: '127.0.0.1',
      ZDM_METRICS_PORT: String(metricsPort),
      ZDM_LOG_LEVEL: process.env.ZDM_LOG_LEVEL ?? 'WARN',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => {
    log += d.toString();
    process.stderr.write(d);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // A helper process the proxy started (tsx's esbuild service) may hold the pipe after the proxy
  // exits: close our end once the last lines are in, or the test process never ends.
  child.once('exit', () => setTimeout(() => child.stderr!.destroy(), 500));
  const pid = child.pid!;
  // Node starts take long on a loaded machine: wait for the port, not a fixed time.
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`zdm-proxy exited with ${child.exitCode} before listening`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('zdm-proxy did not listen within 120 s');
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return {
    pid,
    port,
    metricsPort,
    exited,
    memory: () => processTreeMemory(pid),
    log: () => log,
    kill: (signal = 'SIGTERM') => child.kill(signal),
  };
}

/** VmRSS and VmHWM in MiB of `pid` and the processes it started (a proxy's workers), summed. */
export function processTreeMemory(pid: number): { rss: number; peak: number } {
  let rss = 0;
  let peak = 0;
  for (const member of [pid, ...childPids(pid)]) {
    const status = readFileSync(`/proc/${member}/status`, 'utf8');
    const kib = (field: string) =>
      Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN);
    rss += kib('VmRSS') / 1024;
    peak += kib('VmHWM') / 1024;
  }
  return { rss, peak };
}

/** The processes `pid` started that still run (Linux: /proc/<pid>/task/<tid>/children). */
export function childPids(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((task) =>
      readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8')
        .split(' ')
        .filter((p) => p.trim() !== '')
        .map(Number),
    );
  } catch {
    return [];
  }
}

/**
 * A bare CQL v4 connection for tests that need what drivers do not do: pipeline thousands of
 * requests, never read, or flood. Frames are matched to their answers by stream id.
 */
export class RawCqlConnection {
  readonly #framer = new Framer({ supportedVersions: [4] });
  readonly #answers = new Map<number, RawFrame>();
  #waiters: (() => void)[] = [];
  #ended = false;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.#framer.push(chunk).frames) this.#answers.set(frame.header.streamId, frame);
      for (const wake of this.#waiters.splice(0)) wake();
    });
    const end = () => {
      this.#ended = true;
      for (const wake of this.#waiters.splice(0)) wake();
    };
    socket.on('close', end);
    socket.on('error', end);
  }

  /** Connects and completes STARTUP (no authentication); `read: false` leaves the socket unread afterwards. */
  static async open(port: number, options: { read?: boolean } = {}): Promise<RawCqlConnection> {
    const socket = net.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    const connection = new RawCqlConnection(socket);
    connection.send(0, Opcode.STARTUP, encodeStartup({ options: new Map([['CQL_VERSION', '3.0.0']]) }));
    const ready = await connection.answer(0);
    if (ready.header.opcode !== Opcode.READY)
      throw new Error(`STARTUP answered with opcode ${ready.header.opcode}`);
    if (options.read === false) socket.pause();
    return connection;
  }

  get answered(): number {
    return this.#answers.size;
  }

  get ended(): boolean {
    return this.#ended;
  }

  static frame(stream: number, opcode: number, body: Buffer): Buffer {
    return encodeFrame({ version: 4, isResponse: false, flags: 0, streamId: stream, opcode }, body);
  }

  /** Writes a frame; false when the socket's buffer is full (write returned false). */
  send(stream: number, opcode: number, body: Buffer): boolean {
    return this.socket.write(RawCqlConnection.frame(stream, opcode, body));
  }

  /** The answer on `stream`; waits for it. */
  async answer(stream: number): Promise<RawFrame> {
    for (;;) {
      const frame = this.#answers.get(stream);
      if (frame !== undefined) {
        this.#answers.delete(stream);
        return frame;
      }
      if (this.#ended) throw new Error(`connection ended before stream ${stream} was answered`);
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/** The body of a QUERY at consistency ONE. */
export function queryBody(text: string): Buffer {
  return encodeQuery({ query: text, params: queryParameters(Consistency.ONE) }, 4);
}

/** Direct clients of both clusters, each with a fresh `<keyspace>.kv (k int PRIMARY KEY, v text)`. */
export async function clustersWithKv(
  clusters: ProxyEndpoints,
  keyspace: string,
): Promise<{ origin: cassandra.Client; target: cassandra.Client }> {
  const origin = await cqlClient(clusters.origin);
  const target = await cqlClient(clusters.target);
  for (const direct of [origin, target]) {
    await freshKeyspace(direct, keyspace);
    await direct.execute(`CREATE TABLE ${keyspace}.kv (k int PRIMARY KEY, v text)`);
  }
  return { origin, target };
}

/** The JSON log lines a proxy process wrote so far (ZDM_LOG_FORMAT=json). */
export function proxyLogLines(of: ProxyProcess): Record<string, unknown>[] {
  return of
    .log()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Worker number → pid, from a worker pool's "worker N started (pid P)" lines. */
export function workersStarted(of: ProxyProcess): Map<number, number> {
  const started = new Map<number, number>();
  for (const line of proxyLogLines(of)) {
    if (typeof line.workerPid === 'number' && /^worker \d+ started/.test(String(line.msg)))
      started.set(line.worker as number, line.workerPid);
  }
  return started;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
