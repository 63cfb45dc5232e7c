/**
 * Proxy benchmark: `npx tsx bench/proxy-bench.ts [seconds] [concurrency] [origin host] [target host]`.
 *
 * A closed loop with the Node driver (prepared statements, fixed concurrency, fixed duration) in four
 * phases, all in one run against the same clusters:
 *   writes  through the proxy   vs  the client writing each row to Origin and Target itself (waits for both)
 *   reads   through the proxy   vs  reads straight from Origin
 * The proxy is the real `zdm-proxy start` CLI in its own process. Prints throughput, the ratio to
 * each baseline, p50/p99 latencies, and the proxy process's CPU seconds per 100k requests (user +
 * system, read from /proc around each proxy phase) and peak RSS (VmHWM). Defaults: 15 s per phase,
 * concurrency 32, 127.0.0.2 / 127.0.0.3.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import cassandra from 'cassandra-driver';

const seconds = Number(process.argv[2] ?? 15);
const concurrency = Number(process.argv[3] ?? 32);
const originHost = process.argv[4] ?? '127.0.0.2';
const targetHost = process.argv[5] ?? '127.0.0.3';
const PORT = 14702;
const KEYS = 50_000;
const INSERT = 'INSERT INTO zdm_proxy_bench.kv (k, v, n) VALUES (?, ?, ?)';
const SELECT = 'SELECT k, v, n FROM zdm_proxy_bench.kv WHERE k = ?';

async function client(contactPoint: string, port = 9042): Promise<cassandra.Client> {
  const c = new cassandra.Client({
    contactPoints: [`${contactPoint}:${port}`],
    protocolOptions: { port, maxVersion: 4 },
    localDataCenter: 'datacenter1',
    pooling: { coreConnectionsPerHost: { [cassandra.types.distance.local]: 1 } },
  });
  await c.connect();
  return c;
}

async function startProxy(): Promise<ChildProcess> {
  const proxy = spawn(process.execPath, ['--import', 'tsx', 'src/cli/zdm-proxy.ts', 'start'], {
    env: {
      ...process.env,
      ZDM_ORIGIN_CONTACT_POINTS: originHost,
      ZDM_TARGET_CONTACT_POINTS: targetHost,
      ZDM_PROXY_LISTEN_ADDRESS: '127.0.0.1',
      ZDM_PROXY_LISTEN_PORT: String(PORT),
      ZDM_METRICS_PORT: String(PORT + 1),
      ZDM_LOG_LEVEL: 'WARN',
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

/** CPU seconds (user + system) the process has used so far: fields 14 and 15 of /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the command name, field 3 is index 0: utime is field 14, stime field 15 (clock ticks, 100/s on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Peak resident set size of the process in MiB (VmHWM). */
function peakRssMiB(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match === null ? Number.NaN : Number(match[1]) / 1024;
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
  const before = cpuSeconds(pid);
  const result = await phase(name, op);
  const used = cpuSeconds(pid) - before;
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
const proxyProcess = await startProxy();
const viaProxy = await client('127.0.0.1', PORT);
try {
  const writeBoth = (i: number) =>
    Promise.all([
      origin.execute(INSERT, params(i), { prepare: true }),
      target.execute(INSERT, params(i), { prepare: true }),
    ]);
  const writeProxy = (i: number) => viaProxy.execute(INSERT, params(i), { prepare: true });
  const readOrigin = (i: number) => origin.execute(SELECT, [key(i)], { prepare: true });
  const readProxy = (i: number) => viaProxy.execute(SELECT, [key(i)], { prepare: true });
  console.log(`# warm-up and seeding ${KEYS} keys`);
  await phase('warm-up', writeProxy, 5);
  await phase('warm-up', readProxy, 2);
  await phase('warm-up', readOrigin, 2);
  const results: PhaseResult[] = [];
  results.push(await phase('writes: client to both clusters', writeBoth));
  const pid = proxyProcess.pid!;
  results.push(await proxyPhase('writes: through the proxy', writeProxy, pid));
  results.push(await phase('reads: straight from Origin', readOrigin));
  results.push(await proxyPhase('reads: through the proxy', readProxy, pid));

  const f = (n: number, d = 2) => n.toFixed(d);
  console.log(`\n${seconds} s per phase, concurrency ${concurrency}, one connection per client, protocol v4`);
  console.log('| phase | ops | ops/s | p50 ms | p99 ms | errors | proxy CPU s / 100k |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const r of results)
    console.log(
      `| ${r.name} | ${r.ops} | ${f(r.opsPerSecond, 0)} | ${f(r.p50)} | ${f(r.p99)} | ${r.errors} | ${r.proxyCpuPer100k === undefined ? '' : f(r.proxyCpuPer100k)} |`,
    );
  console.log(`\nproxy peak RSS: ${f(peakRssMiB(pid), 1)} MiB`);
  const [wb, wp, ro, rp] = results as [PhaseResult, PhaseResult, PhaseResult, PhaseResult];
  console.log('\n| comparison | throughput ratio | added p50 ms | added p99 ms |');
  console.log('|---|---:|---:|---:|');
  console.log(
    `| writes: proxy / dual-writing client | ${f(wp.opsPerSecond / wb.opsPerSecond)}x | ${f(wp.p50 - wb.p50)} | ${f(wp.p99 - wb.p99)} |`,
  );
  console.log(
    `| reads: proxy / Origin direct | ${f(rp.opsPerSecond / ro.opsPerSecond)}x | ${f(rp.p50 - ro.p50)} | ${f(rp.p99 - ro.p99)} |`,
  );
} finally {
  await Promise.all([viaProxy.shutdown(), origin.shutdown(), target.shutdown()]);
  proxyProcess.kill('SIGTERM');
}
