import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import cassandra from 'cassandra-driver';
import type { RunningCluster } from '../../src/cluster/local-cluster.js';
import { findNodeProcesses } from '../../src/cluster/stray-nodes.js';
import { describeError } from '../../src/errors.js';
import {
  type ClusterEndpoint,
  cqlClient,
  type SharedClusters,
  sharedClusters,
  startExtraCluster,
} from '../helpers/clusters.js';

/** Creates a keyspace and table on `cluster`, writes one row and reads it back. */
async function roundTrip(cluster: ClusterEndpoint, keyspace: string, replication = 1): Promise<void> {
  const client = await cqlClient(cluster);
  try {
    await client.execute(
      `CREATE KEYSPACE IF NOT EXISTS ${keyspace} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': ${replication}}`,
    );
    await client.execute(`CREATE TABLE IF NOT EXISTS ${keyspace}.kv (k text PRIMARY KEY, v int)`);
    // QUORUM both ways: with RF 2 a LOCAL_ONE read may reach the replica the LOCAL_ONE write has not yet.
    const quorum = cassandra.types.consistencies.quorum;
    await client.execute(`INSERT INTO ${keyspace}.kv (k, v) VALUES (?, ?)`, ['answer', 42], {
      prepare: true,
      consistency: quorum,
    });
    const result = await client.execute(`SELECT v FROM ${keyspace}.kv WHERE k = ?`, ['answer'], {
      prepare: true,
      consistency: quorum,
    });
    assert.equal(result.first()?.get('v'), 42);
  } finally {
    await client.shutdown();
  }
}

/** For expected rejections: a client that connects anyway is shut down, or it would keep the file alive. */
async function connectOrShutdown(connecting: ReturnType<typeof cqlClient>): Promise<void> {
  const client = await connecting;
  await client.shutdown();
}

/** Every node JVM of this run: the shared pair plus whatever extra cluster is running. */
function runningNodes(cluster: RunningCluster): number[] {
  return findNodeProcesses(cluster.dir).map((p) => p.pid);
}

describe('shared origin and target', () => {
  let shared: SharedClusters;
  before(async () => {
    shared = await sharedClusters();
  });

  test('are two distinct single-node clusters on the default port', async () => {
    // 127.0.0.2 and .3, or .2 and .3 of another 127.0.N when another run holds those.
    assert.match(shared.origin.contactPoints.join(), /^127\.0\.\d+\.2$/);
    assert.match(shared.target.contactPoints.join(), /^127\.0\.\d+\.3$/);
    assert.equal(shared.origin.port, 9042);
    assert.equal(shared.origin.localDataCenter, 'datacenter1');
    const origin = await cqlClient(shared.origin);
    const target = await cqlClient(shared.target);
    try {
      const [o, t] = await Promise.all([
        origin.execute('SELECT cluster_name, release_version FROM system.local'),
        target.execute('SELECT cluster_name FROM system.local'),
      ]);
      assert.equal(o.first().get('cluster_name'), 'origin');
      assert.match(String(o.first().get('release_version')), /^5\.0\./);
      assert.equal(t.first().get('cluster_name'), 'target');
    } finally {
      await Promise.all([origin.shutdown(), target.shutdown()]);
    }
  });

  test('origin: create keyspace, insert, read back', async () => {
    await roundTrip(shared.origin, 'zdm_cluster_it');
  });

  test('target: create keyspace, insert, read back', async () => {
    await roundTrip(shared.target, 'zdm_cluster_it');
  });
});

