/**
 * Migrate benchmark: `npx tsx bench/migrate-bench.ts [--rows 100000,1000000] [--concurrency 128]
 * [--workers 1,2] [--origin HOST --target HOST]`.
 *
 * For each size: fills Origin with that many rows of mixed types (about 200 bytes each), then
 * measures in the same run
 *   - baseline: the same rows written straight into a Target table with the Node driver, prepared
 *     INSERTs, `concurrency` in flight (the physical write limit of this machine), and
 *   - `zdm migrate` of the Origin table into another Target table with `--write-concurrency` equal,
 *     once per `--workers` count with SQLite state, and at 1 worker also with Cassandra state (the
 *     run's state in a keyspace of Target), Target's table emptied before each run,
 * and prints rows/s, the ratio migrate/baseline, migrate's peak RSS (getrusage maxrss of the
 * process the user starts: with workers, theirs is not included) and the load average at the end.
 * Without --origin/--target it starts its own pair on 127.0.0.30/31 and stops it afterwards.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import cassandra from 'cassandra-driver';
import { ensureCassandraLib } from '../src/cluster/cassandra-dist.js';
import { addSignalCleanup } from '../src/cluster/exit-guard.js';
import { type RunningCluster, startCluster } from '../src/cluster/local-cluster.js';
import { createLogger } from '../src/log/logger.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const sizes = arg('rows', '100000,1000000').split(',').map(Number);
const concurrency = Number(arg('concurrency', '128'));
const workerCounts = arg('workers', '1').split(',').map(Number);
/** Each worker count with SQLite state, then 1 worker with Cassandra state (its cost against SQLite). */
const variants: { readonly workers: number; readonly state: 'sqlite' | 'cassandra' }[] = [
  ...workerCounts.map((workers) => ({ workers, state: 'sqlite' as const })),
  { workers: 1, state: 'cassandra' },
];
const logger = createLogger({ level: 'warn', pretty: false });
const KS = 'zdm_mbench';

const own: RunningCluster[] = [];
addSignalCleanup(async () => {
  for (const c of own.splice(0)) await c.stop();
});

async function clusters(): Promise<[string, string]> {
  const given = [arg('origin', ''), arg('target', '')];
  if (given[0] && given[1]) return [given[0], given[1]];
  await ensureCassandraLib(undefined, logger);
  const baseDir = mkdtempSync(join(tmpdir(), 'zdm-mbench-'));
  for (const [name, address] of [
    ['bench-origin', '127.0.0.30'],
    ['bench-target', '127.0.0.31'],
  ] as const) {
    own.push(await startCluster({ name, firstAddress: address, baseDir }, logger));
  }
  return ['127.0.0.30', '127.0.0.31'];
}

async function connect(host: string): Promise<cassandra.Client> {
  const client = new cassandra.Client({
    contactPoints: [host],
    localDataCenter: 'datacenter1',
    pooling: { coreConnectionsPerHost: { [cassandra.types.distance.local]: 2 } },
    encoding: { useBigIntAsLong: true },
  });
  await client.connect();
  return client;
}

const COLUMNS = '(id, bucket, name, email, amount, active, created, tags, payload)';
function row(i: number): unknown[] {
  return [
    BigInt(i),
    i % 1000,
    `customer name ${i}`.padEnd(30, '.'),
    `user${i}@example.com`.padEnd(30, '.'),
    cassandra.types.BigDecimal.fromString(`${i % 100000}.${i % 100}`),
    i % 2 === 0,
    new Date(1_700_000_000_000 + i),
    ['tag-a', `tag-${i % 13}`],
    Buffer.alloc(80, i % 256),
  ];
}

/** Writes rows 0..n-1 with `concurrency` statements in flight; returns rows per second. */
async function writeRows(client: cassandra.Client, table: string, n: number, extra = ''): Promise<number> {
  const query = `INSERT INTO ${KS}.${table} ${COLUMNS} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)${extra}`;
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      await client.execute(query, row(i), { prepare: true });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return n / ((performance.now() - started) / 1000);
}

function migrate(
  origin: string,
  target: string,
  variant: (typeof variants)[number],
): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const args = [
      'migrate',
      `${KS}.src`,
      '--target-table',
      `${KS}.dst`,
      '--origin-contact-points',
      origin,
      '--target-contact-points',
      target,
      '--write-concurrency',
      String(concurrency),
      '--workers',
      String(variant.workers),
      '--state-store',
      variant.state,
      '--state-keyspace',
      `${KS}_state`,
      '--fresh',
      '--checkpoint-dir',
      mkdtempSync(join(tmpdir(), 'zdm-mbench-ck-')),
      '--json',
    ];
    // The installed `zdm` is this file run through its shebang (with the heap cap it sets).
    const child = spawn(join('dist', 'cli', 'zdm.js'), args, {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, ZDM_LOG_LEVEL: 'warn' },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`migrate exited ${code}: ${out}`));
      resolve(JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, number>);
    });
  });
}

const results: string[][] = [];
// Measure what users run: the compiled CLI (bin `zdm` → dist/cli/zdm.js), not the TypeScript loader.
if (!process.env.ZDM_BENCH_NO_BUILD) execFileSync('npm', ['run', 'build'], { stdio: 'inherit' });
try {
  const [originHost, targetHost] = await clusters();
  const o = await connect(originHost);
  const t = await connect(targetHost);
  for (const n of sizes) {
    for (const c of [o, t]) {
      await c.execute(`DROP KEYSPACE IF EXISTS ${KS}`);
      await c.execute(
        `CREATE KEYSPACE ${KS} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
      );
    }
    const ddl = (name: string) =>
      `CREATE TABLE ${KS}.${name} (id bigint PRIMARY KEY, bucket int, name text, email text, amount decimal, active boolean, created timestamp, tags set<text>, payload blob)`;
    await o.execute(ddl('src'));
    await t.execute(ddl('dst'));
    await t.execute(ddl('base'));
    process.stderr.write(`# ${n} rows: seeding Origin...\n`);
    await writeRows(o, 'src', n, ' USING TTL 864000');
    process.stderr.write('# baseline: the same rows written straight into Target...\n');
    const baseline = await writeRows(t, 'base', n, ' USING TTL 864000');
    for (const variant of variants) {
      const name = `${variant.workers} worker${variant.workers > 1 ? 's' : ''}, ${variant.state} state`;
      process.stderr.write(`# zdm migrate, ${name}...\n`);
      await t.execute(`TRUNCATE ${KS}.dst`);
      const summary = await migrate(originHost, targetHost, variant);
      const rate = summary['this session rows/s']!;
      results.push([
        String(n),
        name,
        String(Math.round(baseline)),
        String(rate),
        (rate / baseline).toFixed(2),
        String(summary['peak RSS MB']),
        String(summary['rows written']),
      ]);
    }
  }
  await o.shutdown();
  await t.shutdown();
} finally {
  for (const c of own.splice(0)) await c.stop();
}

const header = [
  'rows',
  'migrate run',
  'baseline rows/s (driver INSERTs into Target)',
  'migrate rows/s',
  'ratio',
  'migrate peak RSS MB',
  'rows written',
];
const widths = header.map((h, i) => Math.max(h.length, ...results.map((r) => r[i]!.length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
console.log(`\nzdm migrate vs direct writes, write concurrency ${concurrency}`);
console.log(line(header));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const r of results) console.log(line(r));
console.log(
  `load average at the end (1, 5, 15 min): ${loadavg()
    .map((l) => l.toFixed(2))
    .join(', ')}`,
);
