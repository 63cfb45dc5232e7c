/**
 * `npm run demo`: a whole zero-downtime migration on two local clusters, in the five phases of the
 * migration guide: (1) the proxy goes in front of Origin with dual writes while a sample application
 * keeps writing and reading through it; (2) `zdm migrate` copies the existing data (killed once
 * mid-copy and resumed, as a crash would) and `zdm diff` validates it while the application writes;
 * (3) the proxy restarts with async dual reads; (4) then with Target as the primary cluster;
 * (5) the application leaves the proxy, a final diff runs, and a summary table of the phases prints.
 *
 * Flags: --keep (leave clusters running), --rows=N (readings loaded; default 100000),
 * --origin-address= / --target-address= (when 127.0.0.2 / .3 are taken), --use-clusters=O,T (use
 * running clusters instead of starting any; the end-to-end test does this).
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import cassandra from 'cassandra-driver';
import { ensureCassandraLib } from '../src/cluster/cassandra-dist.js';
import { DEFAULT_PAIR } from '../src/cluster/cluster-options.js';
import { addSignalCleanup } from '../src/cluster/exit-guard.js';
import { type RunningCluster, startCluster } from '../src/cluster/local-cluster.js';
import { runStatusLines } from '../src/job/status-command.js';
import { createLogger } from '../src/log/logger.js';
import { readReport } from '../src/validate/diff-report.js';
import { KEYSPACE, SCHEMA, seedOrigin, seedWriteCount, TABLES, tableSizes } from './demo/demo-schema.js';
import { type LatencyLine, latencySince, requestLatencies } from './demo/proxy-latency.js';
import { freePort, type ProxyProcess, startProxyProcess } from './demo/proxy-process.js';
import { SampleApp } from './demo/sample-app.js';
import { runZdm } from './demo/zdm-child.js';

const keep = process.argv.includes('--keep');
const flag = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const useClusters = flag('use-clusters')?.split(',');
const addresses = useClusters ?? [
  flag('origin-address') ?? DEFAULT_PAIR[0].address,
  flag('target-address') ?? DEFAULT_PAIR[1].address,
];
const [origin, target] = addresses as [string, string];
const readings = Number(flag('rows') ?? 100_000);
/** How long the application runs through the proxy in each of the read phases. */
const phaseSeconds = Number(flag('phase-seconds') ?? 20);
const logger = createLogger({ level: 'info' });
const workDir = join('.zdm', 'demo');
const checkpoints = join(workDir, 'checkpoints');
const clusters: RunningCluster[] = [];
let proxy: ProxyProcess | undefined;
let app: SampleApp | undefined;

const say = (text: string) => process.stdout.write(`\n== ${text}\n`);
const line = (text: string) => process.stdout.write(`   ${text}\n`);

interface PhaseRow {
  phase: string;
  rows: string;
  differences: string;
  seconds: number;
}
const phases: PhaseRow[] = [];
async function phase(
  name: string,
  heading: string,
  body: () => Promise<{ rows?: string; differences?: string }>,
): Promise<void> {
  say(`${name}: ${heading}`);
  const started = performance.now();
  const { rows = '', differences = '' } = await body();
  phases.push({ phase: name, rows, differences, seconds: Math.round((performance.now() - started) / 1000) });
}

async function shutDown(): Promise<void> {
  await app?.stop().catch(() => undefined);
  await proxy?.stop().catch(() => undefined);
  if (!keep) for (const c of clusters.splice(0)) await c.stop();
}
addSignalCleanup(shutDown);

function directClient(address: string): cassandra.Client {
  return new cassandra.Client({
    contactPoints: [address],
    localDataCenter: 'datacenter1',
    encoding: { useBigIntAsLong: true },
    // Schema changes (DROP KEYSPACE flushes and snapshots) take longer than the driver's 12 s on a
    // busy 2-core machine.
    socketOptions: { readTimeout: 120_000 },
  });
}

async function prepareClusters(): Promise<void> {
  if (useClusters === undefined) {
    line('fetching Apache Cassandra 5.0 from Maven Central (first run only)');
    await ensureCassandraLib(undefined, logger);
    for (const [i, { name }] of DEFAULT_PAIR.entries())
      clusters.push(
        await startCluster(
          // Detached with --keep: nodes this process tracks are stopped when it exits.
          {
            name,
            firstAddress: addresses[i]!,
            baseDir: join('.zdm', 'clusters'),
            reset: true,
            detached: keep,
          },
          logger,
        ),
      );
  }
  for (const address of [origin, target]) {
    const client = directClient(address);
    await client.connect();
    await client.execute(`DROP KEYSPACE IF EXISTS ${KEYSPACE}`);
    for (const statement of SCHEMA) await client.execute(statement);
    if (address === origin) {
      const total = seedWriteCount(readings);
      let shown = 0;
      await seedOrigin(client, readings, (done) => {
        // A line per tenth: a person sees it move, a log file stays short.
        if (done >= shown + total / 10 || done === total) {
          shown = done;
          line(`loading Origin: ${done}/${total} writes`);
        }
      });
    }
    await client.shutdown();
  }
}