describe('two-node cluster', () => {
  let cluster: RunningCluster;
  before(async () => {
    cluster = await startExtraCluster({ nodes: 2 });
  });
  after(async () => {
    const dir = cluster?.dir;
    await cluster?.stop();
    if (dir !== undefined) assert.deepEqual(findNodeProcesses(dir), []);
  });

  test('nodes are up, measured, and see each other in system.peers', async () => {
    const [first, second] = cluster.contactPoints as [string, string];
    assert.equal(cluster.contactPoints.length, 2);
    assert.match(first, /^127\.0\.\d+\.1\d$/, 'extra clusters start at .10');
    assert.equal(Number(second.split('.')[3]), Number(first.split('.')[3]) + 1);
    for (const node of cluster.nodes) {
      assert.ok(node.pid !== undefined && node.pid > 0);
      assert.ok(node.startupMs > 0);
      assert.ok(node.rssMb !== undefined && node.rssMb > 100, `rss ${node.rssMb}`);
    }
    for (const [address, peer] of [
      [first, second],
      [second, first],
    ] as const) {
      const client = await cqlClient({ ...cluster, contactPoints: [address] });
      try {
        const host = client.hosts.get(`${address}:9042`);
        assert.ok(host, `driver knows ${address}`);
        const result = await client.execute('SELECT peer FROM system.peers', [], { host });
        assert.deepEqual(
          result.rows.map((row) => String(row.get('peer'))),
          [peer],
        );
      } finally {
        await client.shutdown();
      }
    }
  });

  test('stopNode/startNode keeps the node data', async () => {
    await roundTrip(cluster, 'zdm_outage', 2);
    const before = cluster.nodes[1]!.pid!;
    await cluster.stopNode(1);
    assert.equal(cluster.nodes[1]!.pid, undefined);
    assert.deepEqual(runningNodes(cluster).length, 1);

    // With one replica down, ONE still reads from the survivor: the outage a migration must ride out.
    const client = await cqlClient(cluster);
    try {
      const result = await client.execute('SELECT v FROM zdm_outage.kv WHERE k = ?', ['answer'], {
        prepare: true,
        consistency: cassandra.types.consistencies.one,
      });
      assert.equal(result.first()?.get('v'), 42);
    } finally {
      await client.shutdown();
    }

    await cluster.startNode(1);
    const after = cluster.nodes[1]!.pid!;
    assert.notEqual(after, before);
    // Read from the restarted node alone: its own sstables/commitlog survived the restart.
    const restarted = cluster.contactPoints[1]!;
    const only = await cqlClient({ ...cluster, contactPoints: [restarted] });
    try {
      const host = only.hosts.get(`${restarted}:9042`);
      assert.ok(host);
      const result = await only.execute("SELECT v FROM zdm_outage.kv WHERE k = 'answer'", [], {
        host,
        consistency: cassandra.types.consistencies.one,
      });
      assert.equal(result.first()?.get('v'), 42);
    } finally {
      await only.shutdown();
    }
  });
});

describe('password-auth cluster', () => {
  let cluster: RunningCluster;
  before(async () => {
    cluster = await startExtraCluster({ authenticator: 'password' });
  });
  after(async () => {
    await cluster?.stop();
  });

  test('cassandra/cassandra works', async () => {
    const client = await cqlClient(cluster, {
      credentials: { username: 'cassandra', password: 'cassandra' },
    });
    try {
      const result = await client.execute('SELECT role FROM system_auth.roles');
      assert.ok(result.rows.some((row) => row.get('role') === 'cassandra'));
    } finally {
      await client.shutdown();
    }
  });

  test('a wrong password is refused', async () => {
    await assert.rejects(
      connectOrShutdown(cqlClient(cluster, { credentials: { username: 'cassandra', password: 'wrong' } })),
      (error: unknown) => /username .* password are incorrect/i.test(describeError(error)),
    );
  });

  test('no credentials are refused', async () => {
    await assert.rejects(connectOrShutdown(cqlClient({ ...cluster, authenticator: 'none' })));
  });
});

describe('afterwards', () => {
  test('only the shared pair is left running', async () => {
    const dir = process.env.ZDM_TEST_CLUSTER_DIR;
    await sharedClusters();
    if (dir === undefined) return; // a file run on its own: its own shared pair is stopped in `after`
    const left = findNodeProcesses(dir).map((p) => p.clusterDir.split('/').at(-1));
    assert.deepEqual(left.sort(), ['origin', 'target']);
  });
});
