import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { CheckpointStore, listCheckpointFiles } from '../../src/checkpoint/checkpoint-store.js';
import { leaseTiming } from '../../src/checkpoint/lease.js';
import type { RangeLease, RunState } from '../../src/checkpoint/run-state.js';
import type { SqliteRunState } from '../../src/checkpoint/sqlite-run-state.js';
import { OperatorError } from '../../src/errors.js';
import { openOrCreateRun } from '../../src/job/job-run.js';
import { silentLogger } from '../../src/log/logger.js';
import { runRanges } from '../../src/ranges/range-runner.js';
import { splitRange } from '../../src/ranges/token-ring.js';
import { NEW_RUN } from '../helpers/new-run.js';

const dir = () => mkdtempSync(join(tmpdir(), 'zdm-ck-unit-'));
const identity = {
  job: 'migrate' as const,
  originTable: 'ks.t',
  targetTable: 'ks.t',
  options: { where: undefined, skip: [] },
};
const logger = silentLogger();
const timing = leaseTiming(30);
const me = { id: 'host-a/1/aa', host: hostname(), pid: process.pid };

/** A pid no process of this machine has (beyond the kernel's largest). */
const deadPid = () => 2 ** 22 + 1;

/** Claims ranges until range `id` comes (ranges claimed on the way are given back). */
async function claimId(store: RunState, id: number): Promise<RangeLease> {
  const passed: RangeLease[] = [];
  try {
    for (;;) {
      const claimed = await store.claimRange(me.id);
      assert.ok(claimed, `range ${id} is claimable`);
      if (claimed.lease.rangeId === id) return claimed.lease;
      passed.push(claimed.lease);
    }
  } finally {
    for (const lease of passed) await store.finishRange(lease, 'pending');
  }
}

/** Rewrites a range's owner directly in the file (a worker that died holding it). */
function reownRange(d: string, id: number, from: string, to: string): void {
  const db = new Database(listCheckpointFiles(d)[0]!);
  db.prepare('UPDATE ranges SET owner = ? WHERE id = ? AND owner = ?').run(to, id, from);
  db.prepare('UPDATE workers SET id = ? WHERE pid = ?').run(to, deadPid());
  db.close();
}

describe('checkpoint store and run lifecycle', () => {
  test('a new run, then a resume of the same run, then "already completed"', async () => {
    const d = dir();
    const first = await openOrCreateRun({
      dir: d,
      identity,
      fresh: false,
      planRanges: () => splitRange(4),
      logger,
    });
    assert.equal(first.resumed, false);
    await first.store.beginSession();
    await first.store.registerWorker(me);
    const one = await claimId(first.store, 1);
    await first.store.savePage(one, 'abcd', { rowsRead: 10 });
    await first.store.finishRange(await claimId(first.store, 2), 'done');
    // As if killed: range 1 was left running, its owner (this process) registered as a worker. The
    // next session sees a worker of this host whose pid is gone only for a dead pid, so fake one.
    (first.store as SqliteRunState).store.registerWorker({ ...me, pid: deadPid() }, Date.now());
    await first.store.close();
    reownRange(d, 1, me.id, `${me.id}-dead`);

    const second = await openOrCreateRun({
      dir: d,
      identity,
      fresh: false,
      planRanges: () => assert.fail('must not replan'),
      logger,
    });
    assert.equal(second.resumed, true);
    await second.store.beginSession();
    const ranges = await second.store.ranges();
    assert.deepEqual(
      ranges.map((r) => r.status),
      ['pending', 'done', 'pending', 'pending'],
    );
    assert.equal(ranges[0]!.resumeState, 'abcd');
    assert.equal(ranges[0]!.counts.rowsRead, 10);
    assert.equal((await second.store.run()).sessions, 2);
    await second.store.finishRun('completed');
    await second.store.close();

    const third = await openOrCreateRun({ dir: d, identity, fresh: false, planRanges: () => [], logger });
    assert.equal(third.alreadyCompleted, true);
    await third.store.close();
    const fresh = await openOrCreateRun({
      dir: d,
      identity,
      fresh: true,
      planRanges: () => splitRange(2),
      logger,
      now: new Date(Date.now() + 5000),
    });
    assert.equal((await fresh.store.ranges()).length, 2);
    await fresh.store.close();
  });

  test('an unfinished run with other options is refused, naming the change', async () => {
    const d = dir();
    await (
      await openOrCreateRun({
        dir: d,
        identity,
        fresh: false,
        planRanges: () => splitRange(2),
        logger,
      })
    ).store.close();
    await assert.rejects(
      () =>
        openOrCreateRun({
          dir: d,
          identity: { ...identity, options: { where: "a = 'b'", skip: [] } },
          fresh: false,
          planRanges: () => [],
          logger,
        }),
      (e: unknown) =>
        e instanceof OperatorError &&
        e.code === 'CHECKPOINT_OPTIONS_DIFFER' &&
        /where: undefined → "a = 'b'"/.test(e.message),
    );
  });

  test('a corrupt or foreign file is refused and left untouched', async () => {
    const d = dir();
    const garbage = join(d, 'migrate-ks.t-20260101-000000.sqlite');
    writeFileSync(garbage, 'this is not sqlite at all, just text '.repeat(200));
    await assert.rejects(
      () => openOrCreateRun({ dir: d, identity, fresh: false, planRanges: () => [], logger }),
      /CHECKPOINT_INVALID|cannot be used/,
    );
    const foreign = join(dir(), 'other.sqlite');
    const db = new Database(foreign);
    db.exec("CREATE TABLE meta (key TEXT, value TEXT); INSERT INTO meta VALUES ('format', 'something-else')");
    db.close();
    assert.throws(() => CheckpointStore.open(foreign), /not a zdm checkpoint/);
  });
});

