import type { NewRun } from '../../src/checkpoint/run-state.js';

/** A run of `zdm migrate ks.t` as the checkpoint tests create it directly. */
export const NEW_RUN: NewRun = {
  job: 'migrate',
  originTable: 'ks.t',
  targetTable: 'ks.t',
  options: '{}',
  startedAt: 1,
  runTimestamp: 1000n,
};
