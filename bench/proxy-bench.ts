/**
 * Proxy benchmark:
 * `npx tsx bench/proxy-bench.ts [seconds] [concurrency] [origin host] [target host] [connections] [workers,...]`.
 *
 * A closed loop with the Node driver (prepared statements, fixed concurrency, fixed duration), all
 * in one run against the same clusters:
 *   writes  through the proxy   vs  the client writing each row to Origin and Target itself (waits for both)
 *   reads   through the proxy   vs  reads straight from Origin
 * once per proxy worker count (ZDM_PROXY_WORKERS; default 1 and 2). The proxy is the real
 * `zdm-proxy start` CLI in its own process(es). Prints throughput, the ratio to each baseline and
 * of N workers to one, p50/p99 latencies, and the proxy's CPU seconds per 100k requests (user +
 * system of the process and its workers, read from /proc around each proxy phase) and peak RSS
 * (VmHWM, summed). Every client holds `connections` connections per host (default 4: a pool of
 * workers only shares load spread over several connections). Defaults: 15 s per phase,
 * concurrency 32, 127.0.0.2 / 127.0.0.3.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import cassandra from 'cassandra-driver';

const seconds = Number(process.argv[2] ?? 15);
const concurrency = Number(process.argv[3] ?? 32);
const originHost = process.argv[4] ?? '127.0.0.2';
const targetHost = process.argv[5] ?? '127.0.0.3';
const connections = Number(process.argv[6] ?? 4);
const workerCounts = (process.argv[7] ?? '1,2').split(',').map(Number);
/** Rounds over the worker counts, interleaved (1, 2, 1, 2, ...): each row is its median round. */
const rounds = Number(process.argv[8] ?? 1);
const PORT = 14702;
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
      ZDM_METRICS_PORT: String(PORT + 1),
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

/** `pid` and the processes it started (the proxy's workers). */
function processTree(pid: number): number[] {
  const children = readdirSync(`/proc/${pid}/task`).flatMap((task) =>
    readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ').filter(Boolean).map(Number),
  );
  return [pid, ...children.flatMap(processTree)];
}

/** CPU seconds (user + system) the process and its children have used so far. */
function treeCpuSeconds(pid: number): number {
  return processTree(pid).reduce((sum, p) => sum + cpuSeconds(p), 0);
}

/** CPU seconds (user + system) the process has used so far: fields 14 and 15 of /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the command name, field 3 is index 0: utime is field 14, stime field 15 (clock ticks, 100/s on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Peak resident set size of the process and its children in MiB (VmHWM, summed). */
function peakRssMiB(pid: number): number {
  return processTree(pid).reduce((sum, p) => {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
    return sum + (match === null ? Number.NaN : Number(match[1]) / 1024);
  }, 0);
}