describe('checkpoint creation', () => {
  const run = NEW_RUN;

  test('is built under a temporary name: a failure midway leaves nothing behind', () => {
    const d = dir();
    const path = join(d, 'migrate-ks.t-20260101-000000.sqlite');
    const ranges = splitRange(4).map((r, i) =>
      i < 2
        ? r
        : {
            get start(): bigint {
              throw new Error('planner failed');
            },
            end: r.end,
          },
    );
    assert.throws(() => CheckpointStore.create(path, run, ranges), /planner failed/);
    assert.deepEqual(readdirSync(d), []);
  });

  test('appears whole under its name, in WAL mode', () => {
    const d = dir();
    const path = join(d, 'migrate-ks.t-20260101-000000.sqlite');
    const store = CheckpointStore.create(path, run, splitRange(5));
    assert.equal(store.ranges().length, 5);
    store.close();
    assert.deepEqual(
      readdirSync(d).filter((f) => f.includes('.creating')),
      [],
    );
    const db = new Database(path, { readonly: true });
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    db.close();
  });
});

describe('runRanges', () => {
  test('retries a failing range, marks it failed after max attempts, finishes the others', async () => {
    const d = dir();
    const { store } = await openOrCreateRun({
      dir: d,
      identity,
      fresh: false,
      planRanges: () => splitRange(5),
      logger,
    });
    await store.beginSession();
    const calls = new Map<number, number>();
    const outcome = await runRanges({
      store,
      concurrency: 2,
      maxAttempts: 3,
      retryDelayMs: 1,
      stop: new AbortController().signal,
      logger,
      timing,
      worker: async ({ range, commit }) => {
        calls.set(range.id, (calls.get(range.id) ?? 0) + 1);
        if (range.id === 3) throw new Error('target down');
        await commit(undefined, { rowsRead: 1 });
        return 'done';
      },
    });
    assert.deepEqual(outcome, { done: 4, failed: 1, stopped: false });
    assert.equal(calls.get(3), 3);
    const failed = await store.ranges('failed');
    assert.equal(failed.length, 1);
    assert.equal(failed[0]!.lastError, 'target down');
    assert.equal((await store.totals()).counts.rowsRead, 4);
    // The next session retries only the failed range.
    assert.equal(await store.resetFailed(), 1);
    assert.deepEqual(
      (await store.ranges('pending')).map((r) => r.id),
      [3],
    );
    await store.close();
  });

  test('a stop request leaves unfinished ranges pending with their saved position', async () => {
    const { store } = await openOrCreateRun({
      dir: dir(),
      identity,
      fresh: false,
      planRanges: () => splitRange(3),
      logger,
    });
    await store.beginSession();
    const stop = new AbortController();
    const outcome = await runRanges({
      store,
      concurrency: 1,
      maxAttempts: 1,
      retryDelayMs: 1,
      stop: stop.signal,
      logger,
      timing,
      worker: async ({ range, commit, stop: signal }) => {
        await commit(`page-after-${range.id}`, { rowsRead: 1 });
        stop.abort();
        return signal.aborted ? 'stopped' : 'done';
      },
    });
    assert.equal(outcome.stopped, true);
    const ranges = await store.ranges();
    assert.equal(ranges.filter((r) => r.status === 'pending').length, 3);
    assert.equal(ranges.filter((r) => r.resumeState !== undefined).length, 1);
    await store.close();
  });
});
