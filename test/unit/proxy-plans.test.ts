import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { aggregatePrepare, type PrepareOutcome } from '../../src/proxy/aggregate-response.js';
import { jittered } from '../../src/proxy/cluster-links.js';
import type { RawFrame } from '../../src/proxy/codec/index.js';
import {
  batchWantsTimestamp,
  type ForwardRoute,
  forwardPlan,
  stampsTimestamp,
} from '../../src/proxy/forward-plan.js';
import type { Statement } from '../../src/proxy/statement.js';
import { InFlightRequests, RequestTimeoutError } from '../../src/proxy/stream-ids.js';

describe('aggregatePrepare', () => {
  const cases: [PrepareOutcome, PrepareOutcome, boolean, ReturnType<typeof aggregatePrepare>][] = [
    ['prepared', 'prepared', false, { kind: 'prepared', withTarget: true }],
    ['prepared', 'prepared', true, { kind: 'prepared', withTarget: true }],
    // A read while Origin is primary can live without a Target id (DUAL_ASYNC with Target away).
    ['prepared', 'unavailable', true, { kind: 'prepared', withTarget: false }],
    ['prepared', 'timeout', true, { kind: 'prepared', withTarget: false }],
    ['prepared', 'error', true, { kind: 'prepared', withTarget: false }],
    // Anything else needs both.
    ['prepared', 'error', false, { kind: 'relay', from: 'target' }],
    ['prepared', 'timeout', false, { kind: 'timeout', cluster: 'target' }],
    ['prepared', 'unavailable', false, { kind: 'unavailable', cluster: 'target' }],
    ['error', 'prepared', true, { kind: 'relay', from: 'origin' }],
    ['timeout', 'prepared', false, { kind: 'timeout', cluster: 'origin' }],
    ['unavailable', 'error', false, { kind: 'unavailable', cluster: 'origin' }],
    ['error', 'error', false, { kind: 'relay', from: 'origin' }],
  ];
  for (const [origin, target, alone, expected] of cases) {
    test(`Origin ${origin}, Target ${target}${alone ? ', read on Origin alone' : ''}`, () => {
      assert.deepEqual(aggregatePrepare(origin, target, alone), expected);
    });
  }
});

describe('forwardPlan', () => {
  const route = (to: ForwardRoute['to'], asyncTo: ForwardRoute['asyncTo'], read: boolean): ForwardRoute => ({
    kind: 'forward',
    to,
    asyncTo,
    read,
  });
  const cases: [string, ForwardRoute, boolean | undefined, ReturnType<typeof forwardPlan>][] = [
    [
      'a QUERY write',
      route('both', null, false),
      undefined,
      { kind: 'send', to: 'both', secondary: null, read: false, targetId: false },
    ],
    [
      'an EXECUTE write with both ids',
      route('both', null, false),
      true,
      { kind: 'send', to: 'both', secondary: null, read: false, targetId: true },
    ],
    ['an EXECUTE write without a Target id', route('both', null, false), false, { kind: 'unprepared' }],
    [
      'an EXECUTE read on Origin, copy to Target, with both ids',
      route('origin', 'target', true),
      true,
      { kind: 'send', to: 'origin', secondary: 'target', read: true, targetId: true },
    ],
    [
      'an EXECUTE read on Origin without a Target id: the copy is left out (issue item 6)',
      route('origin', 'target', true),
      false,
      { kind: 'send', to: 'origin', secondary: null, read: true, targetId: false },
    ],
    [
      'an EXECUTE read on Origin alone',
      route('origin', null, true),
      true,
      { kind: 'send', to: 'origin', secondary: null, read: true, targetId: false },
    ],
    [
      'an EXECUTE read on Target without its id',
      route('target', 'origin', true),
      false,
      { kind: 'unprepared' },
    ],
    [
      'a QUERY read on Target, copy to Origin',
      route('target', 'origin', true),
      undefined,
      { kind: 'send', to: 'target', secondary: 'origin', read: true, targetId: false },
    ],
  ];
  for (const [name, r, targetId, expected] of cases) {
    test(name, () => assert.deepEqual(forwardPlan(r, targetId), expected));
  }
});

