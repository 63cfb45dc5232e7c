import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { prettyByDefault } from '../../src/log/logger.js';

describe('prettyByDefault', () => {
  const cases: [string | undefined, boolean, boolean][] = [
    [undefined, true, true],
    [undefined, false, false],
    ['json', true, false],
    ['JSON', true, false],
    ['pretty', false, true],
    ['text', false, true],
    ['', true, true],
  ];
  for (const [format, terminal, pretty] of cases)
    it(`ZDM_LOG_FORMAT=${format} on ${terminal ? 'a terminal' : 'a pipe'} → ${pretty ? 'pretty' : 'json'}`, () =>
      assert.equal(prettyByDefault(format, terminal), pretty));
});
