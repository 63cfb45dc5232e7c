import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import {
  CASSANDRA_MAIN_CLASS,
  cassandraYaml,
  clusterMarkerArg,
  logbackXml,
  type NodeConfigInput,
  nodeJvmArgs,
  nodeLayout,
} from '../../src/cluster/node-config.js';

const input: NodeConfigInput = {
  clusterName: 'origin',
  clusterDir: '/tmp/zdm/clusters/origin',
  nodeDir: '/tmp/zdm/clusters/origin/node2',
  address: '127.0.0.3',
  seeds: ['127.0.0.2'],
  nativePort: 9042,
  storagePort: 7000,
  numTokens: 16,
  authenticator: 'none',
  heapMb: 1024,
  libDir: '/cache/cassandra-5.0.9/lib',
};

describe('cassandraYaml', () => {
  const config = parse(cassandraYaml(input)) as Record<string, unknown>;

  test('addresses, ports and cluster identity', () => {
    assert.equal(config.cluster_name, 'origin');
    assert.equal(config.listen_address, '127.0.0.3');
    assert.equal(config.rpc_address, '127.0.0.3');
    assert.equal(config.storage_port, 7000);
    assert.equal(config.native_transport_port, 9042);
    assert.equal(config.num_tokens, 16);
    assert.equal(config.partitioner, 'org.apache.cassandra.dht.Murmur3Partitioner');
    assert.equal(config.endpoint_snitch, 'SimpleSnitch');
    assert.equal(config.auto_bootstrap, false);
  });

  test('seeds carry the storage port', () => {
    assert.deepEqual(config.seed_provider, [
      {
        class_name: 'org.apache.cassandra.locator.SimpleSeedProvider',
        parameters: [{ seeds: '127.0.0.2:7000' }],
      },
    ]);
    const two = parse(cassandraYaml({ ...input, seeds: ['127.0.0.10', '127.0.0.11'], storagePort: 7100 }));
    assert.equal(two.seed_provider[0].parameters[0].seeds, '127.0.0.10:7100,127.0.0.11:7100');
  });

  test('every directory lives under the node directory', () => {
    assert.deepEqual(config.data_file_directories, ['/tmp/zdm/clusters/origin/node2/data']);
    for (const key of [
      'commitlog_directory',
      'saved_caches_directory',
      'hints_directory',
      'cdc_raw_directory',
    ]) {
      assert.match(String(config[key]), /^\/tmp\/zdm\/clusters\/origin\/node2\//, key);
    }
  });

  test('authenticator', () => {
    assert.equal(config.authenticator, 'AllowAllAuthenticator');
    const secured = parse(cassandraYaml({ ...input, authenticator: 'password' }));
    assert.equal(secured.authenticator, 'PasswordAuthenticator');
    assert.equal(secured.authorizer, 'CassandraAuthorizer');
  });

  test('stock data limits: nothing that bounds batches, tombstones, values, mutations or frames is set', () => {
    const limits = Object.keys(config).filter((key) =>
      /batch|tombstone|max_value|mutation|frame|commitlog_segment|threshold|guardrail|_fail|_warn/.test(key),
    );
    assert.deepEqual(limits, []);
  });

  test('only timeouts are raised for a busy 2-core machine', () => {
    assert.equal(config.write_request_timeout, '10000ms');
    assert.equal(config.read_request_timeout, '10000ms');
    assert.equal(config.range_request_timeout, '20000ms');
    assert.equal(config.commitlog_sync, 'periodic');
    assert.equal(config.commitlog_sync_period, '10000ms');
  });

  test('paths needing YAML quoting survive', () => {
    const odd = parse(cassandraYaml({ ...input, nodeDir: '/tmp/a: b #c/node1' }));
    assert.deepEqual(odd.data_file_directories, ['/tmp/a: b #c/node1/data']);
  });
});

describe('nodeJvmArgs', () => {
  const args = nodeJvmArgs(input);

  test('fixed heap and the stray-sweep marker', () => {
    assert.ok(args.includes('-Xms1024m'));
    assert.ok(args.includes('-Xmx1024m'));
    assert.ok(args.includes(clusterMarkerArg('/tmp/zdm/clusters/origin')));
    assert.equal(clusterMarkerArg('/x'), '-Dzdm.cluster.dir=/x');
  });

  test('config, logs and temp files point into the node directory', () => {
    assert.ok(args.includes('-Dcassandra.config=file:///tmp/zdm/clusters/origin/node2/conf/cassandra.yaml'));
    assert.ok(
      args.includes('-Dlogback.configurationFile=file:///tmp/zdm/clusters/origin/node2/conf/logback.xml'),
    );
    assert.ok(args.includes('-Dcassandra.storagedir=/tmp/zdm/clusters/origin/node2'));
    assert.ok(args.includes('-Dcassandra.logdir=/tmp/zdm/clusters/origin/node2/logs'));
    assert.ok(args.includes('-Djava.io.tmpdir=/tmp/zdm/clusters/origin/node2/tmp'));
    assert.ok(args.includes('-Dcassandra-foreground=yes'));
    assert.ok(args.includes('-Dcassandra.superuser_setup_delay_ms=500'));
  });

  test('JDK 17 module options come in flag/value pairs', () => {
    const exportsAt = args.flatMap((arg, i) => (arg === '--add-exports' ? [args[i + 1]] : []));
    const opensAt = args.flatMap((arg, i) => (arg === '--add-opens' ? [args[i + 1]] : []));
    assert.equal(exportsAt.length, 9);
    assert.equal(opensAt.length, 16);
    assert.ok(exportsAt.includes('java.base/jdk.internal.misc=ALL-UNNAMED'));
    assert.ok(opensAt.includes('java.base/sun.nio.ch=ALL-UNNAMED'));
  });

  test('classpath and main class come last', () => {
    assert.deepEqual(args.slice(-3), ['-cp', '/cache/cassandra-5.0.9/lib/*', CASSANDRA_MAIN_CLASS]);
  });
});

describe('logbackXml', () => {
  test('one file appender to the given path, escaped', () => {
    const xml = logbackXml('/tmp/a&b/logs/system.log');
    assert.match(xml, /<file>\/tmp\/a&amp;b\/logs\/system\.log<\/file>/);
    assert.doesNotMatch(xml, /ConsoleAppender/);
  });
});

describe('nodeLayout', () => {
  test('pidfile and logs', () => {
    const layout = nodeLayout('/c/node1');
    assert.equal(layout.pidFile, '/c/node1/node.pid');
    assert.equal(layout.systemLog, '/c/node1/logs/system.log');
    assert.equal(layout.stdoutLog, '/c/node1/logs/stdout.log');
  });
});