async function startProxy(env: Record<string, string>, port: number, metricsPort: number): Promise<void> {
  proxy = await startProxyProcess({
    origin,
    target,
    port,
    metricsPort,
    env,
    logFile: join(workDir, 'proxy.log'),
  });
  line(
    `zdm-proxy on 127.0.0.1:${port} (${
      Object.entries(env)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ') || 'defaults'
    }); metrics ${proxy.metricsUrl}/metrics`,
  );
}

async function readLatencies(): Promise<LatencyLine[]> {
  if (proxy === undefined) return [];
  const text = await fetch(`${proxy.metricsUrl}/metrics`).then((r) => r.text());
  return requestLatencies(text);
}

/** Runs the application through the current proxy for `phaseSeconds`, then prints read latencies. */
async function watchReads(): Promise<string> {
  const before = await readLatencies();
  const reads = app!.stats.reads;
  await new Promise((r) => setTimeout(r, phaseSeconds * 1000));
  for (const l of latencySince(before, await readLatencies()))
    line(`${l.series.padEnd(60)} ${String(l.count).padStart(7)} requests, mean ${l.meanMs.toFixed(2)} ms`);
  return `${app!.stats.reads - reads} app reads`;
}

async function restartProxy(env: Record<string, string>, port: number, metricsPort: number): Promise<void> {
  await app!.pause();
  const code = await proxy!.stop();
  line(`proxy stopped (exit ${code}); application paused meanwhile, as behind a rolling restart`);
  await startProxy(env, port, metricsPort);
  app!.resume();
}

/** `zdm <job> demo` (every table of the keyspace) against the demo's clusters and checkpoints. */
function jobArgs(job: 'migrate' | 'diff'): string[] {
  const clusters = ['--origin-contact-points', origin, '--target-contact-points', target];
  return [job, KEYSPACE, ...clusters, '--checkpoint-dir', checkpoints];
}

/** Each table's summary of a keyspace-wide run, by table name (from the summary's title). */
function tableSummaries(summaries: readonly Record<string, unknown>[]): Map<string, Record<string, unknown>> {
  const byTable = new Map<string, Record<string, unknown>>();
  for (const summary of summaries) {
    const table = /^(?:Migrate|Diff) (\S+)/.exec(String(summary.summary))?.[1];
    if (table !== undefined) byTable.set(table, summary);
  }
  return byTable;
}

/**
 * `zdm migrate demo`: every table, one after another. Killed with SIGKILL once a quarter of the
 * biggest table is copied (as a crash would), then run again: it resumes where it stopped.
 */
async function migrateAll(): Promise<{ rows: string }> {
  // Target is new: its counter rows are created (by default migrate only adds to existing ones,
  // so that a counter deleted on Target is not brought back).
  const args = [...jobArgs('migrate'), '--create-missing-counters'];
  const quarter = tableSizes(readings).readings / 4;
  const isReadings = (table: string) => table.includes(`${KEYSPACE}.readings`);
  const first = await runZdm(args, {
    killWhen: async () =>
      (await runStatusLines(checkpoints)).some((l) => isReadings(l.table) && l.rows >= quarter),
  });
  if (first.code === null || first.code === 137) {
    const status = (await runStatusLines(checkpoints)).find((l) => isReadings(l.table));
    line(`zdm migrate ${KEYSPACE} killed with SIGKILL once ${Math.round(quarter)}+ readings were copied`);
    line(
      `zdm status: ${status?.status}, ranges ${status?.ranges}, rows ${status?.rows}; running it again resumes`,
    );
  } else line(`zdm migrate ${KEYSPACE} finished before a quarter could be seen (exit ${first.code})`);
  const done = await runZdm(args);
  if (done.code !== 0) throw new Error(`zdm migrate ${KEYSPACE} exited with ${done.code}`);
  let copied = 0;
  for (const [table, summary] of tableSummaries(done.summaries)) {
    const rows = Number(summary['rows read'] ?? 0);
    copied += rows;
    line(`${table}: ${rows} rows copied with their writetimes and TTLs`);
  }
  return { rows: `${copied} copied` };
}