interface PhaseResult {
  readonly name: string;
  readonly ops: number;
  readonly opsPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  /** CPU seconds of the proxy process per 100k requests of the phase (proxy phases only). */
  readonly proxyCpuPer100k?: number;
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
  return { ...result, proxyCpuPer100k: (used / Math.max(1, result.ops)) * 100_000 };
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

const key = (i: number) => cassandra.types.Long.fromNumber((i * 7919) % KEYS);
const params = (i: number) => [key(i), `value-${i}`, i];

const origin = await client(originHost);
const target = await client(targetHost);
for (const c of [origin, target]) {
  await c.execute(
    "CREATE KEYSPACE IF NOT EXISTS zdm_proxy_bench WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
  );
  await c.execute('CREATE TABLE IF NOT EXISTS zdm_proxy_bench.kv (k bigint PRIMARY KEY, v text, n int)');
}
const writeBoth = (i: number) =>
  Promise.all([
    origin.execute(INSERT, params(i), { prepare: true }),
    target.execute(INSERT, params(i), { prepare: true }),
  ]);
const readOrigin = (i: number) => origin.execute(SELECT, [key(i)], { prepare: true });
const f = (n: number, d = 2) => n.toFixed(d);
try {
  console.log(`# warm-up and seeding ${KEYS} keys`);
  await phase('warm-up', writeBoth, 5);
  await phase('warm-up', readOrigin, 2);
  const baselines = {
    writes: await phase('writes: client to both clusters', writeBoth),
    reads: await phase('reads: straight from Origin', readOrigin),
  };
  type WorkerResult = { writes: PhaseResult; reads: PhaseResult; peakRss: number };
  const measured = new Map<number, WorkerResult[]>(workerCounts.map((w) => [w, []]));
  for (let round = 0; round < rounds; round++)
    for (const workers of workerCounts) {
      const proxyProcess = await startProxy(workers);
      const pid = proxyProcess.pid!;
      const viaProxy = await client('127.0.0.1', PORT);
      try {
        const writeProxy = (i: number) => viaProxy.execute(INSERT, params(i), { prepare: true });
        const readProxy = (i: number) => viaProxy.execute(SELECT, [key(i)], { prepare: true });
        await phase('warm-up', writeProxy, 3);
        await phase('warm-up', readProxy, 2);
        const label = `${workers} worker${workers === 1 ? '' : 's'}`;
        measured.get(workers)!.push({
          writes: await proxyPhase(`writes: through the proxy, ${label}`, writeProxy, pid),
          reads: await proxyPhase(`reads: through the proxy, ${label}`, readProxy, pid),
          peakRss: peakRssMiB(pid),
        });
      } finally {
        await viaProxy.shutdown();
        proxyProcess.kill('SIGTERM');
        await new Promise((resolve) => proxyProcess.once('exit', resolve));
      }
    }

  const median = (rs: readonly PhaseResult[]) =>
    [...rs].sort((a, b) => a.opsPerSecond - b.opsPerSecond)[Math.floor(rs.length / 2)]!;
  const byWorkers = new Map(
    [...measured].map(([workers, rs]) => [
      workers,
      {
        writes: median(rs.map((r) => r.writes)),
        reads: median(rs.map((r) => r.reads)),
        peakRss: Math.max(...rs.map((r) => r.peakRss)),
      },
    ]),
  );
  console.log(
    `\n${seconds} s per phase, concurrency ${concurrency}, ${connections} connections per client, protocol v4, median of ${rounds} interleaved round(s)`,
  );
  console.log('| phase | ops | ops/s | p50 ms | p99 ms | errors | proxy CPU s / 100k |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  const results = [
    baselines.writes,
    baselines.reads,
    ...[...byWorkers.values()].flatMap((r) => [r.writes, r.reads]),
  ];
  for (const r of results)
    console.log(
      `| ${r.name} | ${r.ops} | ${f(r.opsPerSecond, 0)} | ${f(r.p50)} | ${f(r.p99)} | ${r.errors} | ${r.proxyCpuPer100k === undefined ? '' : f(r.proxyCpuPer100k)} |`,
    );
  for (const [workers, r] of byWorkers)
    console.log(`proxy peak RSS, ${workers} worker(s): ${f(r.peakRss, 1)} MiB`);
  console.log('\n| comparison | throughput ratio | added p50 ms | added p99 ms |');
  console.log('|---|---:|---:|---:|');
  const compare = (name: string, a: PhaseResult, b: PhaseResult) =>
    console.log(
      `| ${name} | ${f(a.opsPerSecond / b.opsPerSecond)}x | ${f(a.p50 - b.p50)} | ${f(a.p99 - b.p99)} |`,
    );
  const one = byWorkers.get(1);
  for (const [workers, r] of byWorkers) {
    compare(`writes: proxy (${workers}w) / dual-writing client`, r.writes, baselines.writes);
    compare(`reads: proxy (${workers}w) / Origin direct`, r.reads, baselines.reads);
    if (one !== undefined && workers !== 1) {
      compare(`writes: ${workers} workers / 1 worker`, r.writes, one.writes);
      compare(`reads: ${workers} workers / 1 worker`, r.reads, one.reads);
    }
  }
} finally {
  await Promise.all([origin.shutdown(), target.shutdown()]);
}
