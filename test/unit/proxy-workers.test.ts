import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveSettings } from '../../src/config/resolve.js';
import { type ClusterHealth, poolHealth } from '../../src/proxy/workers/pool-health.js';
import { type RestartPolicy, restartDecision } from '../../src/proxy/workers/restart-policy.js';
import {
  MAX_WORKERS,
  parseWorkerCount,
  resolveWorkerCount,
  type WorkerCount,
  workerCountSetting,
} from '../../src/proxy/workers/worker-count.js';

describe('parseWorkerCount', () => {
  const accepted: [unknown, WorkerCount][] = [
    ['auto', 'auto'],
    [' AUTO ', 'auto'],
    ['1', 1],
    [' 4 ', 4],
    [2, 2],
    [String(MAX_WORKERS), MAX_WORKERS],
  ];
  for (const [raw, expected] of accepted) {
    test(`${JSON.stringify(raw)} → ${expected}`, () => assert.equal(parseWorkerCount(raw), expected));
  }
  for (const raw of ['0', '-1', '1.5', 'two', '', String(MAX_WORKERS + 1), true, null, ['2']]) {
    test(`${JSON.stringify(raw)} is refused, naming what is accepted`, () =>
      assert.throws(() => parseWorkerCount(raw), /expected auto or a whole number from 1 to 256/));
  }
});

describe('resolveWorkerCount', () => {
  const cases: [WorkerCount, number, number][] = [
    ['auto', 2, 2],
    ['auto', 16, 16],
    // A container may report no CPU at all: one worker still runs.
    ['auto', 0, 1],
    ['auto', 1000, MAX_WORKERS],
    [1, 8, 1],
    [3, 2, 3],
  ];
  for (const [setting, cpus, expected] of cases) {
    test(`${setting} on ${cpus} CPUs → ${expected}`, () =>
      assert.equal(resolveWorkerCount(setting, cpus), expected));
  }
});

describe('ZDM_PROXY_WORKERS', () => {
  const spec = { proxy_workers: workerCountSetting('workers') };
  test('defaults to one per CPU (auto)', () =>
    assert.equal(resolveSettings(spec, { env: {} }).proxy_workers, 'auto'));
  test('auto is accepted', () =>
    assert.equal(resolveSettings(spec, { env: { ZDM_PROXY_WORKERS: 'auto' } }).proxy_workers, 'auto'));
  test('is read from the environment', () =>
    assert.equal(resolveSettings(spec, { env: { ZDM_PROXY_WORKERS: '3' } }).proxy_workers, 3));
  test('a bad value names the variable', () =>
    assert.throws(() => resolveSettings(spec, { env: { ZDM_PROXY_WORKERS: 'many' } }), /PROXY_WORKERS/));
});

describe('restartDecision', () => {
  const policy: RestartPolicy = { maxRestarts: 3, windowMs: 60_000, baseDelayMs: 1000, maxDelayMs: 3000 };
  const now = 1_000_000;
  const cases: [string, number[], ReturnType<typeof restartDecision>][] = [
    ['a first crash restarts at once', [], { kind: 'restart', delayMs: 0 }],
    ['a second within the window waits the base delay', [now - 5000], { kind: 'restart', delayMs: 1000 }],
    ['a third waits twice that', [now - 5000, now - 1000], { kind: 'restart', delayMs: 2000 }],
    [
      'one more than the bound gives up',
      [now - 30_000, now - 5000, now - 1000],
      { kind: 'give-up', crashes: 4 },
    ],
    [
      'crashes older than the window are forgotten',
      [now - 120_000, now - 90_000, now - 61_000],
      { kind: 'restart', delayMs: 0 },
    ],
    ['a crash exactly a window ago is forgotten', [now - 60_000], { kind: 'restart', delayMs: 0 }],
  ];
  for (const [name, earlier, expected] of cases) {
    test(name, () => assert.deepEqual(restartDecision(earlier, now, policy), expected));
  }
  test('the delay is capped', () => {
    const wide = { ...policy, maxRestarts: 10 };
    const earlier = Array.from({ length: 6 }, (_, i) => now - 1000 * (i + 1));
    assert.deepEqual(restartDecision(earlier, now, wide), { kind: 'restart', delayMs: 3000 });
  });
});

describe('poolHealth', () => {
  const up: ClusterHealth = { origin: true, target: true };
  const cases: [string, ClusterHealth[], ClusterHealth][] = [
    ['no worker serving: nothing is up', [], { origin: false, target: false }],
    ['every worker sees both up', [up, up], up],
    [
      'one worker cannot reach Target',
      [up, { origin: true, target: false }],
      { origin: true, target: false },
    ],
    [
      'each worker misses a different cluster',
      [
        { origin: false, target: true },
        { origin: true, target: false },
      ],
      { origin: false, target: false },
    ],
  ];
  for (const [name, workers, expected] of cases) {
    test(name, () => assert.deepEqual(poolHealth(workers), expected));
  }
});
