import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { closestName, plainMessage, usageErrorLines } from '../../src/cli/usage-failure.js';

describe('closestName', () => {
  const known = ['concurrency', 'checkpoint-dir', 'target-rate-limit', 'json'];
  const cases: [string, string | undefined][] = [
    ['concurency', 'concurrency'],
    ['checkpoint-dri', 'checkpoint-dir'],
    ['target-ratelimit', 'target-rate-limit'],
    ['jsno', 'json'],
    ['x', undefined],
    ['something-else-entirely', undefined],
  ];
  for (const [given, expected] of cases)
    it(`${given} → ${expected ?? 'no suggestion'}`, () => assert.equal(closestName(given, known), expected));
});

describe('usageErrorLines', () => {
  it('names unknown flags once each, in the form typed, with a suggestion', () => {
    assert.deepEqual(
      usageErrorLines(
        'Unknown arguments: concurency, fetch-szie, fetchSzie',
        ['concurrency', 'fetch-size'],
        'zdm migrate',
      ),
      [
        'error [usage]: unknown options: --concurency, --fetch-szie',
        '  did you mean --concurrency?',
        '  did you mean --fetch-size?',
        '  See `zdm migrate --help`.',
      ],
    );
  });
  it('says a command is unknown and a positional is missing in plain words', () => {
    assert.equal(plainMessage('Did you mean migrate?'), 'unknown command. Did you mean migrate?');
    assert.equal(
      plainMessage('Not enough non-option arguments: got 0, need at least 1'),
      'missing argument: the command needs 1, got 0',
    );
    assert.equal(plainMessage('Invalid values'), 'Invalid values');
  });
});
