import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { listCheckpointFiles } from '../../src/checkpoint/checkpoint-store.js';
import {
  decideLock,
  type LockDecision,
  type LockHolder,
  runningStatus,
} from '../../src/checkpoint/lock-decision.js';
import { holderPathOf, RunLock } from '../../src/checkpoint/run-lock.js';
import { OperatorError } from '../../src/errors.js';
import { openOrCreateRun, runLockPath } from '../../src/job/job-run.js';
import { silentLogger } from '../../src/log/logger.js';
import { splitRange } from '../../src/ranges/token-ring.js';

const dir = () => mkdtempSync(join(tmpdir(), 'zdm-lock-unit-'));
const here = 'host-a';
const holder = (host: string, pid = 4242): LockHolder => ({ pid, host, since: 1 });

describe('decideLock', () => {
  const alive = () => true;
  const dead = () => false;
  const cases: {
    name: string;
    osLockFree: boolean;
    holder: LockHolder | undefined;
    pidAlive: (pid: number) => boolean;
    expected: LockDecision['kind'];
  }[] = [
    { name: 'never locked', osLockFree: true, holder: undefined, pidAlive: dead, expected: 'acquire' },
    {
      name: 'held, holder known',
      osLockFree: false,
      holder: holder(here),
      pidAlive: alive,
      expected: 'held',
    },
    {
      name: 'held, holder file not written yet',
      osLockFree: false,
      holder: undefined,
      pidAlive: dead,
      expected: 'held',
    },
    {
      name: 'held by this host although the recorded pid died (new holder still writing its file)',
      osLockFree: false,
      holder: holder(here),
      pidAlive: dead,
      expected: 'held',
    },
    {
      name: 'free, holder of this host died (kill -9)',
      osLockFree: true,
      holder: holder(here),
      pidAlive: dead,
      expected: 'take-over',
    },
    {
      name: 'free but the recorded pid lives (locks that do nothing on this file system)',
      osLockFree: true,
      holder: holder(here),
      pidAlive: alive,
      expected: 'held',
    },
    {
      name: 'free, holder of another host: cannot be checked from here',
      osLockFree: true,
      holder: holder('host-b'),
      pidAlive: dead,
      expected: 'other-host',
    },
    {
      name: 'held by another host',
      osLockFree: false,
      holder: holder('host-b'),
      pidAlive: dead,
      expected: 'held',
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.equal(decideLock({ ...c, host: here }).kind, c.expected);
    });
  }

  test('liveness is asked only for holders of this host', () => {
    const asked: number[] = [];
    decideLock({
      osLockFree: true,
      holder: holder('host-b', 7),
      host: here,
      pidAlive: (pid) => asked.push(pid) > 0,
    });
    assert.deepEqual(asked, []);
  });
});

describe('runningStatus (zdm status of a checkpoint that reads running)', () => {
  const cases: [string, LockHolder | undefined, boolean, string][] = [
    ['no holder: its process ended without saving', undefined, false, 'stopped uncleanly (resumable)'],
    ['a living holder of this host', holder(here, 77), true, 'running (pid 77)'],
    ['a dead holder of this host', holder(here, 77), false, 'stopped uncleanly (resumable)'],
    ['a holder of another host', holder('host-b', 77), false, 'running on host-b (pid 77)?'],
  ];
  for (const [name, h, alive, expected] of cases) {
    test(name, () => {
      assert.equal(
        runningStatus(h, here, () => alive),
        expected,
      );
    });
  }
});

/** A logger whose lines land in `lines`, to check what an operator is told. */
function capturingLogger(lines: string[]) {
  return pino(
    { level: 'info' },
    new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    }),
  );
}

