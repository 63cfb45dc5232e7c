import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatEta } from '../../src/job/progress.js';

describe('formatEta', () => {
  const cases: [number | undefined, string][] = [
    [undefined, '--'],
    [Number.POSITIVE_INFINITY, '--'],
    [Number.NaN, '--'],
    [-1, '--'],
    [0, '0s'],
    [12.4, '12s'],
    [245, '4m05s'],
    [3720, '1h02m'],
    [90_000, '25h00m'],
  ];
  for (const [seconds, shown] of cases)
    it(`${seconds} s → ${shown}`, () => assert.equal(formatEta(seconds), shown));
});
