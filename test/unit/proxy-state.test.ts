import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CLUSTER_SETTINGS } from '../../src/config/cluster-settings.js';
import { resolveSettings } from '../../src/config/resolve.js';
import { OperatorError } from '../../src/errors.js';
import { PreparedCache } from '../../src/proxy/prepared-cache.js';
import { PROXY_SETTINGS, proxyConfig } from '../../src/proxy/proxy-settings.js';
import { StreamIdPool } from '../../src/proxy/stream-ids.js';
import { monotonicMicros } from '../../src/proxy/timestamps.js';

describe('StreamIdPool', () => {
  test('hands out every id once, then nothing until one is released', () => {
    const pool = new StreamIdPool(3);
    assert.deepEqual([pool.acquire(), pool.acquire(), pool.acquire(), pool.acquire()], [0, 1, 2, undefined]);
    assert.equal(pool.inUse, 3);
    assert.equal(pool.release(1), true);
    assert.equal(pool.release(1), false, 'a duplicate release is ignored');
    assert.equal(pool.release(7), false, 'an id outside the pool is ignored');
    assert.equal(pool.acquire(), 1);
  });
  test('refuses sizes outside the protocol range', () => {
    assert.throws(() => new StreamIdPool(0), RangeError);
    assert.throws(() => new StreamIdPool(40000), RangeError);
  });
});

describe('PreparedCache', () => {
  const id = (n: number) => Buffer.from([n]);
  const entry = (n: number) => ({ targetId: Buffer.from([100 + n]), statement: { kind: 'other' } as const });
  test('drops the least recently used entry beyond its capacity', () => {
    const cache = new PreparedCache(2);
    cache.set(id(1), entry(1));
    cache.set(id(2), entry(2));
    assert.ok(cache.get(id(1)), 'touching 1 makes 2 the oldest');
    cache.set(id(3), entry(3));
    assert.equal(cache.size, 2);
    assert.equal(cache.get(id(2)), undefined);
    assert.deepEqual(cache.get(id(1))?.targetId, Buffer.from([101]));
    assert.deepEqual(cache.get(id(3))?.targetId, Buffer.from([103]));
    assert.equal(cache.misses, 1);
  });
  test('keeps its own copy of the target id', () => {
    const cache = new PreparedCache(1);
    const target = Buffer.from([9]);
    cache.set(id(1), { targetId: target, statement: { kind: 'other' } });
    target[0] = 0;
    assert.deepEqual(cache.get(id(1))?.targetId, Buffer.from([9]));
  });
});

describe('monotonicMicros', () => {
  test('microseconds that never repeat or go back', () => {
    const clock = [1000, 1000, 999, 1001];
    const next = monotonicMicros(() => clock.shift()!);
    assert.deepEqual([next(), next(), next(), next()], [1_000_000n, 1_000_001n, 1_000_002n, 1_001_000n]);
  });
});

