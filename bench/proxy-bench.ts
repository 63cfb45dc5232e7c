/**
 * Proxy benchmark. How to run it (clusters first, then the script, from the repository root):
 *
 *   npx zdm cluster start                      # Origin on 127.0.0.2, Target on 127.0.0.3 (port 9042)
 *   npx tsx bench/proxy-bench.ts [seconds] [concurrency] [origin host] [target host] [connections] [workers,...] [rounds] [clients]
 *   npx zdm cluster stop
 *
 * Defaults: 15 s per phase, concurrency 32, 127.0.0.2 / 127.0.0.3, 4 connections per client and
 * host, workers 1,2, 1 round, clients `driver,wire`. A short check: `... bench/proxy-bench.ts 3`.
 *
 * Closed loops (fixed concurrency, fixed duration) of prepared writes and reads, all in one run
 * against the same clusters, once per proxy worker count (ZDM_PROXY_WORKERS). The proxy is the
 * real `zdm-proxy start` CLI in its own process(es). Two clients:
 * - `driver`: the Node driver (it never compresses):
 *     writes  through the proxy   vs  the client writing each row to Origin and Target itself (waits for both)
 *     reads   through the proxy   vs  reads straight from Origin
 * - `wire`: cql-wire-client.ts, protocol v4 with no compression, LZ4 and Snappy (the proxy then
 *   decompresses every request and compresses every answer), with the same two baselines measured
 *   with the same client and the same compression (see that file for why the client is fair).
 * Prints markdown tables: throughput, p50/p99 latencies, the proxy's CPU per request (user +
 * system of the process and its workers, read from /proc around each proxy phase), ratios to each
 * baseline, of N workers to one and of each compression to none; and the proxy's peak RSS.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import cassandra from 'cassandra-driver';
import { freePort } from '../scripts/demo/proxy-process.js';
import type { CompressionAlgorithm } from '../src/proxy/codec/index.js';
import { serialize, WireClient } from './cql-wire-client.js';
import { loadAverage, peakRssMiB, treeCpuSeconds } from './process-cpu.js';

const seconds = Number(process.argv[2] ?? 15);
const concurrency = Number(process.argv[3] ?? 32);
const originHost = process.argv[4] ?? '127.0.0.2';
const targetHost = process.argv[5] ?? '127.0.0.3';
const connections = Number(process.argv[6] ?? 4);
const workerCounts = (process.argv[7] ?? '1,2').split(',').map(Number);
/** Rounds, each measuring every row (baselines, then 1, 2, ... workers): each row is its median round. */
const rounds = Number(process.argv[8] ?? 1);
const clients = new Set((process.argv[9] ?? 'driver,wire').split(','));
const COMPRESSIONS: readonly (CompressionAlgorithm | null)[] = [null, 'lz4', 'snappy'];
/** Free ports, so a run never meets another proxy (another bench, a test) on a fixed one. */
const PORT = await freePort();
const METRICS_PORT = await freePort();
const KEYS = 50_000;
const INSERT = 'INSERT INTO zdm_proxy_bench.kv (k, v, n) VALUES (?, ?, ?)';
const SELECT = 'SELECT k, v, n FROM zdm_proxy_bench.kv WHERE k = ?';

async function client(contactPoint: string, port = 9042): Promise<cassandra.Client> {
  const c = new cassandra.Client({
    contactPoints: [`${contactPoint}:${port}`],
    protocolOptions: { port, maxVersion: 4 },
    localDataCenter: 'datacenter1',
    pooling: { coreConnectionsPerHost: { [cassandra.types.distance.local]: connections } },
  });
  await c.connect();
  return c;
}

