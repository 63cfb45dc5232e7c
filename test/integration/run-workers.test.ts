import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type cassandra from 'cassandra-driver';
import type { RunState } from '../../src/checkpoint/run-state.js';
import { runCatalogFor } from '../../src/job/run-store.js';
import { silentLogger } from '../../src/log/logger.js';
import { readReport } from '../../src/validate/diff-report.js';
import { scratchDir, waitUntil } from '../helpers/checkpoints.js';
import { diffArgs, migrateArgs, runZdm, startZdm } from '../helpers/cli.js';
import { clusterPairFixture, seedRows, setupWrite } from '../helpers/keyspace.js';
import { snapshotDifferences, snapshotTable } from '../helpers/table-snapshot.js';

const KS = 'run_workers';
const STATE_KS = 'zdm_state_workers';
const ROWS = 200_000;
const COUNTER_ROWS = 20_000;
/** Short leases, so the ranges of a killed or stopped worker go to the others within seconds. */
const LEASE_SECONDS = '4';
/** The run's state in Cassandra, with short leases so that a dead worker's ranges are freed soon. */
const CASSANDRA_STATE = [
  '--state-store',
  'cassandra',
  '--state-keyspace',
  STATE_KS,
  '--lease-seconds',
  LEASE_SECONDS,
];

/** The latest run of a job of `table` in a state store, opened through the product's own catalog. */
async function latestRun(
  target: cassandra.Client,
  store: 'cassandra' | 'sqlite',
  job: 'migrate' | 'diff',
  table: string,
  checkpointDir: string,
): Promise<RunState | undefined> {
  const catalog = await runCatalogFor(
    {
      state_store: store,
      state_keyspace: STATE_KS,
      state_replication: undefined,
      checkpoint_dir: checkpointDir,
      lease_seconds: Number(LEASE_SECONDS),
    },
    silentLogger(),
    target,
  );
  return catalog.latest({ job, originTable: table, targetTable: table, options: {} });
}

/** Rows read so far by the latest run of `table` (0 before it exists). */
async function rowsReadSoFar(
  target: cassandra.Client,
  table: string,
  store: 'cassandra' | 'sqlite' = 'cassandra',
  checkpointDir = 'unused',
): Promise<number> {
  const state = await latestRun(target, store, 'migrate', table, checkpointDir).catch(() => undefined);
  if (state === undefined) return 0;
  try {
    return (await state.totals()).counts.rowsRead ?? 0;
  } finally {
    await state.close();
  }
}

/** Flags of every worker run here: its log lines (JSON, with worker pids) and its summary. */
/** A diff report's lines as sorted "kind partition column" keys, to compare reports by. */
function reportKeys(path: string): string[] {
  return readReport(path)
    .map((l) => `${l.kind} ${JSON.stringify(l.key.partition)} ${l.column ?? ''}`)
    .sort();
}

const OBSERVED = ['--concurrency', '2', '--log-level', 'info', '--log-format', 'json', '--json'];

