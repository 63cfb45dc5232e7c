import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { CheckpointStore } from '../../src/checkpoint/checkpoint-store.js';
import { leaseTiming } from '../../src/checkpoint/lease.js';
import { LeaseLost } from '../../src/checkpoint/run-state.js';
import { SqliteRunState } from '../../src/checkpoint/sqlite-run-state.js';
import { silentLogger } from '../../src/log/logger.js';
import { runRanges } from '../../src/ranges/range-runner.js';
import { splitRange } from '../../src/ranges/token-ring.js';
import { NEW_RUN } from '../helpers/new-run.js';

/** Short leases so that expiry happens within a test; the decisions are the same at any length. */
const timing = leaseTiming(0.3);
const run = NEW_RUN;

/** Two states on one file: two processes sharing a run. */
function twoWorkers(ranges = 3) {
  const path = join(mkdtempSync(join(tmpdir(), 'zdm-lease-')), 'migrate-ks.t-20260101-000000.sqlite');
  CheckpointStore.create(path, run, splitRange(ranges)).close();
  const open = () => new SqliteRunState(CheckpointStore.open(path), timing);
  return { path, a: open(), b: open() };
}

const until = async (what: string, condition: () => boolean) => {
  for (let waited = 0; !condition(); waited += 10) {
    assert.ok(waited < 10_000, what);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('leases on an SQLite run shared by two workers', () => {
  test('claims never overlap, and nothing is claimable once every range is held', async () => {
    const { a, b } = twoWorkers(3);
    const claims = [await a.claimRange('A'), await b.claimRange('B'), await a.claimRange('A')];
    assert.deepEqual(new Set(claims.map((c) => c?.lease.rangeId)).size, 3);
    assert.equal(await b.claimRange('B'), undefined);
    assert.ok(claims.every((c) => c!.lease.fence === 1 && c!.range.status === 'running'));
    await a.close();
    await b.close();
  });

  test('an expired lease is claimed by the other worker, which resumes from the last saved page; the first then gets LeaseLost', async () => {
    const { a, b } = twoWorkers(1);
    const first = (await a.claimRange('A'))!;
    await a.savePage(first.lease, 'page-2', { rowsRead: 20 });
    // Renewed leases stay A's.
    assert.deepEqual(await a.renewLeases('A', [first.lease]), []);
    assert.equal(await b.claimRange('B'), undefined, 'a live lease is not claimable');
    const expiry = Date.now() + timing.leaseMs + timing.graceMs;
    await until('the lease and its grace passed', () => Date.now() > expiry);
    const second = (await b.claimRange('B'))!;
    assert.equal(second.lease.fence, 2);
    assert.equal(second.range.resumeState, 'page-2');
    assert.equal(second.range.counts.rowsRead, 20);
    // A woke up: every write of its stale lease is refused, and its renewal reports the loss.
    await assert.rejects(a.savePage(first.lease, 'page-3', { rowsRead: 10 }), LeaseLost);
    await assert.rejects(a.finishRange(first.lease, 'done'), LeaseLost);
    await assert.rejects(a.startAttempt(first.lease), LeaseLost);
    assert.deepEqual(await a.renewLeases('A', [first.lease]), [first.lease]);
    await b.savePage(second.lease, 'page-3', { rowsRead: 10 });
    await b.finishRange(second.lease, 'done');
    const [range] = await a.ranges();
    assert.equal(range!.status, 'done');
    assert.equal(range!.counts.rowsRead, 30, 'the stale page was not counted');
    assert.equal(range!.owner, undefined);
    await a.close();
    await b.close();
  });

  test("the range runner waits for a killed worker's lease to expire, then finishes its range from its saved page", async () => {
    const { a, b } = twoWorkers(2);
    // Worker A claims a range, saves a page and "dies" (never renews, never finishes).
    const dead = (await a.claimRange('A'))!;
    await a.savePage(dead.lease, 'half', { rowsRead: 5 });
    const resumedFrom = new Map<number, string | undefined>();
    const outcome = await runRanges({
      store: b,
      worker: async ({ range, commit, assertLease }) => {
        resumedFrom.set(range.id, range.resumeState);
        assertLease();
        await commit(undefined, { rowsRead: 5 });
        return 'done';
      },
      concurrency: 2,
      maxAttempts: 1,
      retryDelayMs: 1,
      stop: new AbortController().signal,
      logger: silentLogger(),
      timing,
    });
    assert.deepEqual(outcome, { done: 2, failed: 0, stopped: false });
    assert.equal(resumedFrom.get(dead.lease.rangeId), 'half');
    const totals = await b.totals();
    assert.equal(totals.byStatus.done, 2);
    assert.equal(totals.counts.rowsRead, 15);
    assert.deepEqual(await b.workers(), [], 'the runner left the run when done');
    await a.close();
    await b.close();
  });

  test('a worker whose lease is taken abandons the range without marking it failed, and waits for the new owner', async () => {
    const { path, a } = twoWorkers(1);
    const warnings: string[] = [];
    const logger = silentLogger();
    logger.warn = ((obj: unknown, msg?: string) => {
      warnings.push(`${msg ?? obj}`);
    }) as typeof logger.warn;
    const asB = (sql: string) => {
      const db = new Database(path);
      db.prepare(sql).run();
      db.close();
    };
    let attempts = 0;
    const running = runRanges({
      store: a,
      worker: async ({ assertLease, commit }) => {
        attempts++;
        // Another worker takes the range behind this one's back (as after a long pause of this one).
        asB(`UPDATE ranges SET owner = 'B', fence = fence + 1, lease_until = ${Date.now() + 60_000}`);
        await until('the renewal noticed the loss', () => {
          try {
            assertLease();
            return false;
          } catch (error) {
            return error instanceof LeaseLost;
          }
        });
        await commit('never', { rowsRead: 1 });
        return 'done';
      },
      concurrency: 1,
      maxAttempts: 3,
      retryDelayMs: 1,
      stop: new AbortController().signal,
      logger,
      timing,
    });
    await until('the range was abandoned', () => warnings.some((w) => w.includes('lease on range lost')));
    const [range] = await a.ranges();
    assert.equal(range!.status, 'running');
    assert.equal(range!.owner, 'B');
    assert.equal(range!.resumeState, undefined, 'the stale page was not saved');
    // The runner is still waiting for B's live lease; B finishes the range, and the runner ends.
    asB(`UPDATE ranges SET status = 'done', owner = NULL, lease_until = NULL`);
    assert.deepEqual(await running, { done: 0, failed: 0, stopped: false });
    assert.equal(attempts, 1, 'not retried');
    await a.close();
  });
});

describe('a range whose last page was saved', () => {
  test('is marked done without being read again when its worker stopped before marking it', async () => {
    const { a } = twoWorkers(1);
    let calls = 0;
    const outcome = await runRanges({
      store: a,
      worker: async ({ commit }) => {
        calls++;
        await commit(undefined, { rowsRead: 9 }); // the last page: no position after it
        throw new Error('killed before the range was marked done');
      },
      concurrency: 1,
      maxAttempts: 2,
      retryDelayMs: 1,
      stop: new AbortController().signal,
      logger: silentLogger(),
      timing,
    });
    assert.deepEqual(outcome, { done: 1, failed: 0, stopped: false });
    assert.equal(calls, 1, 'not read again');
    const [range] = await a.ranges();
    assert.equal(range!.status, 'done');
    assert.equal(range!.counts.rowsRead, 9, 'counted once');
    assert.equal(range!.resumeState, undefined);
    await a.close();
  });
});

describe('version 1 checkpoints', () => {
  test('are upgraded in place: leases added, progress kept', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'zdm-v1-')), 'migrate-ks.t-20260101-000000.sqlite');
    const db = new Database(path);
    db.exec(`
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE run (id INTEGER PRIMARY KEY CHECK (id = 1), job TEXT NOT NULL, origin_table TEXT NOT NULL,
        target_table TEXT NOT NULL, options TEXT NOT NULL, status TEXT NOT NULL, started_at INTEGER NOT NULL,
        ended_at INTEGER, sessions INTEGER NOT NULL, run_timestamp TEXT NOT NULL);
      CREATE TABLE ranges (id INTEGER PRIMARY KEY, start TEXT NOT NULL, "end" TEXT NOT NULL, status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0, counts TEXT NOT NULL DEFAULT '{}', resume_state TEXT,
        last_error TEXT, completed_at INTEGER, updated_at INTEGER);
      CREATE INDEX ranges_status ON ranges (status);
      INSERT INTO meta VALUES ('format', 'zdm-checkpoint'), ('format_version', '1');
      INSERT INTO run VALUES (1, 'migrate', 'ks.t', 'ks.t', '{}', 'running', 5, NULL, 2, '5000');
      INSERT INTO ranges (id, start, "end", status, attempts, counts, resume_state) VALUES
        (1, '-100', '0', 'done', 1, '{"rowsRead":7}', NULL),
        (2, '0', '100', 'running', 2, '{"rowsRead":3}', 'abc');
    `);
    db.close();
    const store = CheckpointStore.open(path);
    const ranges = store.ranges();
    assert.deepEqual(
      ranges.map((r) => [r.id, r.status, r.attempts, r.counts.rowsRead, r.resumeState, r.owner, r.fence]),
      [
        [1, 'done', 1, 7, undefined, undefined, 0],
        [2, 'running', 2, 3, 'abc', undefined, 0],
      ],
    );
    // The range a killed version-1 process left running is claimable at once and resumes.
    const claimed = store.claim('A', Date.now(), timing.leaseMs, timing.graceMs)!;
    assert.equal(claimed.range.id, 2);
    assert.equal(claimed.range.resumeState, 'abc');
    store.close();
    const again = new Database(path, { readonly: true });
    assert.equal(again.prepare(`SELECT value FROM meta WHERE key = 'format_version'`).pluck().get(), '2');
    again.close();
  });
});
