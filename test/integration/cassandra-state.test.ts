import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { CassandraRunCatalog } from '../../src/checkpoint/cassandra-run-catalog.js';
import { ensureStateSchema } from '../../src/checkpoint/cassandra-state-schema.js';
import { leaseTiming } from '../../src/checkpoint/lease.js';
import type { RunIdentity } from '../../src/checkpoint/resume-decision.js';
import { LeaseLost, type RunState } from '../../src/checkpoint/run-state.js';
import { OperatorError } from '../../src/errors.js';
import { openOrCreateRun } from '../../src/job/job-run.js';
import { silentLogger } from '../../src/log/logger.js';
import { splitRange } from '../../src/ranges/token-ring.js';
import { scratchDir, waitUntil } from '../helpers/checkpoints.js';
import { diffArgs, migrateArgs, runZdm, startZdm } from '../helpers/cli.js';
import { clusterPairFixture, seedRows } from '../helpers/keyspace.js';
import { snapshotDifferences, snapshotTable } from '../helpers/table-snapshot.js';

const KS = 'cass_state';
/** The state keyspace of the store-level tests; the job-level test uses the default name's own. */
const STATE = 'zdm_state_it';
const JOB_STATE = 'zdm_state_job_it';
const ROWS = 4_000;
const COUNTER_ROWS = 600;
const TWO_STATE = 'zdm_state_two_it';
const ELSEWHERE_STATE = 'zdm_state_elsewhere_it';

/** Two seconds: short enough for expiry within a test, long enough for LWTs on a loaded machine. */
const timing = leaseTiming(2);
const logger = silentLogger();

const identity = (table: string, options: Record<string, unknown> = {}): RunIdentity => ({
  job: 'migrate',
  originTable: `${KS}.${table}`,
  targetTable: `${KS}.${table}`,
  options,
});

