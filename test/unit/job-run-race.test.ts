import assert from 'node:assert/strict';
import { test } from 'node:test';
import { optionsJson, type RunIdentity } from '../../src/checkpoint/resume-decision.js';
import type { Created, RunCatalog } from '../../src/checkpoint/run-catalog.js';
import type { RunState } from '../../src/checkpoint/run-state.js';
import { openOrCreateRun } from '../../src/job/job-run.js';
import { silentLogger } from '../../src/log/logger.js';

/**
 * Two processes asked for a fresh run at the same moment (two machines of a diff started together
 * after a completed one): the one whose run lost the race to be published joins the winner's run,
 * never replaces it with another fresh one.
 */
test('a fresh run that lost the race to be published joins the winner', async () => {
  const identity: RunIdentity = { job: 'diff', originTable: 'ks.t', targetTable: 'ks.t', options: {} };
  const winner = {
    location: 'winner',
    run: async () => ({ status: 'running', options: optionsJson(identity.options) }),
    close: async () => undefined,
  } as unknown as RunState;
  let creates = 0;
  const catalog: RunCatalog = {
    where: 'memory',
    exclude: async () => () => undefined,
    cleanUnfinished: async () => [],
    latest: async () => winner,
    open: async () => winner,
    // The first create loses the race; a second one (the mistake) would publish a run of its own.
    create: async (): Promise<Created> => {
      creates++;
      return creates === 1
        ? { kind: 'raced' }
        : { kind: 'created', state: { location: 'replacement' } as RunState };
    },
    releaseOnClose: () => undefined,
  };
  const opened = await openOrCreateRun({
    dir: 'unused',
    identity,
    fresh: true,
    planRanges: () => [],
    logger: silentLogger(),
    catalog,
  });
  assert.equal(creates, 1, 'one attempt to create, then the winner is joined');
  assert.equal(opened.store, winner);
  assert.equal(opened.resumed, true);
});
