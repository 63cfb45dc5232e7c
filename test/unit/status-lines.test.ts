import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { shownStatus } from '../../src/job/status-command.js';
import { differencesRemaining } from '../../src/validate/differences-remaining.js';

describe('differencesRemaining', () => {
  const cases: [Record<string, number>, number][] = [
    [{}, 0],
    [{ rowsCompared: 10, rowsEqual: 10 }, 0],
    [{ missing: 2, extra: 1, mismatched: 3 }, 6],
    [{ missing: 2, extra: 1, mismatched: 3, corrected: 6 }, 0],
    [{ missing: 2, corrected: 1, superseded: 1, transient: 4 }, 1],
  ];
  for (const [counts, remaining] of cases)
    it(`${JSON.stringify(counts)} → ${remaining}`, () =>
      assert.equal(differencesRemaining(counts), remaining));
});

describe('shownStatus', () => {
  const cases: [string, number | null, string][] = [
    ['completed', null, 'completed'],
    ['completed', 0, 'completed'],
    ['completed', 3, 'completed, differences'],
    ['interrupted', 3, 'interrupted'],
    ['running', null, 'running'],
  ];
  for (const [status, differences, shown] of cases)
    it(`${status} with ${differences} differences → ${shown}`, () =>
      assert.equal(shownStatus(status, differences), shown));
});