describe('run state in Cassandra', () => {
  const pair = clusterPairFixture(KS, [
    `CREATE TABLE ${KS}.t (id int, c int, v text, PRIMARY KEY (id, c))`,
    `CREATE TABLE ${KS}.counts (id int PRIMARY KEY, hits counter, misses counter)`,
  ]);
  let catalog: CassandraRunCatalog;

  before(async () => {
    for (const ks of [STATE, JOB_STATE, TWO_STATE]) await pair.t.execute(`DROP KEYSPACE IF EXISTS ${ks}`);
    await pair.o.execute(`DROP KEYSPACE IF EXISTS ${ELSEWHERE_STATE}`);
    await ensureStateSchema({ client: pair.t, keyspace: STATE, replication: undefined, logger });
    catalog = new CassandraRunCatalog({ client: pair.t, keyspace: STATE, timing, logger });
    await seedRows(
      pair.o,
      ROWS,
      `INSERT INTO ${KS}.t (id, c, v) VALUES (?, ?, ?) USING TIMESTAMP ? AND TTL ?`,
      (i) => [i % 400, i, `value-${i}`, BigInt(1_000_000 + i), i % 4 === 0 ? 86_400 : 0],
    );
    // Counter increments are not idempotent: sent once each, never retried.
    for (let i = 0; i < COUNTER_ROWS; i++)
      await pair.o.execute(
        `UPDATE ${KS}.counts SET hits = hits + ?, misses = misses + ? WHERE id = ?`,
        [BigInt(i + 1), BigInt(2 * i + 1), i],
        { prepare: true },
      );
  });

  const create = async (table: string, ranges = 4): Promise<RunState> =>
    (
      await openOrCreateRun({
        dir: '',
        identity: identity(table),
        fresh: true,
        planRanges: () => splitRange(ranges),
        logger,
        catalog,
      })
    ).store;

  test('the keyspace was made with the default replication: NetworkTopologyStrategy in the local datacenter', async () => {
    const row = (
      await pair.t.execute('SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?', [STATE])
    ).first();
    const replication = row.get('replication') as Map<string, string>;
    assert.match(String(replication.get('class')), /NetworkTopologyStrategy/);
    assert.equal(replication.get(pair.target.localDataCenter), '1');
  });

  test('two workers: claims never overlap; an expired lease is claimed by the other and resumes from the last saved page; the stale worker gets LeaseLost', async () => {
    const a = await create('t', 3);
    const b = await catalog.open(a.runId); // a second process joins by run id
    const first = (await a.claimRange('A'))!;
    const others = [(await b.claimRange('B'))!, (await b.claimRange('B'))!];
    assert.equal(new Set([first, ...others].map((c) => c.lease.rangeId)).size, 3);
    assert.equal(await b.claimRange('B'), undefined, 'every range is held');
    for (const o of others) await b.finishRange(o.lease, 'done');

    await a.savePage(first.lease, 'page-1', { rowsRead: 7 });
    assert.deepEqual(await a.renewLeases('A', [first.lease]), []);
    assert.equal(await b.claimRange('B'), undefined, 'a renewed lease is not claimable');
    // A stops renewing (killed, or hung): B claims once the lease and its grace have passed.
    const taken = Date.now() + timing.leaseMs + timing.graceMs;
    await waitUntil('the lease and its grace passed', () => Date.now() > taken);
    const second = await b.claimRange('B');
    assert.ok(second, 'the expired range is claimable');
    assert.equal(second.lease.rangeId, first.lease.rangeId);
    assert.equal(second.lease.fence, first.lease.fence + 1);
    assert.equal(second.range.resumeState, 'page-1');
    assert.equal(second.range.counts.rowsRead, 7);
    await assert.rejects(a.savePage(first.lease, 'page-2', { rowsRead: 5 }), LeaseLost);
    await assert.rejects(a.finishRange(first.lease, 'done'), LeaseLost);
    assert.deepEqual(await a.renewLeases('A', [first.lease]), [first.lease]);
    await b.savePage(second.lease, 'page-2', { rowsRead: 5 });
    await b.finishRange(second.lease, 'done');
    const totals = await a.totals();
    assert.deepEqual(totals.byStatus, { pending: 0, running: 0, done: 3, failed: 0 });
    assert.equal(totals.counts.rowsRead, 12, "the stale worker's page was not counted");
    await a.close();
    await b.close();
  });

  test('two runs of different tables share the keyspace without interfering; resume, option mismatch, completion', async () => {
    const t = await create('t', 2);
    const c = await create('counts', 3);
    assert.notEqual(t.runId, c.runId);
    const claimed = [];
    for (let claim = await t.claimRange('W'); claim !== undefined; claim = await t.claimRange('W'))
      claimed.push(claim);
    assert.equal(claimed.length, 2, 'only the ranges of its own run');
    assert.equal((await c.ranges('pending')).length, 3, 'the other run is untouched');
    for (const claim of claimed) await t.finishRange(claim.lease, 'done');
    await t.finishRun('completed');

    const open = (table: string, fresh = false, options: Record<string, unknown> = {}) =>
      openOrCreateRun({
        dir: '',
        identity: identity(table, options),
        fresh,
        planRanges: () => splitRange(2),
        logger,
        catalog,
      });
    const done = await open('t');
    assert.equal(done.alreadyCompleted, true);
    assert.equal(done.store.runId, t.runId);
    const resumed = await open('counts');
    assert.equal(resumed.resumed, true);
    assert.equal(resumed.store.runId, c.runId);
    await assert.rejects(
      open('counts', false, { where: "a = 'b'" }),
      (e: unknown) => e instanceof OperatorError && e.code === 'CHECKPOINT_OPTIONS_DIFFER',
    );
    const fresh = await open('t', true);
    assert.equal(fresh.resumed, false);
    assert.notEqual(fresh.store.runId, t.runId);
    assert.equal((await open('t')).store.runId, fresh.store.runId, 'the new run is the latest');
  });

  test('two processes starting the same run at the same moment end up on one run', async () => {
    const otherCatalog = new CassandraRunCatalog({ client: pair.t, keyspace: STATE, timing, logger });
    const start = (from: CassandraRunCatalog) =>
      openOrCreateRun({
        dir: '',
        identity: identity('race'),
        fresh: false,
        planRanges: () => splitRange(5),
        logger,
        catalog: from,
      });
    const [x, y] = await Promise.all([start(catalog), start(otherCatalog)]);
    assert.equal(x.store.runId, y.store.runId);
    assert.equal((await x.store.ranges()).length, 5);
    const runs = await pair.t.execute(`SELECT run_id, origin_table FROM ${STATE}.runs`);
    assert.equal(
      runs.rows.filter((r) => r.get('origin_table') === `${KS}.race`).length,
      1,
      'the loser removed its copy',
    );
  });

  test('zdm migrate --state-store cassandra: killed with kill -9, resumed, Target equals Origin cell by cell', async () => {
    const dir = scratchDir('zdm-cass-state-');
    const args = migrateArgs(
      `${KS}.t`,
      pair.origin,
      pair.target,
      dir,
      '--state-store',
      'cassandra',
      '--state-keyspace',
      JOB_STATE,
      '--lease-seconds',
      '3',
      '--splits',
      '16',
      '--concurrency',
      '2',
      '--fetch-size',
      '100',
    );
    const killed = await runZdm(args, { ZDM_TEST_KILL_AT: 'range-done@5', ZDM_LOG_LEVEL: 'info' });
    assert.equal(killed.signal, 'SIGKILL', `${killed.stdout}${killed.stderr}`);
    assert.match(killed.stderr, /creating the run state keyspace zdm_state_job_it \(first use\)/);
    const status = async () => {
      const result = await runZdm([
        'status',
        '--state-store',
        'cassandra',
        '--state-keyspace',
        JOB_STATE,
        '--lease-seconds',
        '3',
        '--target-contact-points',
        pair.target.contactPoints.join(','),
        '--target-port',
        String(pair.target.port),
        '--json',
      ]);
      assert.equal(result.code, 0, result.stderr);
      return JSON.parse(result.stdout.trim()) as {
        status: string;
        ranges: string;
        sessions: number;
        rows: number;
        workers: { worker: string; heartbeatAgeS: number; ranges: number[] }[];
      };
    };
    const afterKill = await status();
    // Killed as it marked its 5th range done; the other slot's range end may have been on the wire.
    const doneAtKill = Number(afterKill.ranges.split('/')[0]);
    assert.ok(doneAtKill >= 5 && doneAtKill <= 6 && afterKill.ranges.endsWith('/16'), afterKill.ranges);
    assert.equal(afterKill.workers.length, 1, 'the killed worker is still listed');
    let stale = afterKill;
    for (let waited = 0; stale.status !== 'stopped uncleanly (resumable)'; waited++) {
      assert.ok(waited < 60, `status tells a dead worker apart: ${JSON.stringify(stale)}`);
      await new Promise((r) => setTimeout(r, 500));
      stale = await status();
    }

    const final = await runZdm([...args, '--json']);
    assert.equal(final.code, 0, final.stderr);
    const end = await status();
    assert.equal(end.status, 'completed');
    assert.equal(end.ranges, '16/16');
    assert.equal(end.sessions, 2);
    assert.equal(end.rows, ROWS, 'every row counted once: no page saved twice');
    // The worker of the second session left when it ended; the killed one stays listed (with its
    // heartbeat's age) until its row's TTL.
    assert.deepEqual(
      end.workers.map((w) => w.worker),
      afterKill.workers.map((w) => w.worker),
    );
    const [o, t] = await Promise.all([snapshotTable(pair.o, KS, 't'), snapshotTable(pair.t, KS, 't')]);
    assert.equal(o.size, ROWS);
    assert.deepEqual(snapshotDifferences(o, t), []);
  });

  test('--state-contact-points keeps the run state on another cluster (here Origin), never on Target; zdm status reads it there', async () => {
    const stateFlags = [
      '--state-store',
      'cassandra',
      '--state-keyspace',
      ELSEWHERE_STATE,
      '--state-contact-points',
      pair.origin.contactPoints.join(','),
      '--state-port',
      String(pair.origin.port),
    ];
    const migrated = await runZdm([
      ...migrateArgs(
        `${KS}.t`,
        pair.origin,
        pair.target,
        scratchDir('zdm-state-elsewhere-'),
        '--splits',
        '4',
      ),
      ...stateFlags,
      '--json',
    ]);
    assert.equal(migrated.code, 0, migrated.stderr);
    const keyspaceOn = async (client: typeof pair.o) =>
      (
        await client.execute('SELECT keyspace_name FROM system_schema.keyspaces WHERE keyspace_name = ?', [
          ELSEWHERE_STATE,
        ])
      ).rowLength;
    assert.equal(await keyspaceOn(pair.o), 1, 'the state keyspace is on the state cluster');
    assert.equal(await keyspaceOn(pair.t), 0, 'and not on Target');
    const status = await runZdm(['status', ...stateFlags, '--json']);
    assert.equal(status.code, 0, status.stderr);
    const line = JSON.parse(status.stdout.trim()) as { status: string; ranges: string; rows: number };
    assert.equal(line.status, 'completed');
    assert.equal(line.ranges, '4/4');
    assert.equal(line.rows, ROWS);
    const unreachable = await runZdm([
      'status',
      '--state-store',
      'cassandra',
      '--state-contact-points',
      '127.0.0.254',
      '--state-connection-timeout-ms',
      '2000',
    ]);
    assert.equal(unreachable.code, 2, unreachable.stderr);
    assert.match(unreachable.stderr, /Cannot connect to State cluster at 127\.0\.0\.254/);
  });

  test('two zdm migrate processes on one counter run: one hung (SIGSTOP) past its lease, the other takes its ranges over; every counter exact', async () => {
    const args = (...extra: string[]) =>
      migrateArgs(
        `${KS}.counts`,
        pair.origin,
        pair.target,
        scratchDir('zdm-cass-two-'),
        '--state-store',
        'cassandra',
        '--state-keyspace',
        TWO_STATE,
        '--lease-seconds',
        '3',
        '--splits',
        '12',
        '--concurrency',
        '2',
        '--fetch-size',
        '20',
        '--create-missing-counters',
        ...extra,
      );
    const ranges = async () => {
      const made = await pair.t.execute(
        'SELECT table_name FROM system_schema.tables WHERE keyspace_name = ? AND table_name = ?',
        [TWO_STATE, 'ranges'],
      );
      if (made.rowLength === 0) return []; // the first process has not created the state yet
      const run = (
        await pair.t.execute(
          `SELECT run_id FROM ${TWO_STATE}.latest_runs WHERE job = 'migrate' AND origin_table = ? AND target_table = ?`,
          [`${KS}.counts`, `${KS}.counts`],
        )
      ).first();
      if (run === null) return [];
      return (
        await pair.t.execute(
          `SELECT range_id, status, owner FROM ${TWO_STATE}.ranges WHERE run_id = ? ALLOW FILTERING`,
          [run.get('run_id')],
        )
      ).rows;
    };
    // The first process is slow (rate limited) and is frozen once it holds ranges mid-way.
    const hung = startZdm(args('--target-rate-limit', '40'));
    for (let waited = 0; ; waited += 200) {
      const rows = await ranges();
      const done = rows.filter((r) => r.get('status') === 'done').length;
      const held = rows.filter((r) => r.get('status') === 'running').length;
      if (done >= 1 && held >= 1) break;
      assert.ok(waited < 120_000 && hung.child.exitCode === null, 'the first process got going');
      await new Promise((r) => setTimeout(r, 200));
    }
    hung.child.kill('SIGSTOP');
    try {
      const heldByHung = (await ranges())
        .filter((r) => r.get('status') === 'running')
        .map((r) => r.get('range_id'));
      assert.ok(heldByHung.length > 0);
      // The second process joins the same run (no lock with Cassandra state), waits for the frozen
      // one's leases to expire and finishes every range.
      const second = await runZdm(args('--json'));
      assert.equal(second.code, 0, second.stderr);
      const after = await ranges();
      assert.ok(after.every((r) => r.get('status') === 'done'));
    } finally {
      hung.child.kill('SIGCONT');
    }
    // Woken, the first process finds its leases past their deadline, writes nothing more and ends.
    const first = await hung.done;
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /lease on range lost/);
    const [o, t] = await Promise.all([
      snapshotTable(pair.o, KS, 'counts'),
      snapshotTable(pair.t, KS, 'counts'),
    ]);
    assert.equal(o.size, COUNTER_ROWS);
    assert.deepEqual(snapshotDifferences(o, t), [], 'no counter delta applied twice');
  });

  test('zdm diff --state-store cassandra finds a difference; --rerun <run id> repairs only its ranges; a new diff is clean', async () => {
    // The table was migrated by the test above; a row written to Origin since is missing on Target.
    await pair.o.execute(`INSERT INTO ${KS}.t (id, c, v) VALUES (3, 99999, 'late') USING TIMESTAMP 2000000`);
    const dir = scratchDir('zdm-cass-diff-');
    const diff = (...extra: string[]) =>
      runZdm([
        ...diffArgs(`${KS}.t`, pair.origin, pair.target, dir),
        '--state-store',
        'cassandra',
        '--state-keyspace',
        JOB_STATE,
        '--splits',
        '16',
        '--json',
        ...extra,
      ]);
    const summary = (stdout: string) =>
      JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    const found = await diff();
    assert.equal(found.code, 1, found.stderr);
    const first = summary(found.stdout);
    assert.equal(first.missing, 1);
    assert.equal(first['differences remaining'], 1);
    const runId = String(first.checkpoint).split(' ').at(-1)!;
    assert.match(runId, /^diff-cass_state\.t-/);

    const repaired = await diff('--rerun', runId, '--autocorrect');
    assert.equal(repaired.code, 0, repaired.stderr);
    const repair = summary(repaired.stdout);
    assert.equal(repair.corrected, 1);
    assert.equal(repair['ranges done'], 1, 'only the range with the difference is read again');
    const clean = await diff();
    assert.equal(clean.code, 0, clean.stderr);
    assert.equal(summary(clean.stdout)['rows compared'], ROWS + 1);
  });
});
