import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { leaseTiming } from '../../src/checkpoint/lease.js';
import type { RunState, RunTotals } from '../../src/checkpoint/run-state.js';
import { OperatorError } from '../../src/errors.js';
import { joinMismatch } from '../../src/job/worker-join.js';
import { countsAdded, describeWorkerExit, nothingLeft, workersOutcome } from '../../src/job/worker-parent.js';
import { parseWorkerLine } from '../../src/job/worker-processes.js';
import { joinOrderText, workerRole } from '../../src/job/worker-role.js';
import { liveWorkerCount, rateShare, WorkerShare } from '../../src/job/worker-share.js';
import { silentLogger } from '../../src/log/logger.js';
import { RateLimiter } from '../../src/ranges/rate-limiter.js';

describe('workerRole', () => {
  const order = { runId: 'migrate-ks.t-20260101-000000', table: 'ks.t', index: 2, workers: 3 };
  const cases: [string, number, string | undefined, unknown][] = [
    ['one worker: alone', 1, undefined, { kind: 'alone' }],
    ['several: the parent', 4, undefined, { kind: 'parent', workers: 4 }],
    ['an empty join order is none', 4, '', { kind: 'parent', workers: 4 }],
    [
      'a join order makes a worker, whatever --workers says',
      4,
      joinOrderText(order),
      { kind: 'child', ...order },
    ],
  ];
  for (const [name, workers, env, expected] of cases)
    it(name, () => assert.deepEqual(workerRole(workers, env), expected));
  for (const bad of ['{', '{"runId":"x"}', '{"runId":"x","table":"ks.t","index":1,"workers":0}'])
    it(`refuses a malformed join order ${bad}`, () =>
      assert.throws(
        () => workerRole(1, bad),
        (e) => e instanceof OperatorError && e.code === 'BAD_JOIN_ORDER',
      ));
});

describe('rate shares', () => {
  const now = 100_000;
  it('counts workers whose heartbeat is within a lease', () => {
    assert.equal(
      liveWorkerCount(
        [{ heartbeat: now - 1 }, { heartbeat: now - 4_999 }, { heartbeat: now - 5_000 }],
        now,
        5_000,
      ),
      2,
    );
    assert.equal(liveWorkerCount([], now, 5_000), 0);
  });
  const shares: [number, number, number][] = [
    [1000, 4, 250],
    [1000, 1, 1000],
    [1000, 0, 1000],
    [0, 3, 0],
  ];
  for (const [total, workers, share] of shares)
    it(`${total}/s over ${workers} live workers → ${share}/s each`, () =>
      assert.equal(rateShare(total, workers), share));

  it('a share starts at the limit divided by the workers started', async () => {
    let clock = 0;
    const slept: number[] = [];
    const limiter = new RateLimiter(
      100,
      () => clock,
      async (ms) => {
        slept.push(ms);
        clock += ms;
      },
    );
    await limiter.acquire(100);
    limiter.setRate(10);
    await limiter.acquire(10);
    // The bucket held nothing after the first 100 units: 10 units at 10/s wait one second.
    assert.deepEqual(slept, [1000]);
    assert.equal(new WorkerShare(4).liveWorkers, 4);
  });

  it("follows the run's live workers: each limiter takes its share as workers come and go", async () => {
    const share = new WorkerShare(2);
    const reads = share.limiter(1000);
    let live = 4;
    const store = {
      workers: async () =>
        Array.from({ length: 6 }, (_, i) => ({ heartbeat: i < live ? Date.now() : Date.now() - 60_000 })),
    } as unknown as RunState;
    const stop = share.follow(store, leaseTiming(0.3), silentLogger());
    try {
      const until = async (workers: number) => {
        for (let waited = 0; share.liveWorkers !== workers; waited += 10) {
          assert.ok(waited < 10_000, `${workers} live workers counted`);
          await new Promise((r) => setTimeout(r, 10));
        }
      };
      assert.equal(reads.rate, 500, 'the limit divided by the workers started, until counted');
      await until(4);
      assert.equal(reads.rate, 250);
      live = 1;
      await until(1);
      assert.equal(reads.rate, 1000);
    } finally {
      stop();
    }
  });
});

