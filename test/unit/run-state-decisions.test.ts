import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defaultStateReplication } from '../../src/checkpoint/cassandra-state-schema.js';
import {
  awaitsLease,
  claimable,
  leaseDeadline,
  leaseTiming,
  leaseValid,
  ownerDead,
} from '../../src/checkpoint/lease.js';
import { decideResume } from '../../src/checkpoint/resume-decision.js';
import type { RangeRecord } from '../../src/checkpoint/run-state.js';
import { cassandraRunningStatus } from '../../src/job/status-command.js';

const timing = leaseTiming(30);
const NOW = 1_000_000;

describe('leaseTiming', () => {
  test('renewal, margin and grace are fixed fractions of the lease', () => {
    assert.deepEqual(timing, {
      leaseMs: 30_000,
      renewEveryMs: 10_000,
      marginMs: 5_000,
      graceMs: 10_000,
      pollMs: 1_000,
    });
    // The holder stops writing half a lease before anyone may claim: margin + grace.
    assert.equal(timing.marginMs + timing.graceMs, timing.leaseMs / 2);
    assert.equal(leaseTiming(3).pollMs, 500);
  });
});

describe('claimable', () => {
  const cases: [string, Pick<RangeRecord, 'status' | 'owner' | 'leaseUntil'>, boolean][] = [
    ['pending', { status: 'pending', owner: undefined, leaseUntil: undefined }, true],
    ['done', { status: 'done', owner: undefined, leaseUntil: undefined }, false],
    [
      'failed (reset at a new session, not claimed)',
      { status: 'failed', owner: undefined, leaseUntil: undefined },
      false,
    ],
    [
      'running without owner (a version-1 checkpoint)',
      { status: 'running', owner: undefined, leaseUntil: undefined },
      true,
    ],
    ['running, lease ahead', { status: 'running', owner: 'w', leaseUntil: NOW + 1 }, false],
    [
      'running, lease just ended (within grace)',
      { status: 'running', owner: 'w', leaseUntil: NOW - 1 },
      false,
    ],
    [
      'running, lease ended exactly grace ago',
      { status: 'running', owner: 'w', leaseUntil: NOW - timing.graceMs },
      false,
    ],
    [
      'running, lease ended more than grace ago',
      { status: 'running', owner: 'w', leaseUntil: NOW - timing.graceMs - 1 },
      true,
    ],
  ];
  for (const [name, range, expected] of cases)
    test(name, () => assert.equal(claimable(range, NOW, timing.graceMs), expected));
});

describe('awaitsLease (a worker with nothing to claim waits for it)', () => {
  const running = { id: 7, status: 'running' as const, owner: 'other', leaseUntil: NOW + 5_000 };
  const cases: [string, Pick<RangeRecord, 'id' | 'status' | 'owner' | 'leaseUntil'>, Set<number>, boolean][] =
    [
      ['another worker holds it under a live lease', running, new Set(), true],
      ['this worker holds it (its own slot finishes it)', running, new Set([7]), false],
      [
        'its lease expired: it is claimable instead',
        { ...running, leaseUntil: NOW - timing.graceMs - 1 },
        new Set(),
        false,
      ],
      ['done', { ...running, status: 'done' }, new Set(), false],
      ['pending', { ...running, status: 'pending' }, new Set(), false],
    ];
  for (const [name, range, held, expected] of cases)
    test(name, () => assert.equal(awaitsLease(range, held, NOW, timing.graceMs), expected));
});

describe('leaseValid and leaseDeadline', () => {
  const sentAt = NOW;
  const deadline = leaseDeadline(sentAt, timing);
  const cases: [string, number, boolean, boolean][] = [
    ['just after the renewal', sentAt + 1, false, true],
    ['just before the deadline', deadline - 1, false, true],
    ['at the deadline (lease minus margin)', deadline, false, false],
    ['woken long after (SIGSTOP)', sentAt + 10 * timing.leaseMs, false, false],
    ['renewal refused by the store', sentAt + 1, true, false],
  ];
  for (const [name, now, lost, expected] of cases)
    test(name, () => assert.equal(leaseValid(deadline, lost, now), expected));
  test('the deadline is measured from the sending of the renewal, minus the margin', () => {
    assert.equal(deadline, sentAt + 25_000);
  });
});