/** `zdm diff demo`: returns the differences left over all tables (0 when Target equals Origin). */
async function diffAll(): Promise<{ rows: string; differences: string }> {
  const outcome = await runZdm([...jobArgs('diff'), '--fresh']);
  if (outcome.code !== 0 && outcome.code !== 1)
    throw new Error(`zdm diff ${KEYSPACE} failed (exit ${outcome.code})`);
  let compared = 0;
  let remaining = 0;
  const tables = tableSummaries(outcome.summaries);
  for (const [table, summary] of tables) {
    const left = Number(summary['differences remaining'] ?? Number.NaN);
    compared += Number(summary['rows compared'] ?? 0);
    remaining += Number.isNaN(left) ? 1 : left;
    line(`${table}: ${left} differences`);
    if (left > 0) showDifferences(table);
  }
  if (tables.size !== TABLES.length)
    throw new Error(`zdm diff ${KEYSPACE} compared ${tables.size} tables of ${TABLES.length}`);
  return { rows: `${compared} compared`, differences: String(remaining) };
}

/** The first differences of a table's latest diff report, so a failed demo says what differs. */
function showDifferences(table: string): void {
  const reports = readdirSync(checkpoints)
    .filter((f) => f.startsWith(`diff-${table}-`) && f.endsWith('.diff.jsonl'))
    .sort();
  const latest = reports.at(-1);
  if (latest === undefined) return;
  const shown = readReport(join(checkpoints, latest)).slice(0, 3);
  for (const difference of shown) line(`  ${JSON.stringify(difference).slice(0, 600)}`);
}

let exitCode = 0;
try {
  rmSync(checkpoints, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  const proxyPort = await freePort();
  const metricsPort = await freePort();
  await phase(
    'Setup',
    `Origin (${origin}) and Target (${target}), ${readings} readings loaded into Origin`,
    async () => {
      await prepareClusters();
      return { rows: `${seedWriteCount(readings)} written` };
    },
  );
  await phase(
    'Phase 1',
    'proxy in front, dual writes; the application runs through it from now on',
    async () => {
      await startProxy({}, proxyPort, metricsPort);
      app = await SampleApp.connect('127.0.0.1', proxyPort, readings);
      app.start();
      return { rows: 'app started' };
    },
  );
  await phase('Phase 2a', 'zdm migrate of every table while the application writes', migrateAll);
  await phase('Phase 2b', 'zdm diff of every table while the application writes', diffAll);
  await phase('Phase 3', 'async dual reads (reads also sent to Target, answers from Origin)', async () => {
    await restartProxy({ ZDM_READ_MODE: 'DUAL_ASYNC_ON_SECONDARY' }, proxyPort, metricsPort);
    return { rows: await watchReads() };
  });
  await phase('Phase 4', 'Target is the primary cluster (reads answered by Target)', async () => {
    await restartProxy(
      { ZDM_PRIMARY_CLUSTER: 'TARGET', ZDM_READ_MODE: 'DUAL_ASYNC_ON_SECONDARY' },
      proxyPort,
      metricsPort,
    );
    return { rows: await watchReads() };
  });
  await phase(
    'Phase 5',
    'the application leaves the proxy (it would now connect to Target); final diff',
    async () => {
      await app!.stop();
      const { writes, reads, errors } = app!.stats;
      app = undefined;
      await proxy!.stop();
      proxy = undefined;
      line(
        `application: ${writes} writes and ${reads} reads through the proxy, ${errors} retried after an error`,
      );
      return diffAll();
    },
  );
  const differences = phases.reduce((sum, p) => sum + (p.differences === '' ? 0 : Number(p.differences)), 0);
  exitCode = differences === 0 ? 0 : 1;
  say('Summary');
  const width = Math.max(...phases.map((p) => p.phase.length));
  line(`${'phase'.padEnd(width)}  ${'rows'.padEnd(22)} ${'differences'.padEnd(11)} time`);
  for (const p of phases)
    line(`${p.phase.padEnd(width)}  ${p.rows.padEnd(22)} ${p.differences.padEnd(11)} ${p.seconds} s`);
  say(
    exitCode === 0
      ? 'Done: Target equals Origin; the application now runs on Target.'
      : 'Something differs: see the diff reports above.',
  );
} catch (error) {
  logger.error({ err: error }, 'demo failed');
  exitCode = 1;
} finally {
  if (keep) {
    process.stdout.write(
      [
        '',
        'Left running (--keep):',
        `  Origin ${origin}:9042 and Target ${target}:9042 (cqlsh ${origin}, or any driver)`,
        `  checkpoints in ${checkpoints}: npx zdm status --checkpoint-dir ${checkpoints}`,
        '  stop the clusters with: npx zdm cluster stop',
        '',
      ].join('\n'),
    );
  }
  await shutDown();
}
process.exit(exitCode);