describe('proxy settings', () => {
  const spec = { ...PROXY_SETTINGS, ...CLUSTER_SETTINGS };
  const env = { ZDM_ORIGIN_CONTACT_POINTS: '10.0.0.1', ZDM_TARGET_CONTACT_POINTS: '10.0.0.2,10.0.0.3' };
  test('defaults of the original proxy', () => {
    const config = proxyConfig(resolveSettings(spec, { env }));
    assert.equal(config.primary, 'origin');
    assert.equal(config.readMode, 'PRIMARY_ONLY');
    assert.equal(config.listenAddress, 'localhost');
    assert.equal(config.listenPort, 14002);
    assert.equal(config.requestTimeoutMs, 10000);
    assert.equal(config.maxClientConnections, 1000);
    assert.equal(config.maxStreamIds, 2048);
    assert.deepEqual(config.topology, { index: 0, addresses: [], numTokens: 8 });
    assert.deepEqual(config.metrics, { enabled: true, address: 'localhost', port: 14001, prefix: 'zdm' });
    assert.equal(config.heartbeatIntervalMs, 30000);
    assert.equal(config.forwardClientCredentialsToOrigin, false);
    assert.equal(config.replaceDefaultTimestamp, true);
    assert.deepEqual(config.target.contactPoints, ['10.0.0.2', '10.0.0.3']);
  });
  test('limits of the request pipeline: defaults and their environment names', () => {
    const config = proxyConfig(resolveSettings(spec, { env }));
    assert.equal(config.maxFrameBytes, 16 * 1024 * 1024, "Cassandra's native_transport_max_frame_size");
    assert.equal(config.preAuthFrameBytes, 256 * 1024);
    assert.equal(config.handshakeTimeoutMs, 10000);
    assert.equal(config.idleTimeoutMs, 120000, "above the drivers' 30 s heartbeat");
    assert.equal(config.maxInFlightPerConnection, 1024);
    assert.ok(
      config.maxInFlightPerConnection < config.maxStreamIds,
      'the bound is reached before the ids run out',
    );
    const set = proxyConfig(
      resolveSettings(spec, {
        env: {
          ...env,
          ZDM_PROXY_MAX_FRAME_SIZE_BYTES: '1048576',
          ZDM_PROXY_HANDSHAKE_TIMEOUT_MS: '0',
          ZDM_PROXY_IDLE_TIMEOUT_MS: '0',
          ZDM_PROXY_SHUTDOWN_TIMEOUT_MS: '5000',
        },
      }),
    );
    assert.deepEqual(
      [set.maxFrameBytes, set.handshakeTimeoutMs, set.idleTimeoutMs, set.shutdownTimeoutMs],
      [1048576, 0, 0, 5000],
    );
  });
  test('stream ids of both lanes fit in one connection; the pre-authentication limit is the tighter one', () => {
    const values = resolveSettings(spec, {
      env: {
        ...env,
        ZDM_PROXY_MAX_STREAM_IDS: '32768',
        ZDM_PROXY_SECONDARY_READ_STREAM_IDS: '1',
        ZDM_PROXY_MAX_FRAME_SIZE_BYTES: '100000',
        ZDM_PROXY_PREAUTH_MAX_FRAME_SIZE_BYTES: '200000',
      },
    });
    assert.throws(
      () => proxyConfig(values),
      (error: unknown) =>
        error instanceof OperatorError &&
        /ZDM_PROXY_SECONDARY_READ_STREAM_IDS/.test(error.message) &&
        /ZDM_PROXY_PREAUTH_MAX_FRAME_SIZE_BYTES/.test(error.message),
    );
  });
  test('ZDM_* names from the environment, a YAML file underneath', () => {
    const values = resolveSettings(spec, {
      file: { primary_cluster: 'origin', proxy_listen_port: 9000 },
      env: {
        ...env,
        ZDM_PRIMARY_CLUSTER: 'target',
        ZDM_PROXY_TOPOLOGY_ADDRESSES: '10.1.0.1,10.1.0.2',
        ZDM_PROXY_TOPOLOGY_INDEX: '1',
      },
    });
    const config = proxyConfig(values);
    assert.equal(config.primary, 'target');
    assert.equal(config.listenPort, 9000);
    assert.deepEqual(config.topology.addresses, ['10.1.0.1', '10.1.0.2']);
  });
  test('every problem reported at once, naming the variable', () => {
    const values = resolveSettings(spec, {
      env: { ZDM_PROXY_TOPOLOGY_ADDRESSES: '10.1.0.1', ZDM_PROXY_TOPOLOGY_INDEX: '3' },
    });
    assert.throws(
      () => proxyConfig(values),
      (error: unknown) =>
        error instanceof OperatorError &&
        /ZDM_ORIGIN_CONTACT_POINTS/.test(error.message) &&
        /ZDM_TARGET_CONTACT_POINTS/.test(error.message) &&
        /ZDM_PROXY_TOPOLOGY_INDEX/.test(error.message),
    );
  });
  test('topology addresses must be IP addresses: drivers read them from inet columns', () => {
    const values = resolveSettings(spec, {
      env: { ...env, ZDM_PROXY_TOPOLOGY_ADDRESSES: '10.1.0.1,zdm-proxy-1.zdm-proxy-peers,::1' },
    });
    assert.throws(
      () => proxyConfig(values),
      (error: unknown) =>
        error instanceof OperatorError &&
        /ZDM_PROXY_TOPOLOGY_ADDRESSES\) must be IP addresses; resolve zdm-proxy-1.zdm-proxy-peers first/.test(
          error.message,
        ),
    );
  });
  test('bad values are refused with their source', () => {
    assert.throws(
      () => resolveSettings(spec, { env: { ...env, ZDM_PRIMARY_CLUSTER: 'BOTH' } }),
      /primary_cluster \(from environment ZDM_PRIMARY_CLUSTER\)/,
    );
  });
});