describe('ownerDead (ranges released at once at a new session)', () => {
  const workers = new Map([
    ['here-dead', { host: 'here', pid: 1 }],
    ['here-alive', { host: 'here', pid: 2 }],
    ['there', { host: 'there', pid: 1 }],
  ]);
  const alive = (pid: number) => pid === 2;
  const cases: [string, string | undefined, boolean][] = [
    ['no owner recorded (version-1 checkpoint)', undefined, true],
    ['a worker of this host whose process is gone', 'here-dead', true],
    ['a worker of this host still running', 'here-alive', false],
    ['a worker of another host (cannot be checked)', 'there', false],
    ['an owner not among the workers (it left; its lease expires)', 'unknown', false],
  ];
  for (const [name, owner, expected] of cases)
    test(name, () => assert.equal(ownerDead(owner, workers, 'here', alive), expected));
});

describe('decideResume (which run a job continues)', () => {
  const identity = {
    job: 'migrate' as const,
    originTable: 'ks.t',
    targetTable: 'ks.t',
    options: { where: 'a' },
  };
  const same = JSON.stringify({ where: 'a' });
  const cases: [string, Parameters<typeof decideResume>[0], boolean, ReturnType<typeof decideResume>][] = [
    ['no run yet', undefined, false, { kind: 'create' }],
    ['--fresh over an unfinished run', { status: 'interrupted', options: same }, true, { kind: 'create' }],
    ['--fresh over a completed run', { status: 'completed', options: same }, true, { kind: 'create' }],
    ['completed', { status: 'completed', options: same }, false, { kind: 'completed' }],
    [
      'completed with other options: still nothing to do',
      { status: 'completed', options: '{}' },
      false,
      { kind: 'completed' },
    ],
    ['interrupted, same options', { status: 'interrupted', options: same }, false, { kind: 'resume' }],
    [
      'running (killed, or other workers on it)',
      { status: 'running', options: same },
      false,
      { kind: 'resume' },
    ],
    ['failed ranges left', { status: 'failed', options: same }, false, { kind: 'resume' }],
    [
      'unfinished with other options',
      { status: 'interrupted', options: JSON.stringify({ where: 'b' }) },
      false,
      { kind: 'options-differ', changes: 'where: "b" → "a"' },
    ],
  ];
  for (const [name, latest, fresh, expected] of cases)
    test(name, () => assert.deepEqual(decideResume(latest, identity, fresh), expected));
});

describe('state keyspace replication and the status of a run in Cassandra', () => {
  test('NetworkTopologyStrategy in the local datacenter, at most 3 replicas', () => {
    assert.equal(defaultStateReplication('dc1', 1), "{'class': 'NetworkTopologyStrategy', 'dc1': 1}");
    assert.equal(defaultStateReplication('dc1', 5), "{'class': 'NetworkTopologyStrategy', 'dc1': 3}");
    assert.equal(defaultStateReplication("o'dc", 2), "{'class': 'NetworkTopologyStrategy', 'o''dc': 2}");
  });
  test('running with live heartbeats, or stopped uncleanly without any', () => {
    assert.equal(cassandraRunningStatus([1, 2], 30), 'running (2 workers)');
    assert.equal(cassandraRunningStatus([1, 90], 30), 'running (1 worker)');
    assert.equal(cassandraRunningStatus([90], 30), 'stopped uncleanly (resumable)');
    assert.equal(cassandraRunningStatus([], 30), 'stopped uncleanly (resumable)');
  });
});