/** A pid that certainly belonged to a process of this host and is dead now. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.exit(0)']);
  return child.pid;
}

describe('RunLock on a real file', () => {
  test('a second holder is refused at once, naming pid and host; after release it is free again', () => {
    const path = join(dir(), 'migrate-ks.t.lock');
    const first = RunLock.acquire(path, 'zdm migrate of ks.t', silentLogger());
    const started = Date.now();
    assert.throws(
      () => RunLock.acquire(path, 'zdm migrate of ks.t', silentLogger()),
      (e: unknown) =>
        e instanceof OperatorError &&
        e.code === 'RUN_LOCKED' &&
        e.exitCode === 2 &&
        e.message.includes(`pid ${process.pid} on host ${hostname()}`) &&
        /kill -INT/.test(e.hint ?? ''),
    );
    assert.ok(Date.now() - started < 2000, 'refused without waiting');
    first.release();
    assert.equal(existsSync(holderPathOf(path)), false, 'the holder file goes with the lock');
    RunLock.acquire(path, 'zdm migrate of ks.t', silentLogger()).release();
  });

  test('the lock of a process that died without releasing it is taken over, with a log line', () => {
    const path = join(dir(), 'migrate-ks.t.lock');
    const pid = deadPid();
    writeFileSync(holderPathOf(path), JSON.stringify({ pid, host: hostname(), since: Date.now() }));
    const lines: string[] = [];
    const lock = RunLock.acquire(path, 'zdm migrate of ks.t', capturingLogger(lines));
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, new RegExp(`taking over the lock of zdm migrate of ks.t from pid ${pid}`));
    lock.release();
  });

  test('a lock recorded by another host is refused with the way to force it', () => {
    const path = join(dir(), 'migrate-ks.t.lock');
    writeFileSync(holderPathOf(path), JSON.stringify({ pid: 12, host: 'elsewhere', since: 1 }));
    assert.throws(
      () => RunLock.acquire(path, 'zdm migrate of ks.t', silentLogger()),
      (e: unknown) =>
        e instanceof OperatorError &&
        e.code === 'RUN_LOCKED_OTHER_HOST' &&
        e.message.includes('pid 12 on host elsewhere') &&
        (e.hint ?? '').includes(`delete ${holderPathOf(path)}`),
    );
  });
});

describe('runs under the lock', () => {
  const identity = {
    job: 'migrate' as const,
    originTable: 'ks.t',
    targetTable: 'ks.t',
    options: {},
  };
  const open = (d: string) =>
    openOrCreateRun({
      dir: d,
      identity,
      fresh: false,
      planRanges: () => splitRange(3),
      logger: silentLogger(),
    });

  test('a second open of the same run is refused until the first store closes', async () => {
    const d = dir();
    const first = await open(d);
    await assert.rejects(() => open(d), /Another process is running zdm migrate of ks.t/);
    // The refused attempt created nothing.
    assert.equal(listCheckpointFiles(d).length, 1);
    await first.store.close();
    const again = await open(d);
    assert.equal(again.resumed, true);
    await again.store.close();
  });

  test('another table, or diff of the same table, is another lock', async () => {
    const d = dir();
    assert.notEqual(runLockPath(d, 'migrate', 'ks.t'), runLockPath(d, 'migrate', 'ks.u'));
    assert.notEqual(runLockPath(d, 'migrate', 'ks.t'), runLockPath(d, 'diff', 'ks.t'));
    const a = await open(d);
    const b = await openOrCreateRun({
      dir: d,
      identity: { ...identity, job: 'diff' },
      fresh: false,
      planRanges: () => splitRange(2),
      logger: silentLogger(),
    });
    await a.store.close();
    await b.store.close();
  });

  test('a half-created checkpoint is never listed and is removed by the next run', async () => {
    const d = dir();
    const half = join(d, 'migrate-ks.t-20260101-000000.sqlite.creating');
    writeFileSync(half, 'half a database');
    writeFileSync(`${half}-journal`, 'its journal');
    assert.deepEqual(listCheckpointFiles(d), []);
    const lines: string[] = [];
    const run = await openOrCreateRun({
      dir: d,
      identity,
      fresh: false,
      planRanges: () => splitRange(3),
      logger: capturingLogger(lines),
    });
    assert.equal(run.resumed, false);
    assert.equal((await run.store.ranges()).length, 3);
    await run.store.close();
    assert.ok(lines.some((l) => l.includes('half-created')));
    assert.deepEqual(
      readdirSync(d).filter((f) => f.includes('.creating')),
      [],
    );
  });
});