async function startProxy(workers: number): Promise<ChildProcess> {
  const proxy = spawn(process.execPath, ['--import', 'tsx', 'src/cli/zdm-proxy.ts', 'start'], {
    env: {
      ...process.env,
      ZDM_ORIGIN_CONTACT_POINTS: originHost,
      ZDM_TARGET_CONTACT_POINTS: targetHost,
      ZDM_PROXY_LISTEN_ADDRESS: '127.0.0.1',
      ZDM_PROXY_LISTEN_PORT: String(PORT),
      ZDM_METRICS_PORT: String(METRICS_PORT),
      ZDM_LOG_LEVEL: 'WARN',
      ZDM_PROXY_WORKERS: String(workers),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let i = 0; i < 120; i++) {
    try {
      await (await client('127.0.0.1', PORT)).shutdown();
      return proxy;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  proxy.kill();
  throw new Error('zdm-proxy did not start');
}

interface PhaseResult {
  readonly name: string;
  readonly ops: number;
  readonly opsPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  /** CPU microseconds of the proxy (all its processes) per request of the phase (proxy phases only). */
  readonly proxyCpuUs?: number;
}

/** `phase`, measuring the proxy process's CPU time around it. */
async function proxyPhase(
  name: string,
  op: (i: number) => Promise<unknown>,
  pid: number,
): Promise<PhaseResult> {
  const before = treeCpuSeconds(pid);
  const result = await phase(name, op);
  const used = treeCpuSeconds(pid) - before;
  return { ...result, proxyCpuUs: (used / Math.max(1, result.ops)) * 1e6 };
}

/** `concurrency` loops, each running `op` back to back for `seconds`; latencies in ms. */
async function phase(
  name: string,
  op: (i: number) => Promise<unknown>,
  durationS = seconds,
): Promise<PhaseResult> {
  const latencies: number[] = [];
  let errors = 0;
  let counter = 0;
  const deadline = performance.now() + durationS * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        try {
          await op(counter++);
          latencies.push(performance.now() - t0);
        } catch {
          errors++;
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  return {
    name,
    ops: latencies.length,
    opsPerSecond: latencies.length / elapsed,
    p50: at(0.5),
    p99: at(0.99),
    errors,
  };
}

/** What a phase runs: one write and one read of key `i`, over one client set-up. */
interface Workload {
  write(i: number): Promise<unknown>;
  read(i: number): Promise<unknown>;
  close(): Promise<void>;
}

const key = (i: number) => (i * 7919) % KEYS;
const driverParams = (i: number) => [cassandra.types.Long.fromNumber(key(i)), `value-${i}`, i];
const wireParams = (i: number) => [
  serialize.bigint(BigInt(key(i))),
  serialize.text(`value-${i}`),
  serialize.int(i),
];

async function driverWorkload(host: string, port?: number): Promise<Workload> {
  const c = await client(host, port);
  return {
    write: (i) => c.execute(INSERT, driverParams(i), { prepare: true }),
    read: (i) => c.execute(SELECT, [driverParams(i)[0]], { prepare: true }),
    close: () => c.shutdown(),
  };
}

async function wireWorkload(
  host: string,
  port: number,
  compression: CompressionAlgorithm | null,
): Promise<Workload> {
  const c = await WireClient.connect(host, port, compression, connections);
  const insert = await c.prepare(INSERT);
  const select = await c.prepare(SELECT);
  return {
    write: (i) => c.execute(insert, wireParams(i)),
    read: (i) => c.execute(select, [wireParams(i)[0]!]),
    close: async () => c.close(),
  };
}

/** A client set-up: the Node driver, or the wire client with one compression. */
interface Setup {
  readonly client: 'driver' | 'wire';
  readonly compression: CompressionAlgorithm | null;
}

const setups: Setup[] = [
  ...(clients.has('driver') ? [{ client: 'driver' as const, compression: null }] : []),
  ...(clients.has('wire')
    ? COMPRESSIONS.map((compression) => ({ client: 'wire' as const, compression }))
    : []),
];
const nameOf = (s: Setup) => `${s.client} ${s.compression ?? 'none'}`;
const open = (s: Setup, host: string, port = 9042) =>
  s.client === 'driver' ? driverWorkload(host, port) : wireWorkload(host, port, s.compression);

/** The baselines of one set-up: the client writing to both clusters itself, and reading from Origin. */
async function baselines(setup: Setup): Promise<{ writes: PhaseResult; reads: PhaseResult }> {
  const [o, t] = await Promise.all([open(setup, originHost), open(setup, targetHost)]);
  try {
    const writeBoth = (i: number) => Promise.all([o.write(i), t.write(i)]);
    await phase('warm-up', writeBoth, 2);
    return {
      writes: await phase('writes: client to both clusters', writeBoth),
      reads: await phase('reads: straight from Origin', o.read),
    };
  } finally {
    await Promise.all([o.close(), t.close()]);
  }
}

const f = (n: number, d = 2) => n.toFixed(d);
const load = loadAverage;
const seeding = await driverWorkload(originHost);
const seedingTarget = await driverWorkload(targetHost);
try {
  const loadBefore = load();
  for (const host of [originHost, targetHost]) {
    const c = await client(host);
    await c.execute(
      "CREATE KEYSPACE IF NOT EXISTS zdm_proxy_bench WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
    );
    await c.execute('CREATE TABLE IF NOT EXISTS zdm_proxy_bench.kv (k bigint PRIMARY KEY, v text, n int)');
    await c.shutdown();
  }
  console.log(`# warm-up and seeding ${KEYS} keys`);
  await phase('warm-up', (i) => Promise.all([seeding.write(i), seedingTarget.write(i)]), 5);
  await phase('warm-up', seeding.read, 2);

  type Measured = { writes: PhaseResult[]; reads: PhaseResult[] };
  const measured = new Map<string, Measured>();
  const record = (at: string, r: { writes: PhaseResult; reads: PhaseResult }) => {
    const m = measured.get(at) ?? { writes: [], reads: [] };
    measured.set(at, m);
    m.writes.push(r.writes);
    m.reads.push(r.reads);
  };
  const peakRss = new Map<number, number>();
  // Each round measures the baselines again: on a shared machine they drift as much as the proxy.
  for (let round = 0; round < rounds; round++) {
    for (const setup of setups) record(`${nameOf(setup)} direct`, await baselines(setup));
    for (const workers of workerCounts) {
      const proxyProcess = await startProxy(workers);
      const pid = proxyProcess.pid!;
      try {
        for (const setup of setups) {
          const viaProxy = await open(setup, '127.0.0.1', PORT);
          try {
            await phase('warm-up', viaProxy.write, 2);
            await phase('warm-up', viaProxy.read, 1);
            const label = `${workers} worker${workers === 1 ? '' : 's'}`;
            record(`${nameOf(setup)} ${workers}`, {
              writes: await proxyPhase(`writes: through the proxy, ${label}`, viaProxy.write, pid),
              reads: await proxyPhase(`reads: through the proxy, ${label}`, viaProxy.read, pid),
            });
          } finally {
            await viaProxy.close();
          }
        }
        peakRss.set(workers, Math.max(peakRss.get(workers) ?? 0, peakRssMiB(pid)));
      } finally {
        proxyProcess.kill('SIGTERM');
        await new Promise((resolve) => proxyProcess.once('exit', resolve));
      }
    }
  }

  const median = (rs: readonly PhaseResult[]) =>
    [...rs].sort((a, b) => a.opsPerSecond - b.opsPerSecond)[Math.floor(rs.length / 2)]!;
  /** The median round of a set-up through the proxy with `workers`, or straight to the clusters. */
  const proxied = (setup: Setup, workers: number | 'direct') => {
    const m = measured.get(`${nameOf(setup)} ${workers}`)!;
    return { writes: median(m.writes), reads: median(m.reads) };
  };
  console.log(
    `\n${seconds} s per phase, concurrency ${concurrency}, ${connections} connections per client and host, protocol v4, median of ${rounds} round(s), each measuring every row; load average ${loadBefore} before, ${load()} after`,
  );
  console.log(
    '| client | compression | phase | ops | ops/s | p50 ms | p99 ms | errors | proxy CPU µs / request |',
  );
  console.log('|---|---|---|---:|---:|---:|---:|---:|---:|');
  const row = (setup: Setup, r: PhaseResult) =>
    console.log(
      `| ${setup.client} | ${setup.compression ?? 'none'} | ${r.name} | ${r.ops} | ${f(r.opsPerSecond, 0)} | ${f(r.p50)} | ${f(r.p99)} | ${r.errors} | ${r.proxyCpuUs === undefined ? '' : f(r.proxyCpuUs, 0)} |`,
    );
  for (const setup of setups) {
    const b = proxied(setup, 'direct');
    row(setup, b.writes);
    row(setup, b.reads);
    for (const workers of workerCounts) {
      const p = proxied(setup, workers);
      row(setup, p.writes);
      row(setup, p.reads);
    }
  }
  for (const [workers, rss] of peakRss) console.log(`proxy peak RSS, ${workers} worker(s): ${f(rss, 1)} MiB`);

  const ratio = (a: PhaseResult, b: PhaseResult | undefined) =>
    b === undefined ? '' : `${f(a.opsPerSecond / b.opsPerSecond)}x`;
  console.log(
    '\nThroughput ratios (same client and compression unless the column says otherwise):\n' +
      '| client | compression | workers | writes / dual-writing client | reads / Origin direct | writes / 1 worker | reads / 1 worker | writes / no compression | reads / no compression |',
  );
  console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const setup of setups)
    for (const workers of workerCounts) {
      const p = proxied(setup, workers);
      const b = proxied(setup, 'direct');
      const one = workers === 1 || !workerCounts.includes(1) ? undefined : proxied(setup, 1);
      const plain =
        setup.compression === null
          ? undefined
          : proxied({ client: setup.client, compression: null }, workers);
      console.log(
        `| ${setup.client} | ${setup.compression ?? 'none'} | ${workers} | ${ratio(p.writes, b.writes)} | ${ratio(p.reads, b.reads)} | ${ratio(p.writes, one?.writes)} | ${ratio(p.reads, one?.reads)} | ${ratio(p.writes, plain?.writes)} | ${ratio(p.reads, plain?.reads)} |`,
      );
    }
} finally {
  await Promise.all([seeding.close(), seedingTarget.close()]);
}