describe('a parent of workers', () => {
  const totals = (done: number, failed: number, pending: number, running: number, rows = 0): RunTotals => ({
    counts: { rowsRead: rows },
    byStatus: { done, failed, pending, running },
  });
  it('tells normal ends of workers from deaths', () => {
    assert.deepEqual(describeWorkerExit({ code: 0, signal: null }).normal, true);
    assert.deepEqual(describeWorkerExit({ code: 130, signal: null }).normal, true);
    assert.deepEqual(describeWorkerExit({ code: 1, signal: null }).normal, true);
    assert.deepEqual(describeWorkerExit({ code: 2, signal: null }), {
      normal: false,
      text: 'exited with code 2',
    });
    assert.deepEqual(describeWorkerExit({ code: null, signal: 'SIGKILL' }), {
      normal: false,
      text: 'killed by SIGKILL',
    });
  });
  const outcomes: [string, RunTotals, boolean, unknown][] = [
    ['all done', totals(10, 0, 0, 0), false, { done: 8, failed: 0, stopped: false, unfinished: 0 }],
    ['failed ranges', totals(9, 1, 0, 0), false, { done: 7, failed: 1, stopped: false, unfinished: 0 }],
    [
      'stopped with ranges left',
      totals(5, 0, 4, 1),
      true,
      { done: 3, failed: 0, stopped: true, unfinished: 5 },
    ],
    [
      'stopped after the last range: completed',
      totals(10, 0, 0, 0),
      true,
      { done: 8, failed: 0, stopped: false, unfinished: 0 },
    ],
    [
      'every worker died: the ranges left count as failed',
      totals(5, 0, 4, 1),
      false,
      { done: 3, failed: 5, stopped: false, unfinished: 5 },
    ],
  ];
  for (const [name, end, stopAsked, expected] of outcomes)
    it(name, () => assert.deepEqual(workersOutcome(totals(2, 0, 8, 0), end, stopAsked), expected));
  it('sees when nothing is left to work', () => {
    assert.equal(nothingLeft(totals(9, 1, 0, 0)), true);
    assert.equal(nothingLeft(totals(9, 0, 0, 1)), false);
    assert.equal(nothingLeft(totals(9, 0, 1, 0)), false);
  });
  it('adds to its metrics what the workers added', () =>
    assert.deepEqual(
      countsAdded({ rowsRead: 10, rowsWritten: 5 }, { rowsRead: 25, rowsWritten: 5, rowsSkipped: 1 }),
      {
        rowsRead: 15,
        rowsSkipped: 1,
      },
    ));
});

describe("a worker's log line, logged again by its parent", () => {
  it('keeps level, message and fields of a pino line, without time, pid and host', () =>
    assert.deepEqual(
      parseWorkerLine('{"level":40,"time":1,"pid":7,"hostname":"h","range":3,"msg":"range attempt failed"}'),
      { level: 'warn', msg: 'range attempt failed', fields: { range: 3 } },
    ));
  it('passes any other text on as a warning', () =>
    assert.deepEqual(parseWorkerLine('Segmentation fault'), {
      level: 'warn',
      msg: 'Segmentation fault',
      fields: {},
    }));
});

describe('joining a run', () => {
  const run = { job: 'migrate', originTable: 'ks.t', targetTable: 'ks.t', options: '{"where":null}' };
  const identity = {
    job: 'migrate' as const,
    originTable: 'ks.t',
    targetTable: 'ks.t',
    options: { where: null },
  };
  it('joins the run of the same job, tables and options', () =>
    assert.deepEqual(joinMismatch(run, identity), []));
  it('names each difference', () =>
    assert.equal(
      joinMismatch({ ...run, job: 'diff', targetTable: 'ks.u', options: '{}' }, identity).length,
      3,
    ));
});
