import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { consecutiveAddresses, resolveClusterOptions } from '../../src/cluster/cluster-options.js';
import { OperatorError } from '../../src/errors.js';

describe('resolveClusterOptions', () => {
  test('defaults', () => {
    const resolved = resolveClusterOptions({ name: 'origin' }, '/work');
    assert.deepEqual(resolved, {
      name: 'origin',
      dir: '/work/.zdm/clusters/origin',
      addresses: ['127.0.0.2'],
      nativePort: 9042,
      storagePort: 7000,
      heapMb: 1024,
      authenticator: 'none',
      numTokens: 16,
      detached: false,
      reset: false,
      startTimeoutMs: 180_000,
      stopGraceMs: 15_000,
      allowOlderProtocols: true,
    });
  });

  test('explicit values', () => {
    const resolved = resolveClusterOptions(
      { name: 'big', nodes: 3, firstAddress: '127.0.0.10', baseDir: '/tmp/c', authenticator: 'password' },
      '/work',
    );
    assert.equal(resolved.dir, '/tmp/c/big');
    assert.deepEqual(resolved.addresses, ['127.0.0.10', '127.0.0.11', '127.0.0.12']);
    assert.equal(resolved.authenticator, 'password');
  });

  const invalid: Array<[string, Parameters<typeof resolveClusterOptions>[0]]> = [
    ['name with a slash', { name: '../etc' }],
    ['empty name', { name: '' }],
    ['zero nodes', { name: 'a', nodes: 0 }],
    ['fractional nodes', { name: 'a', nodes: 1.5 }],
    ['port out of range', { name: 'a', nativePort: 70000 }],
    ['same ports', { name: 'a', nativePort: 7000 }],
    ['tiny heap', { name: 'a', heapMb: 64 }],
    ['non-loopback address', { name: 'a', firstAddress: '10.0.0.1' }],
    ['bad authenticator', { name: 'a', authenticator: 'ldap' as 'none' }],
  ];
  for (const [what, options] of invalid) {
    test(`rejects ${what}`, () => {
      assert.throws(
        () => resolveClusterOptions(options, '/work'),
        (error: unknown) => error instanceof OperatorError && error.code === 'CLUSTER_OPTIONS_INVALID',
      );
    });
  }
});

describe('consecutiveAddresses', () => {
  test('increments the last octet', () => {
    assert.deepEqual(consecutiveAddresses('127.0.0.2', 2), ['127.0.0.2', '127.0.0.3']);
    assert.deepEqual(consecutiveAddresses('127.1.2.250', 5), [
      '127.1.2.250',
      '127.1.2.251',
      '127.1.2.252',
      '127.1.2.253',
      '127.1.2.254',
    ]);
  });

  test('refuses to run past .254 or malformed input', () => {
    assert.throws(() => consecutiveAddresses('127.0.0.253', 3));
    assert.throws(() => consecutiveAddresses('127.0.0', 1));
    assert.throws(() => consecutiveAddresses('127.0.0.256', 1));
  });
});
