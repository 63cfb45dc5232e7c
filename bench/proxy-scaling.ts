/**
 * Proxy scaling benchmark with the clusters out of the way. How to run it (from the repository
 * root; needs Go on PATH, nothing else: no Cassandra):
 *
 *   npx tsx bench/proxy-scaling.ts [--seconds 10] [--warmup 2] [--rounds 3] [--workers 1,2]
 *                                  [--compressions none,lz4,snappy] [--connections 8] [--concurrency 512]
 *
 * proxy-bench.ts runs the proxy in front of two real Cassandra nodes on the same 2 cores, so the
 * nodes are the bottleneck and the proxy's own scaling and compression cost cannot be seen. Here
 * Origin and Target are two null clusters (go/null-cluster: CQL v4 servers answering from
 * precomputed bytes) and the load comes from go/cql-load (raw protocol v4, prepared EXECUTE,
 * none/LZ4/Snappy bodies), both in Go and run with GOMAXPROCS=1 so they need little CPU. The
 * script builds both into a temporary directory (`go build`), starts the null clusters, then per
 * round and worker count starts the real proxy CLI (`zdm-proxy start`, ZDM_PROXY_WORKERS=N) and per
 * compression runs cql-load's write phase then read phase (closed loops, `--concurrency` requests
 * in flight over `--connections` connections, `--warmup` unmeasured seconds, then `--seconds`).
 *
 * For each phase it prints (median round by throughput): ops/s, p50/p99, the CPU time per request
 * of the proxy (primary and workers), of both null clusters and of the load generator, and the
 * cores each used, plus "other": the machine's busy time charged to none of them (the kernel's
 * network work outside their context, other work on the machine). Then the ratios: N workers / 1
 * worker, each compression / none, and the ceiling that sharing the cores sets on N workers:
 * min(N, cores) / (1 + f), where f is the fixture's and load generator's CPU per request over the
 * proxy's.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { freePort } from '../scripts/demo/proxy-process.js';
import { WireClient } from './cql-wire-client.js';
import { cpuSeconds, loadAverage, machineBusySeconds, treeCpuSeconds } from './process-cpu.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '3' },
    workers: { type: 'string', default: '1,2' },
    compressions: { type: 'string', default: 'none,lz4,snappy' },
    connections: { type: 'string', default: '8' },
    concurrency: { type: 'string', default: '512' },
  },
});
const rounds = Number(args.rounds);
const workerCounts = args.workers.split(',').map(Number);
const compressions = args.compressions.split(',');
const PHASES = ['write', 'read'] as const;
type Phase = (typeof PHASES)[number];
/** The fixture and load generator on one core each at most: they should need far less. */
const GO_ENV = { ...process.env, GOMAXPROCS: '1' };

/** CPU seconds used so far by each party, and the machine's busy seconds, at one instant. */
interface Sample {
  readonly at: number;
  readonly proxy: number;
  readonly clusters: number;
  readonly machine: number;
}

/** One measured phase: what cql-load reported, and the CPU seconds each party used in its window. */
interface Measured {
  readonly ops: number;
  readonly opsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly firstError?: string;
  readonly seconds: number;
  /** CPU seconds within the window. */
  readonly cpu: {
    readonly proxy: number;
    readonly clusters: number;
    readonly load: number;
    /**
     * The rest of the machine's busy time: the kernel's network work charged to no process
     * (softirqs on an otherwise idle core, ksoftirqd), and any other work on the machine.
     */
    readonly other: number;
  };
}

type LoadEvent =
  | { readonly event: 'start' | 'end'; readonly phase: Phase }
  | ({ readonly event: 'result'; readonly phase: Phase; readonly cpuSeconds: number } & Omit<
      Measured,
      'seconds' | 'cpu'
    >);

function firstLine(stream: Readable): Promise<string> {
  const lines = createInterface({ input: stream });
  return new Promise((resolve, reject) => {
    lines.once('line', (line) => {
      resolve(line);
      lines.close();
    });
    lines.once('close', () => reject(new Error('the process closed its output before its first line')));
  });
}

/** Starts a null cluster; resolves with its process and port once it listens. */
async function startNullCluster(
  binary: string,
): Promise<{ process: ChildProcess; port: number; report: Promise<string> }> {
  // Its standard input is a lifeline: should this script die without stopping it, it stops too.
  const child = spawn(binary, ['-listen', '127.0.0.1:0', '-stdin-lifeline'], {
    env: GO_ENV,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let report = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    report += chunk.toString();
  });
  const line = await firstLine(child.stdout!);
  const port = Number(/^listening .*:(\d+)$/.exec(line)?.[1]);
  if (!Number.isInteger(port)) throw new Error(`null cluster said "${line}", not "listening ADDRESS:PORT"`);
  return { process: child, port, report: once(child, 'exit').then(() => report.trim()) };
}

