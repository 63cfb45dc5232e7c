import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type cassandra from 'cassandra-driver';
import { scratchDir, waitForDoneRanges } from '../helpers/checkpoints.js';
import { clusterFlags, runZdm, startZdm } from '../helpers/cli.js';
import { type ClusterEndpoint, sharedClusters, startExtraCluster } from '../helpers/clusters.js';
import { exactClient, freshKeyspace, seedRows } from '../helpers/keyspace.js';
import { snapshotDifferences, snapshotTable } from '../helpers/table-snapshot.js';

const KS = 'mig_faults';

async function seedTable(client: cassandra.Client, rows: number): Promise<void> {
  await client.execute(`CREATE TABLE ${KS}.t (id int, c int, v text, PRIMARY KEY (id, c))`);
  await seedRows(client, rows, `INSERT INTO ${KS}.t (id, c, v) VALUES (?, ?, ?) USING TTL 86400`, (i) => [
    i % 2000,
    i,
    `value-${i}`,
  ]);
}

describe('zdm migrate against failing and multi-node clusters', () => {
  const clients: cassandra.Client[] = [];
  after(async () => {
    await Promise.all(clients.map((c) => c.shutdown()));
  });

  test('Target stopped during a run: ranges fail and the exit code says so; Target back: the rerun completes', async () => {
    const { origin } = await sharedClusters();
    const cluster = await startExtraCluster({ nodes: 1 });
    const target: ClusterEndpoint = {
      contactPoints: cluster.contactPoints,
      port: cluster.port,
      localDataCenter: cluster.localDataCenter,
    };
    const o = await exactClient(origin, 'origin');
    clients.push(o);
    await freshKeyspace(o, KS);
    await seedTable(o, 20_000);
    const t = await exactClient(target, 'target');
    await freshKeyspace(t, KS);
    await t.execute(`CREATE TABLE ${KS}.t (id int, c int, v text, PRIMARY KEY (id, c))`);
    await t.shutdown();

    const checkpoints = scratchDir('zdm-outage-');
    const args = [
      'migrate',
      `${KS}.t`,
      ...clusterFlags(origin, target),
      '--checkpoint-dir',
      checkpoints,
      '--splits',
      '64',
      '--concurrency',
      '2',
      // Slow enough (over a minute for all rows) that the run is still going when Target has
      // stopped, however long a graceful node stop takes on a loaded machine.
      '--target-rate-limit',
      '300',
      '--max-attempts',
      '2',
      '--retry-delay-ms',
      '300',
      '--target-request-timeout-ms',
      '3000',
      '--target-connection-timeout-ms',
      '2000',
    ];
    const run = startZdm(args);
    // Stop Target once the run is well under way (some ranges finished), whatever the machine's speed.
    await waitForDoneRanges(checkpoints, 4, { child: run.child });
    await cluster.stopNode(0);
    const failed = await run.done;
    assert.equal(failed.code, 1, `exit code 1 when ranges fail\n${failed.stdout}\n${failed.stderr}`);
    assert.match(failed.stdout, /ranges failed\s+[1-9]/);
    assert.match(failed.stderr, /run the same command again to retry only those/);

    await cluster.startNode(0);
    const rerun = await runZdm(
      args.filter((a, i) => !(a === '300' && args[i - 1] === '--target-rate-limit')),
    );
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.match(rerun.stdout, /ranges failed\s+0/);
    const t2 = await exactClient(target, 'target');
    clients.push(t2);
    const [a, b] = await Promise.all([snapshotTable(o, KS, 't'), snapshotTable(t2, KS, 't')]);
    assert.equal(a.size, 20_000);
    assert.deepEqual(snapshotDifferences(a, b), []);
    await t2.shutdown();
    clients.pop();
    await cluster.stop();
  });

  test('a 2-node Origin: ranges spanning both nodes are all copied', async () => {
    // Three JVMs at most: the harness pauses the shared Target to make room, so the shared Origin
    // cluster serves as this test's Target.
    const { origin: target } = await sharedClusters();
    const cluster = await startExtraCluster({ nodes: 2 });
    const origin: ClusterEndpoint = {
      contactPoints: cluster.contactPoints,
      port: cluster.port,
      localDataCenter: cluster.localDataCenter,
    };
    const o = await exactClient(origin, 'origin');
    clients.push(o);
    assert.equal(o.hosts.length, 2);
    await freshKeyspace(o, KS);
    await seedTable(o, 5_000);
    const t = await exactClient(target, 'target');
    clients.push(t);
    await freshKeyspace(t, KS);
    await t.execute(`CREATE TABLE ${KS}.t (id int, c int, v text, PRIMARY KEY (id, c))`);
    const result = await runZdm([
      'migrate',
      `${KS}.t`,
      ...clusterFlags(origin, target),
      '--checkpoint-dir',
      scratchDir('zdm-2n-'),
      '--splits',
      '7',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const [a, b] = await Promise.all([snapshotTable(o, KS, 't'), snapshotTable(t, KS, 't')]);
    assert.equal(a.size, 5_000);
    assert.deepEqual(snapshotDifferences(a, b), []);
    await cluster.stop();
  });
});
