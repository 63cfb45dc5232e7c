import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type ClientProfile,
  expectedNegotiation,
  type ProxyOffer,
  parseOffer,
} from '../clients/negotiation.js';

describe('parseOffer (SUPPORTED of the proxy)', () => {
  test('keeps released protocol versions and lower-cases compressions', () => {
    const offer = parseOffer(
      new Map([
        ['PROTOCOL_VERSIONS', ['3/v3', '4/v4', '5/v5', '6/v6-beta']],
        ['COMPRESSION', ['LZ4', 'snappy']],
      ]),
    );
    assert.deepEqual(offer, { versions: [3, 4, 5], compressions: ['lz4', 'snappy'] });
  });

  test('an offer without the options is empty', () => {
    assert.deepEqual(parseOffer(new Map()), { versions: [], compressions: [] });
  });
});

describe('expectedNegotiation', () => {
  const today: ProxyOffer = { versions: [3, 4], compressions: [] };
  const full = { versions: [3, 4, 5], compressions: ['lz4', 'snappy'] };
  const v4Compressed = { versions: [3, 4], compressions: ['lz4', 'snappy'] };
  const cases: [string, ClientProfile, ProxyOffer, number, string][] = [
    ['a v5 driver steps down to v4 today', { maxVersion: 5, compression: 'auto' }, today, 4, 'none'],
    ['asking for LZ4 without an offer: none', { maxVersion: 5, compression: 'lz4' }, today, 4, 'none'],
    ['a driver pinned to v3 stays there', { maxVersion: 3, compression: 'none' }, full, 3, 'none'],
    ['v5 and LZ4 once offered', { maxVersion: 5, compression: 'auto' }, full, 5, 'lz4'],
    [
      'v5 compresses with LZ4 only, so Snappy is dropped',
      { maxVersion: 5, compression: 'snappy' },
      full,
      5,
      'none',
    ],
    ['Snappy on v4', { maxVersion: 4, compression: 'snappy' }, v4Compressed, 4, 'snappy'],
    ['auto prefers LZ4', { maxVersion: 4, compression: 'auto' }, v4Compressed, 4, 'lz4'],
    [
      'auto takes Snappy when it is all',
      { maxVersion: 4, compression: 'auto' },
      { versions: [4], compressions: ['snappy'] },
      4,
      'snappy',
    ],
    ['a client that never compresses', { maxVersion: 5, compression: 'none' }, full, 5, 'none'],
  ];
  for (const [title, profile, offer, protocolVersion, compression] of cases) {
    test(title, () => {
      assert.deepEqual(expectedNegotiation(profile, offer), { protocolVersion, compression });
    });
  }

  test('no common version is an error that names both sides', () => {
    assert.throws(
      () =>
        expectedNegotiation({ maxVersion: 3, compression: 'none' }, { versions: [4, 5], compressions: [] }),
      /offers protocol 4\/5; the client speaks up to v3/,
    );
  });
});