async function startProxy(
  workers: number,
  port: number,
  clusterPorts: readonly [number, number],
  stateDir: string,
): Promise<ChildProcess> {
  const proxy = spawn(process.execPath, ['--import', 'tsx', 'src/cli/zdm-proxy.ts', 'start'], {
    env: {
      ...process.env,
      ZDM_ORIGIN_CONTACT_POINTS: '127.0.0.1',
      ZDM_ORIGIN_PORT: String(clusterPorts[0]),
      ZDM_TARGET_CONTACT_POINTS: '127.0.0.1',
      ZDM_TARGET_PORT: String(clusterPorts[1]),
      ZDM_PROXY_LISTEN_ADDRESS: '127.0.0.1',
      ZDM_PROXY_LISTEN_PORT: String(port),
      ZDM_METRICS_PORT: String(await freePort()),
      ZDM_PROXY_STATE_DIR: stateDir,
      ZDM_LOG_LEVEL: 'WARN',
      ZDM_PROXY_WORKERS: String(workers),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let i = 0; i < 120 && proxy.exitCode === null; i++) {
    try {
      (await WireClient.connect('127.0.0.1', port, null, 1)).close();
      return proxy;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  proxy.kill();
  throw new Error(`zdm-proxy with ${workers} worker(s) did not start`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

/** Runs cql-load's phases through the proxy, sampling every party's CPU time at each window's edges. */
async function runLoad(
  binary: string,
  port: number,
  compression: string,
  sample: () => Sample,
): Promise<Map<Phase, Measured>> {
  const child = spawn(
    binary,
    [
      ...['-address', `127.0.0.1:${port}`, '-compression', compression, '-phases', PHASES.join(',')],
      ...['-seconds', args.seconds, '-warmup', args.warmup],
      ...['-connections', args.connections, '-concurrency', args.concurrency],
    ],
    { env: GO_ENV, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = once(child, 'exit');
  const edges = new Map<string, Sample>();
  const measured = new Map<Phase, Measured>();
  for await (const line of createInterface({ input: child.stdout! })) {
    const event = JSON.parse(line) as LoadEvent;
    if (event.event !== 'result') {
      edges.set(`${event.event} ${event.phase}`, sample());
      continue;
    }
    const start = edges.get(`start ${event.phase}`)!;
    const end = edges.get(`end ${event.phase}`)!;
    const seconds = end.at - start.at;
    const proxy = end.proxy - start.proxy;
    const clusters = end.clusters - start.clusters;
    const load = event.cpuSeconds;
    const other = Math.max(0, end.machine - start.machine - proxy - clusters - load);
    const { event: _, phase, cpuSeconds: __, ...result } = event;
    measured.set(phase, { ...result, seconds, cpu: { proxy, clusters, load, other } });
  }
  const [code] = await exited;
  if (code !== 0) throw new Error(`cql-load exited with ${code}`);
  return measured;
}

const f = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : '');
const µsPerRequest = (cpu: number, m: Measured) => (cpu / Math.max(1, m.ops)) * 1e6;
const cores = (cpu: number, m: Measured) => cpu / m.seconds;

const tmp = mkdtempSync(join(tmpdir(), 'zdm-proxy-scaling-'));
const clusters: { process: ChildProcess; port: number; report: Promise<string> }[] = [];
try {
  console.log('# building the null cluster and the load generator (go build)');
  execFileSync('go', ['build', '-o', `${tmp}/`, './null-cluster', './cql-load'], {
    cwd: join(import.meta.dirname, 'go'),
    stdio: 'inherit',
  });
  for (let i = 0; i < 2; i++) clusters.push(await startNullCluster(join(tmp, 'null-cluster')));
  const clusterPorts = [clusters[0]!.port, clusters[1]!.port] as const;
  const sampleWith = (proxyPid: number) => (): Sample => ({
    at: performance.now() / 1000,
    proxy: treeCpuSeconds(proxyPid),
    clusters: clusters.reduce((sum, c) => sum + cpuSeconds(c.process.pid!), 0),
    machine: machineBusySeconds(),
  });
  const loadBefore = loadAverage();
  const results = new Map<string, Measured[]>();
  const key = (workers: number, compression: string, phase: Phase) => `${workers} ${compression} ${phase}`;
  for (let round = 1; round <= rounds; round++) {
    for (const workers of workerCounts) {
      const port = await freePort();
      const proxy = await startProxy(workers, port, clusterPorts, join(tmp, `state-${workers}`));
      try {
        for (const compression of compressions) {
          console.log(`# round ${round}/${rounds}: ${workers} worker(s), compression ${compression}`);
          const measured = await runLoad(join(tmp, 'cql-load'), port, compression, sampleWith(proxy.pid!));
          for (const [phase, m] of measured) {
            const k = key(workers, compression, phase);
            results.set(k, [...(results.get(k) ?? []), m]);
          }
        }
      } finally {
        await stop(proxy);
      }
    }
  }

  const median = (workers: number, compression: string, phase: Phase): Measured | undefined => {
    const rs = [...(results.get(key(workers, compression, phase)) ?? [])];
    return rs.sort((a, b) => a.opsPerSecond - b.opsPerSecond)[Math.floor(rs.length / 2)];
  };
  console.log(
    `\n${args.seconds} s measured per phase after ${args.warmup} s warm-up, ${args.concurrency} requests in flight over ${args.connections} connections, protocol v4, prepared statements, median of ${rounds} round(s) by throughput; load average ${loadBefore} before, ${loadAverage()} after`,
  );
  console.log(
    '| workers | compression | phase | ops/s | p50 ms | p99 ms | errors | CPU µs / request: proxy | null clusters | load generator | cores used: proxy | null clusters | load generator | other |',
  );
  console.log('|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const workers of workerCounts)
    for (const compression of compressions)
      for (const phase of PHASES) {
        const m = median(workers, compression, phase);
        if (m === undefined) continue;
        const { proxy, clusters: nulls, load, other } = m.cpu;
        console.log(
          `| ${workers} | ${compression} | ${phase} | ${f(m.opsPerSecond, 0)} | ${f(m.p50Ms)} | ${f(m.p99Ms)} | ${m.errors}${m.firstError === undefined ? '' : ` (${m.firstError})`} | ${f(µsPerRequest(proxy, m), 1)} | ${f(µsPerRequest(nulls, m), 1)} | ${f(µsPerRequest(load, m), 1)} | ${f(cores(proxy, m))} | ${f(cores(nulls, m))} | ${f(cores(load, m))} | ${f(cores(other, m))} |`,
        );
      }

  const base = workerCounts[0]!;
  const machineCores = availableParallelism();
  console.log(
    `\nWorkers, against ${base} worker(s): throughput; the cores the proxy got; its CPU per request (1.00: the workers do not contend). ` +
      `f = (null clusters + load generator CPU per request) / proxy CPU per request at N workers; the ceiling min(N, ${machineCores} cores) / (1 + f) ` +
      'is what N workers reach when the proxy keeps its CPU per request and shares every core with those two; ' +
      '"other" (kernel network work charged to no process, other work on the machine) takes from it too. Cores busy: all of it.',
  );
  console.log(
    '| compression | phase | workers | throughput / 1 worker | proxy cores / 1 worker | proxy CPU per request / 1 worker | f | ceiling | other cores | cores busy |',
  );
  console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const compression of compressions)
    for (const phase of PHASES) {
      const one = median(base, compression, phase);
      if (one === undefined) continue;
      for (const workers of workerCounts.slice(1)) {
        const n = median(workers, compression, phase);
        if (n === undefined) continue;
        const share = (n.cpu.clusters + n.cpu.load) / n.cpu.proxy;
        const busy = n.cpu.proxy + n.cpu.clusters + n.cpu.load + n.cpu.other;
        console.log(
          `| ${compression} | ${phase} | ${workers} | ${f(n.opsPerSecond / one.opsPerSecond)}x | ${f(cores(n.cpu.proxy, n) / cores(one.cpu.proxy, one))}x | ${f(µsPerRequest(n.cpu.proxy, n) / µsPerRequest(one.cpu.proxy, one))} | ${f(share)} | ${f(Math.min(workers, machineCores) / (1 + share))}x | ${f(cores(n.cpu.other, n))} | ${f(cores(busy, n))} |`,
        );
      }
    }
  console.log(
    '\nCompression: throughput with compression over without, and the proxy CPU per request it adds',
  );
  console.log('| workers | compression | phase | throughput / none | proxy CPU µs / request added |');
  console.log('|---:|---|---|---:|---:|');
  for (const workers of workerCounts)
    for (const compression of compressions.filter((c) => c !== 'none'))
      for (const phase of PHASES) {
        const plain = median(workers, 'none', phase);
        const m = median(workers, compression, phase);
        if (plain === undefined || m === undefined) continue;
        console.log(
          `| ${workers} | ${compression} | ${phase} | ${f(m.opsPerSecond / plain.opsPerSecond)}x | ${f(µsPerRequest(m.cpu.proxy, m) - µsPerRequest(plain.cpu.proxy, plain), 1)} |`,
        );
      }
} finally {
  for (const c of clusters) c.process.kill('SIGTERM');
  const reports = await Promise.all(clusters.map((c) => c.report));
  if (reports.length > 0)
    console.log(`\nThe null clusters' own count over the whole run:\n${reports.join('\n')}`);
  rmSync(tmp, { recursive: true, force: true });
}