/** Worker pids the parent logged (`started worker N of M`, JSON lines), by worker index. */
function workerPids(stderr: string): Map<number, number> {
  const pids = new Map<number, number>();
  for (const line of stderr.split('\n')) {
    if (!line.includes('started worker')) continue;
    try {
      const entry = JSON.parse(line) as { worker?: number; workerPid?: number };
      if (entry.worker !== undefined && entry.workerPid !== undefined)
        pids.set(entry.worker, entry.workerPid);
    } catch {
      // not a log line
    }
  }
  return pids;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const signal = (pid: number, name: NodeJS.Signals): void => {
  try {
    process.kill(pid, name);
  } catch {
    // already gone (the parent kills a worker that stays hung)
  }
};

/** Awaits a condition checked by an async probe, every 500 ms, failing if `child` ends first. */
async function waitFor(
  what: string,
  probe: () => Promise<boolean>,
  child: import('node:child_process').ChildProcess,
): Promise<void> {
  let met = false;
  const poll = (async () => {
    while (!met) {
      met = await probe().catch(() => false);
      if (!met) await new Promise((r) => setTimeout(r, 500));
    }
  })();
  await waitUntil(what, () => met, { child, timeoutMs: 300_000 });
  await poll;
}

/**
 * Runs `zdm migrate --workers 3` with Cassandra state, SIGKILLs worker 1 and SIGSTOPs worker 2 once
 * `killAfterRows` rows are recorded in the state, and returns the parent's result once it ended
 * (every worker process gone: the test resumes the stopped one if it still exists).
 */
async function migrateWithFaults(
  pair: { origin: Parameters<typeof migrateArgs>[1]; target: Parameters<typeof migrateArgs>[2] },
  target: cassandra.Client,
  table: string,
  killAfterRows: number,
  ...extra: string[]
) {
  const run = startZdm(
    migrateArgs(
      table,
      pair.origin,
      pair.target,
      scratchDir('zdm-workers-'),
      '--workers',
      '3',
      ...CASSANDRA_STATE,
      '--splits',
      '48',
      '--fetch-size',
      '500',
      ...OBSERVED,
      ...extra,
    ),
  );
  await waitFor(
    `three workers started and ${killAfterRows} rows of ${table} recorded in the run state`,
    async () =>
      workerPids(run.output().stderr).size === 3 && (await rowsReadSoFar(target, table)) >= killAfterRows,
    run.child,
  );
  const pids = workerPids(run.output().stderr);
  assert.equal(pids.size, 3, `three workers started:\n${run.output().stderr}`);
  signal(pids.get(1)!, 'SIGKILL');
  signal(pids.get(2)!, 'SIGSTOP');
  const result = await run.done;
  signal(pids.get(2)!, 'SIGCONT');
  // What became of each worker, for the test's output.
  for (const line of result.stderr.split('\n'))
    if (/"msg":"(worker \d|every worker)/.test(line)) console.log(`# ${JSON.parse(line).msg}`);
  await waitUntil('no worker process left', () => ![...pids.values()].some(alive), { timeoutMs: 30_000 });
  return { result, pids };
}

/** Every range of the latest migrate run of `table` is done, and their rowsRead add up to `rows`. */
async function assertEveryRangeDoneOnce(
  target: cassandra.Client,
  table: string,
  rows: number,
): Promise<void> {
  const state = await latestRun(target, 'cassandra', 'migrate', table, 'unused');
  assert.ok(state !== undefined, `a run of ${table} in ${STATE_KS}`);
  try {
    const ranges = await state.ranges();
    assert.deepEqual(
      ranges.filter((r) => r.status !== 'done').map((r) => `${r.id}: ${r.status}`),
      [],
      'every range done',
    );
    const sum = ranges.reduce((total, r) => total + (r.counts.rowsRead ?? 0), 0);
    assert.equal(sum, rows, "the ranges' rowsRead add up to the table's rows: no page counted twice");
  } finally {
    await state.close();
  }
}

describe('several worker processes on one run', () => {
  const pair = clusterPairFixture(KS, [
    `CREATE TABLE ${KS}.t (id int, c int, v text, n bigint, PRIMARY KEY (id, c))`,
    `CREATE TABLE ${KS}.cnt (id int, c int, hits counter, misses counter, PRIMARY KEY (id, c))`,
    `CREATE TABLE ${KS}.d (id int PRIMARY KEY, v text, n int)`,
    `CREATE TABLE ${KS}.s1 (id int PRIMARY KEY, v text)`,
    `CREATE TABLE ${KS}.s2 (id int PRIMARY KEY, v text)`,
    `CREATE TABLE ${KS}.g (id int PRIMARY KEY, v text)`,
  ]);
  // Runs of an earlier execution of this file are not this one's.
  before(() => pair.t.execute(`DROP KEYSPACE IF EXISTS ${STATE_KS}`));

  test('three workers with Cassandra state, one killed and one stopped mid-run: Target equals Origin, every range done once', async () => {
    await seedRows(
      pair.o,
      ROWS,
      `INSERT INTO ${KS}.t (id, c, v, n) VALUES (?, ?, ?, ?) USING TIMESTAMP ? AND TTL ?`,
      (i) => [
        i % 25_000,
        i,
        `value-${i}`,
        BigInt(i) * 1_000_003n,
        BigInt(1_600_000_000_000_000 + i),
        i % 4 === 0 ? 864_000 : 0,
      ],
    );
    const { result } = await migrateWithFaults(pair, pair.t, `${KS}.t`, ROWS / 5);
    assert.equal(result.code, 0, `exit 0:\n${result.stdout}\n${result.stderr.slice(-4000)}`);
    assert.match(result.stderr, /worker 1 killed by SIGKILL/);
    const summary = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    assert.equal(summary['rows read'], ROWS, 'the summary counts the whole run from the state');
    await assertEveryRangeDoneOnce(pair.t, `${KS}.t`, ROWS);
    const [origin, target] = await Promise.all([
      snapshotTable(pair.o, KS, 't'),
      snapshotTable(pair.t, KS, 't'),
    ]);
    assert.equal(origin.size, ROWS);
    // A TTL starts when Target applies the write: under this test's load (three workers, kills, a
    // busy 2-core machine) a batch can wait seconds in Target's queue. README ("What zdm migrate
    // preserves") documents this; zdm diff tolerates 5 s (--ttl-tolerance), and so does this check.
    assert.deepEqual(snapshotDifferences(origin, target, { ttlToleranceS: 5 }).slice(0, 20), []);
  });

  test('counters with three workers, one killed and one stopped mid-run: values exact, no difference added twice', async () => {
    // Increments are not idempotent: each is sent once, never retried.
    const inFlight = new Set<Promise<unknown>>();
    for (let i = 0; i < COUNTER_ROWS; i++) {
      const p = pair.o
        .execute(
          `UPDATE ${KS}.cnt SET hits = hits + ?, misses = misses + ? WHERE id = ? AND c = ?`,
          [BigInt(i * 7 + 1), BigInt(-(i % 13)), i % 2_000, i],
          { prepare: true },
        )
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= 64) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    const { result } = await migrateWithFaults(
      pair,
      pair.t,
      `${KS}.cnt`,
      COUNTER_ROWS / 5,
      '--create-missing-counters',
    );
    assert.equal(result.code, 0, `exit 0:\n${result.stdout}\n${result.stderr.slice(-4000)}`);
    await assertEveryRangeDoneOnce(pair.t, `${KS}.cnt`, COUNTER_ROWS);
    const values = async (client: cassandra.Client) => {
      const out = new Map<string, string>();
      let pageState: string | undefined;
      do {
        const page = await client.execute(`SELECT id, c, hits, misses FROM ${KS}.cnt`, [], {
          prepare: true,
          fetchSize: 2000,
          ...(pageState ? { pageState } : {}),
        });
        for (const row of page.rows) out.set(`${row.id}/${row.c}`, `${row.hits}/${row.misses}`);
        pageState = page.pageState ?? undefined;
      } while (pageState);
      return out;
    };
    const [o, t] = await Promise.all([values(pair.o), values(pair.t)]);
    assert.equal(o.size, COUNTER_ROWS);
    const wrong = [...o]
      .filter(([key, v]) => t.get(key) !== v)
      .map(([key, v]) => `${key}: ${v} vs ${t.get(key)}`);
    assert.deepEqual(wrong.slice(0, 20), [], 'every counter exact on Target');
    assert.equal(t.size, COUNTER_ROWS);
  });

  test('a diff split over two workers (SQLite and Cassandra state) reports exactly what a single-process diff reports', async () => {
    await seedRows(
      pair.o,
      6_000,
      `INSERT INTO ${KS}.d (id, v, n) VALUES (?, ?, ?) USING TIMESTAMP ?`,
      (i) => [i, `v${i}`, i * 3, BigInt(1_600_000_000_000_000 + i)],
    );
    const copied = await runZdm(migrateArgs(`${KS}.d`, pair.origin, pair.target, scratchDir('zdm-dcopy-')));
    assert.equal(copied.code, 0, copied.stderr);
    // Prepared differences: 25 rows missing on Target, 30 with another value, 20 only on Target.
    for (let i = 0; i < 25; i++) await setupWrite(pair.t, `DELETE FROM ${KS}.d WHERE id = ?`, [i * 97]);
    for (let i = 0; i < 30; i++)
      await setupWrite(pair.t, `UPDATE ${KS}.d USING TIMESTAMP ? SET v = ? WHERE id = ?`, [
        BigInt(1_600_000_000_000_000 + 10_000),
        `changed-${i}`,
        i * 89 + 5,
      ]);
    for (let i = 0; i < 20; i++)
      await setupWrite(pair.t, `INSERT INTO ${KS}.d (id, v, n) VALUES (?, ?, ?)`, [100_000 + i, 'extra', i]);

    const diffOf = async (...extra: string[]) => {
      const result = await runZdm(
        diffArgs(
          `${KS}.d`,
          pair.origin,
          pair.target,
          scratchDir('zdm-diffw-'),
          '--splits',
          '24',
          '--recheck-delay-ms',
          '100',
          '--json',
          ...extra,
        ),
      );
      assert.equal(result.code, 1, `differences found:\n${result.stdout}\n${result.stderr.slice(-3000)}`);
      const summary = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
      const lines = reportKeys(String(summary.report));
      return { summary, lines };
    };
    const alone = await diffOf();
    const splitRuns = {
      sqlite: await diffOf('--workers', '2', '--lease-seconds', LEASE_SECONDS),
      cassandra: await diffOf('--workers', '2', ...CASSANDRA_STATE),
    };
    for (const [store, split] of Object.entries(splitRuns)) {
      for (const field of [
        'rows compared',
        'missing',
        'extra',
        'mismatched',
        'differences remaining',
        'ranges done',
      ])
        assert.equal(split.summary[field], alone.summary[field], `${store} state: ${field}`);
      assert.deepEqual(split.lines, alone.lines, `${store} state: the same differences, each reported once`);
    }
    assert.equal(alone.summary.missing, 25);
    assert.equal(alone.summary.extra, 20);
    assert.equal(alone.summary.mismatched, 30);
    assert.equal(alone.lines.length, 75);

    // Two machines: two commands at once, each with a checkpoint directory (so a report file) of its
    // own, sharing one run through the Cassandra state, slowed down (a run-wide rate limit) so both
    // take ranges. Each writes the lines other machines saved into its report when it ends, so the
    // one that ends last holds every difference of the run.
    const machine = (name: string) =>
      startZdm(
        diffArgs(
          `${KS}.d`,
          pair.origin,
          pair.target,
          scratchDir(`zdm-machine-${name}-`),
          '--splits',
          '24',
          '--recheck-delay-ms',
          '100',
          '--json',
          ...CASSANDRA_STATE,
          '--origin-rate-limit',
          '600',
          '--log-level',
          'info',
          '--log-format',
          'json',
        ),
      ).done.then((result) => ({ name, result, endedAt: performance.now() }));
    const ended = (await Promise.all([machine('a'), machine('b')])).sort((x, y) => x.endedAt - y.endedAt);
    const reports = ended.map(({ name, result }) => {
      assert.equal(result.code, 1, `machine ${name}: differences found:\n${result.stderr.slice(-3000)}`);
      const summary = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
      const lines = reportKeys(String(summary.report));
      return { summary, lines, log: result.stderr };
    });
    const [first, last] = reports as [(typeof reports)[0], (typeof reports)[0]];
    assert.equal(first.summary.checkpoint, last.summary.checkpoint, 'both machines worked on one run');
    assert.deepEqual(last.lines, alone.lines, 'the machine that ended last reports every difference');
    for (const line of first.lines) assert.ok(alone.lines.includes(line), `a difference of the run: ${line}`);
    assert.match(
      reports.map((r) => r.log).join(''),
      /report lines other machines found added/,
      'a machine took lines the other found',
    );
  });

  test('two runs of different tables share one state keyspace without interfering', async () => {
    for (const [table, rows] of [
      ['s1', 3_000],
      ['s2', 4_000],
    ] as const)
      await seedRows(pair.o, rows, `INSERT INTO ${KS}.${table} (id, v) VALUES (?, ?)`, (i) => [
        i,
        `${table}-${i}`,
      ]);
    const run = (table: string) =>
      runZdm(
        migrateArgs(
          `${KS}.${table}`,
          pair.origin,
          pair.target,
          scratchDir('zdm-share-'),
          '--workers',
          '2',
          ...CASSANDRA_STATE,
          '--splits',
          '16',
          '--json',
        ),
      );
    const [a, b] = await Promise.all([run('s1'), run('s2')]);
    for (const [result, table, rows] of [
      [a, 's1', 3_000],
      [b, 's2', 4_000],
    ] as const) {
      assert.equal(result.code, 0, `${table}: ${result.stdout}\n${result.stderr.slice(-3000)}`);
      assert.equal(
        (JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>)['rows read'],
        rows,
      );
      await assertEveryRangeDoneOnce(pair.t, `${KS}.${table}`, rows);
      const [o, t] = await Promise.all([snapshotTable(pair.o, KS, table), snapshotTable(pair.t, KS, table)]);
      assert.deepEqual(snapshotDifferences(o, t), []);
    }
  });

  test('SIGTERM on the parent stops every worker after its pages (SQLite state); the same command resumes and completes', async () => {
    const rows = 40_000;
    await seedRows(pair.o, rows, `INSERT INTO ${KS}.g (id, v) VALUES (?, ?)`, (i) => [i, `g-${i}`]);
    const dir = scratchDir('zdm-stop-');
    const args = (...extra: string[]) =>
      migrateArgs(
        `${KS}.g`,
        pair.origin,
        pair.target,
        dir,
        '--workers',
        '2',
        '--splits',
        '32',
        '--fetch-size',
        '200',
        ...OBSERVED,
        ...extra,
      );
    const rowsRead = () => rowsReadSoFar(pair.t, `${KS}.g`, 'sqlite', dir);
    // A run-wide limit keeps the first run going long enough to be stopped in the middle.
    const first = startZdm(args('--origin-rate-limit', '4000'));
    await waitFor(
      'two workers started and 8000 rows recorded',
      async () => workerPids(first.output().stderr).size === 2 && (await rowsRead()) >= 8_000,
      first.child,
    );
    first.child.kill('SIGTERM');
    const stopped = await first.done;
    assert.equal(stopped.code, 130, `interrupted:\n${stopped.stdout}\n${stopped.stderr.slice(-3000)}`);
    const pids = [...workerPids(stopped.stderr).values()];
    assert.match(stopped.stderr, /worker 1 stopped after saving its pages/);
    assert.match(stopped.stderr, /worker 2 stopped after saving its pages/);
    await waitUntil('no worker process left', () => !pids.some(alive), { timeoutMs: 10_000 });
    const partial = await rowsRead();
    assert.ok(partial < rows, `stopped before the end (${partial} rows)`);

    const second = await runZdm(args());
    assert.equal(second.code, 0, `${second.stdout}\n${second.stderr.slice(-3000)}`);
    const state = await latestRun(pair.t, 'sqlite', 'migrate', `${KS}.g`, dir);
    try {
      const ranges = await state!.ranges();
      assert.equal(ranges.filter((r) => r.status !== 'done').length, 0, 'every range done');
      assert.equal(
        ranges.reduce((total, r) => total + (r.counts.rowsRead ?? 0), 0),
        rows,
        'no page counted twice across the stop',
      );
      assert.equal((await state!.run()).sessions, 2, 'one session per command, not per worker');
    } finally {
      await state!.close();
    }
    const [o, t] = await Promise.all([snapshotTable(pair.o, KS, 'g'), snapshotTable(pair.t, KS, 'g')]);
    assert.deepEqual(snapshotDifferences(o, t), []);
  });
});