describe('timestamps', () => {
  const write = (over: Partial<Extract<Statement, { kind: 'write' }>> = {}): Statement => ({
    kind: 'write',
    conditional: false,
    counter: false,
    timestamped: false,
    ...over,
  });
  // A statement's own USING TIMESTAMP wins over the default timestamp anyway, so it is stamped too:
  // only LWT and counter updates are exempt.
  test('only writes sent to both, not LWT or counter', () => {
    assert.equal(stampsTimestamp('both', write(), true), true);
    assert.equal(stampsTimestamp('both', write(), false), false);
    assert.equal(stampsTimestamp('origin', write(), true), false);
    assert.equal(stampsTimestamp('both', write({ conditional: true }), true), false);
    assert.equal(stampsTimestamp('both', write({ counter: true }), true), false);
    assert.equal(stampsTimestamp('both', write({ timestamped: true }), true), true);
    assert.equal(stampsTimestamp('both', write({ counter: 'bind-marker' }), true), false);
    assert.equal(stampsTimestamp('both', null, true), false);
  });
  test('a BATCH only when no child objects and it is not a COUNTER batch', () => {
    assert.equal(batchWantsTimestamp(false, [write(), write()]), true);
    assert.equal(batchWantsTimestamp(true, [write()]), false);
    assert.equal(batchWantsTimestamp(false, [write(), write({ conditional: true })]), false);
  });
});

test('reconnect delays are jittered between half and all of the backoff', () => {
  assert.equal(jittered(1000, 0), 500);
  assert.equal(jittered(1000, 1), 1000);
  assert.equal(jittered(1000, 0.5), 750);
});

describe('InFlightRequests', () => {
  const frame = (id: number) => ({ header: { streamId: id } }) as unknown as RawFrame;
  test('an answered id is free again at once; a late or unknown answer finds no waiter', () => {
    const lane = new InFlightRequests(2, 0, 1000, () => 'test');
    const got: unknown[] = [];
    const a = lane.add((r) => got.push(r))!;
    const b = lane.add((r) => got.push(r))!;
    assert.equal(
      lane.add(() => undefined),
      undefined,
      'full',
    );
    lane.settle(a)?.(frame(a));
    assert.equal(lane.inUse, 1);
    assert.equal(lane.settle(a), undefined, 'a duplicate answer is dropped');
    assert.equal(lane.settle(99), undefined, 'an id outside the lane is dropped');
    lane.close(new Error('closed'));
    assert.equal(got.length, 2);
    assert.match(String((got[1] as Error).message), /closed/);
    assert.equal(b, 1);
  });

  test('a request past its deadline gets RequestTimeoutError; its id comes back after a late answer', async () => {
    const lane = new InFlightRequests(1, 100, 30, () => 'origin 127.0.0.1:9042');
    const result = await new Promise<unknown>((resolve) => lane.add(resolve));
    assert.ok(result instanceof RequestTimeoutError);
    assert.match((result as Error).message, /origin 127\.0\.0\.1:9042 did not answer within 30 ms/);
    assert.equal(lane.orphans, 1);
    assert.equal(
      lane.add(() => undefined),
      undefined,
      'held back: a late answer must not meet a new request',
    );
    assert.equal(lane.settle(100), undefined, 'the late answer is dropped...');
    assert.equal(lane.inUse, 0, '...and frees the id');
    lane.close(new Error('done'));
  });

  test('a timed-out id whose answer never comes is freed after one more timeout period', async () => {
    const lane = new InFlightRequests(1, 0, 20, () => 'x');
    await new Promise<unknown>((resolve) => lane.add(resolve));
    assert.equal(lane.inUse, 1);
    while (lane.inUse > 0) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(lane.orphans, 0);
    assert.equal(
      lane.add(() => undefined),
      0,
    );
    lane.close(new Error('done'));
  });

  test('deadlines keep their order across many requests', async () => {
    const lane = new InFlightRequests(64, 0, 20, () => 'x');
    let timedOut = 0;
    let answered = 0;
    for (let i = 0; i < 64; i++)
      lane.add((r) => {
        if (r instanceof RequestTimeoutError) timedOut++;
        else answered++;
      });
    for (let id = 0; id < 64; id += 2) lane.settle(id)?.(frame(id));
    while (timedOut + answered < 64) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.deepEqual({ timedOut, answered }, { timedOut: 32, answered: 32 });
    lane.close(new Error('done'));
  });
});
