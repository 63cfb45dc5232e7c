/**
 * Diff benchmark: `npx tsx bench/diff-bench.ts [rows] [origin host] [target host]`.
 *
 * Loads `rows` rows (10 per partition) into Origin, copies them with `zdm migrate`, then compares
 * the two identical tables with `zdm diff`. Prints each command's rows/s and peak RSS (VmHWM of the
 * CLI process), so diff's speed is measured next to migrate's on the same table in the same run.
 * Start a pair first with `npx tsx bench/diff-clusters.ts start` (127.0.0.60/61).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import cassandra from 'cassandra-driver';

const rows = Number(process.argv[2] ?? 1_000_000);
const originHost = process.argv[3] ?? '127.0.0.60';
const targetHost = process.argv[4] ?? '127.0.0.61';
const table = 'zdm_bench.rows';

async function client(host: string) {
  const c = new cassandra.Client({ contactPoints: [host], localDataCenter: 'datacenter1' });
  await c.connect();
  return c;
}

async function prepare(): Promise<void> {
  const [o, t] = await Promise.all([client(originHost), client(targetHost)]);
  try {
    for (const c of [o, t]) {
      await c.execute(
        "CREATE KEYSPACE IF NOT EXISTS zdm_bench WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
      );
      await c.execute('DROP TABLE IF EXISTS zdm_bench.rows');
      await c.execute(
        'CREATE TABLE zdm_bench.rows (k bigint, c int, v text, n int, tags set<text>, PRIMARY KEY (k, c))',
      );
    }
    const insert = 'INSERT INTO zdm_bench.rows (k, c, v, n, tags) VALUES (?, ?, ?, ?, ?) USING TTL ?';
    const started = Date.now();
    let inFlight: Promise<unknown>[] = [];
    for (let i = 0; i < rows; i++) {
      const params = [
        Math.floor(i / 10),
        i % 10,
        `value-${i}-${'x'.repeat(40)}`,
        i,
        ['a', `t${i % 7}`],
        i % 4 === 0 ? 864000 : 0,
      ];
      inFlight.push(o.execute(insert, params, { prepare: true }));
      if (inFlight.length >= 512) {
        await Promise.all(inFlight);
        inFlight = [];
      }
      if (i > 0 && i % 100_000 === 0)
        console.log(`# loaded ${i} rows (${Math.round(i / ((Date.now() - started) / 1000))}/s)`);
    }
    await Promise.all(inFlight);
    console.log(`# loaded ${rows} rows into Origin in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await Promise.all([o.shutdown(), t.shutdown()]);
  }
}

interface Measured {
  readonly code: number | null;
  readonly seconds: number;
  readonly peakRssMb: number;
  readonly summary: Record<string, unknown>;
}

/** Runs the CLI and samples its peak resident set (VmHWM) from /proc while it runs. */
function measure(args: readonly string[]): Promise<Measured> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/zdm.ts', ...args], {
      env: { ...process.env, ZDM_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    let peak = 0;
    child.stdout.on('data', (d) => (stdout += d));
    const sample = setInterval(() => {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
        const hwm = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
        peak = Math.max(peak, hwm);
      } catch {
        // exited
      }
    }, 100);
    child.once('exit', (code) => {
      clearInterval(sample);
      const line = stdout.split('\n').find((l) => l.startsWith('{"summary"')) ?? '{}';
      resolve({
        code,
        seconds: (performance.now() - started) / 1000,
        peakRssMb: Math.round(peak / 1024),
        summary: JSON.parse(line) as Record<string, unknown>,
      });
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'zdm-diff-bench-'));
const common = [
  table,
  '--origin-contact-points',
  originHost,
  '--target-contact-points',
  targetHost,
  '--origin-read-consistency',
  'ONE',
  '--target-read-consistency',
  'ONE',
  '--target-write-consistency',
  'ONE',
  '--json',
  '--splits',
  '256',
  '--concurrency',
  '8',
];

await prepare();
const migrate = await measure(['migrate', ...common, '--checkpoint-dir', join(dir, 'migrate')]);
const diff = await measure(['diff', ...common, '--checkpoint-dir', join(dir, 'diff')]);
const rate = (m: Measured) => Math.round(rows / m.seconds);
console.log(`\nrows: ${rows} (10 per partition; text, int, set<text>; 1 in 4 with a TTL)`);
console.log('| command | exit | wall s | rows/s (wall, incl. start-up) | rows/s (job) | peak RSS MB |');
console.log('|---|---|---|---|---|---|');
for (const [name, m] of [
  ['migrate', migrate],
  ['diff', diff],
] as const) {
  console.log(
    `| ${name} | ${m.code} | ${m.seconds.toFixed(1)} | ${rate(m)} | ${m.summary['this session rows/s']} | ${m.peakRssMb} |`,
  );
}
console.log(`\ndiff / migrate speed: ${(rate(diff) / rate(migrate)).toFixed(2)}x`);
console.log(`diff summary: ${JSON.stringify(diff.summary)}`);
