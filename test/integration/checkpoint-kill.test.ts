import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { before, describe, test } from 'node:test';
import { CheckpointStore, listCheckpointFiles } from '../../src/checkpoint/checkpoint-store.js';
import type { KillPoint } from '../../src/checkpoint/kill-point.js';
import { runLockPath } from '../../src/job/job-run.js';
import { scratchDir, waitForLockHolder } from '../helpers/checkpoints.js';
import { migrateArgs, runZdm, startZdm } from '../helpers/cli.js';
import { clusterPairFixture, seedRows } from '../helpers/keyspace.js';
import { snapshotDifferences, snapshotTable } from '../helpers/table-snapshot.js';

const KS = 'ck_kill';
const ROWS = 3_000;
const SPLITS = 12;

/** The one checkpoint of `dir`, opened (so it is valid), with what a test wants to know of it. */
function readCheckpoint(dir: string) {
  const files = listCheckpointFiles(dir);
  assert.equal(files.length, 1, `one checkpoint in ${dir}: ${files.join(', ')}`);
  const store = CheckpointStore.open(files[0]!);
  try {
    return { run: store.run(), ranges: store.ranges(), rowsRead: store.totals().counts.rowsRead ?? 0 };
  } finally {
    store.close();
  }
}

describe('checkpoints under kill -9 and concurrent runs', () => {
  const pair = clusterPairFixture(KS, [
    `CREATE TABLE ${KS}.t (id int, c int, v text, PRIMARY KEY (id, c))`,
    `CREATE TABLE ${KS}.slow (id int PRIMARY KEY, v text)`,
  ]);

  before(async () => {
    await seedRows(
      pair.o,
      ROWS,
      `INSERT INTO ${KS}.t (id, c, v) VALUES (?, ?, ?) USING TIMESTAMP ? AND TTL ?`,
      (i) => [i % 300, i, `value-${i}`, BigInt(1_000_000 + i), i % 3 === 0 ? 86_400 : 0],
    );
    await seedRows(pair.o, 5_000, `INSERT INTO ${KS}.slow (id, v) VALUES (?, ?)`, (i) => [i, `v${i}`]);
  });

  test('kill -9 at many points of checkpoint creation and page commits; every rerun resumes, nothing finished is redone', async () => {
    const dir = scratchDir('zdm-killpoints-');
    const args = migrateArgs(
      `${KS}.t`,
      pair.origin,
      pair.target,
      dir,
      '--splits',
      String(SPLITS),
      '--concurrency',
      '2',
      '--fetch-size',
      '50',
      '--log-level',
      'warn',
    );
    /** Runs migrate until it SIGKILLs itself at `point`; fails if it never got there. */
    const killedAt = async (point: KillPoint, n: number) => {
      const result = await runZdm(args, { ZDM_TEST_KILL_AT: `${point}@${n}` });
      assert.equal(
        result.signal,
        'SIGKILL',
        `killed at ${point}@${n}, not ended with ${result.code}: ${result.stdout}${result.stderr}`,
      );
      return result;
    };

    // Creation cut short anywhere before the rename: no checkpoint, and the next run starts cleanly.
    const creation: [KillPoint, number][] = [
      ['create-open', 1],
      ['create-range', 1],
      ['create-range', 7],
      ['create-written', 1],
    ];
    const stderrs: string[] = [];
    for (const [point, n] of creation) {
      stderrs.push((await killedAt(point, n)).stderr);
      assert.deepEqual(listCheckpointFiles(dir), [], `no checkpoint after a kill at ${point}@${n}`);
    }
    // Killed right after the rename: a whole checkpoint, every range pending, no session begun yet.
    stderrs.push((await killedAt('create-renamed', 1)).stderr);
    const created = readCheckpoint(dir);
    assert.equal(created.ranges.length, SPLITS);
    assert.ok(created.ranges.every((r) => r.status === 'pending'));
    assert.equal(created.run.sessions, 0);

    // Page commits and range completions cut short: each rerun resumes the same run.
    const commits: [KillPoint, number][] = [
      ['page-begin', 2],
      ['page-uncommitted', 3],
      ['page-committed', 2],
      ['range-done', 1],
      ['page-uncommitted', 1],
      ['range-done', 2],
      ['page-begin', 4],
    ];
    const doneBefore = new Map<number, { completedAt: number; attempts: number }>();
    for (const [point, n] of commits) {
      stderrs.push((await killedAt(point, n)).stderr);
      const seen = readCheckpoint(dir);
      assert.ok(seen.rowsRead <= ROWS, `rows counted at most once (${seen.rowsRead}) after ${point}@${n}`);
      for (const r of seen.ranges) {
        if (r.status === 'done' && !doneBefore.has(r.id))
          doneBefore.set(r.id, { completedAt: r.completedAt!, attempts: r.attempts });
      }
    }
    assert.ok(doneBefore.size > 0 && doneBefore.size < SPLITS, `some ranges finished (${doneBefore.size})`);

    // zdm status tells a killed run (checkpoint still reads running) from a live one.
    const status = await runZdm(['status', '--checkpoint-dir', dir, '--json']);
    assert.equal(JSON.parse(status.stdout.trim()).status, 'stopped uncleanly (resumable)');

    const final = await runZdm(args);
    assert.equal(final.code, 0, final.stderr);
    const end = readCheckpoint(dir);
    assert.equal(end.run.status, 'completed');
    assert.equal(end.run.sessions, commits.length + 1);
    assert.ok(end.ranges.every((r) => r.status === 'done'));
    for (const [id, was] of doneBefore) {
      const r = end.ranges.find((x) => x.id === id)!;
      assert.equal(r.completedAt, was.completedAt, `range ${id} finished before a kill and was not redone`);
      assert.equal(r.attempts, was.attempts, `range ${id} was not started again`);
    }
    // A page whose commit was cut is copied again (idempotently) but counted once.
    assert.equal(end.rowsRead, ROWS);
    const [a, b] = await Promise.all([snapshotTable(pair.o, KS, 't'), snapshotTable(pair.t, KS, 't')]);
    assert.equal(a.size, ROWS);
    assert.deepEqual(snapshotDifferences(a, b), []);

    // What the operator was told on the way: half-built files removed, dead holders' locks taken over.
    const said = [...stderrs, final.stderr].join('\n');
    assert.match(said, /removed a checkpoint a killed process left half-created/);
    assert.match(said, /taking over the lock of zdm migrate of ck_kill\.t .* from pid \d+/);
  });

  test('a second migrate of the same run is refused at once, naming the holder; the first then finishes', async () => {
    const dir = scratchDir('zdm-lock-');
    // So slow (over 4 minutes for the table) that the first run is surely still running when the
    // second has started and been refused, however loaded the machine; it is stopped below.
    const args = migrateArgs(
      `${KS}.slow`,
      pair.origin,
      pair.target,
      dir,
      '--splits',
      '20',
      '--target-rate-limit',
      '20',
    );
    const first = startZdm(args);
    await waitForLockHolder(runLockPath(dir, 'migrate', `${KS}.slow`), first.child);
    const second = await runZdm(args);
    assert.equal(second.code, 2, second.stderr);
    assert.match(
      second.stderr,
      new RegExp(
        `RUN_LOCKED.*Another process is running zdm migrate of ck_kill\\.slow .*: pid ${first.child.pid} on host ${hostname()}`,
      ),
    );
    assert.match(second.stderr, new RegExp(`kill -INT ${first.child.pid}`));
    const status = await runZdm(['status', '--checkpoint-dir', dir, '--json']);
    assert.equal(JSON.parse(status.stdout.trim()).status, `running (pid ${first.child.pid})`);
    // --fresh must not sidestep the lock by starting a second run beside the first.
    const fresh = await runZdm([...args, '--fresh']);
    assert.equal(fresh.code, 2, fresh.stderr);
    assert.equal(listCheckpointFiles(dir).length, 1);

    first.child.kill('SIGINT');
    const stopped = await first.done;
    assert.equal(stopped.code, 130, stopped.stderr);
    const resumed = await runZdm(args.filter((a) => a !== '20' && a !== '--target-rate-limit'));
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.doesNotMatch(resumed.stderr, /taking over/, 'a stopped run released its lock');
    assert.equal(readCheckpoint(dir).rowsRead, 5_000);
  });
});
