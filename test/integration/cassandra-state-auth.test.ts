import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type cassandra from 'cassandra-driver';
import type { RunningCluster } from '../../src/cluster/local-cluster.js';
import { scratchDir } from '../helpers/checkpoints.js';
import { migrateArgs, runZdm } from '../helpers/cli.js';
import { type ClusterEndpoint, cqlClient, sharedClusters, startExtraCluster } from '../helpers/clusters.js';
import { freshKeyspace } from '../helpers/keyspace.js';

const KS = 'cass_state_auth';
const STATE = 'zdm_state_auth';
const MIGRATOR = { username: 'migrator', password: 'migrator-pw' };

/**
 * A Target whose role may write the table but not create keyspaces: `--state-store cassandra` is
 * refused with exit 2 and the exact CQL to run; once an administrator ran it (and granted the
 * role its use), the same command works.
 */
describe('run state in Cassandra on a Target whose role may not create it', () => {
  let target: RunningCluster;
  let origin: ClusterEndpoint;
  let admin: cassandra.Client;
  let originClient: cassandra.Client;

  before(async () => {
    origin = (await sharedClusters()).origin;
    target = await startExtraCluster({ authenticator: 'password' });
    admin = await cqlClient(target);
    originClient = await cqlClient(origin);
    for (const client of [admin, originClient]) {
      await freshKeyspace(client, KS);
      await client.execute(`CREATE TABLE ${KS}.t (id int PRIMARY KEY, v text)`);
    }
    for (let i = 0; i < 50; i++)
      await originClient.execute(`INSERT INTO ${KS}.t (id, v) VALUES (?, ?)`, [i, `v${i}`], {
        prepare: true,
      });
    await admin.execute(
      `CREATE ROLE ${MIGRATOR.username} WITH PASSWORD = '${MIGRATOR.password}' AND LOGIN = true`,
    );
    await admin.execute(`GRANT SELECT ON KEYSPACE ${KS} TO ${MIGRATOR.username}`);
    await admin.execute(`GRANT MODIFY ON KEYSPACE ${KS} TO ${MIGRATOR.username}`);
  });

  after(async () => {
    await admin?.shutdown();
    await originClient?.shutdown();
    await target?.stop();
  });

  test('refused with exit 2 and the CQL; after an administrator ran it, the migration runs', async () => {
    const args = [
      ...migrateArgs(
        `${KS}.t`,
        origin,
        { contactPoints: target.contactPoints, port: target.port, localDataCenter: target.localDataCenter },
        scratchDir('zdm-state-auth-'),
        '--state-store',
        'cassandra',
        '--state-keyspace',
        STATE,
      ),
      '--target-username',
      MIGRATOR.username,
      '--target-password',
      MIGRATOR.password,
    ];
    const refused = await runZdm(args);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(
      refused.stderr,
      /STATE_SCHEMA_UNAUTHORIZED.*Cannot create the run state keyspace zdm_state_auth/,
    );
    assert.doesNotMatch(refused.stderr, /This is a bug/);
    const script = refused.stderr.slice(refused.stderr.indexOf('CREATE KEYSPACE'));
    const statements = script
      .split(/;\s*\n/)
      .map((s) => s.trim().replace(/;$/, ''))
      .filter((s) => s.startsWith('CREATE'));
    assert.equal(statements.length, 6, script); // the keyspace and its five tables
    assert.match(
      statements[0]!,
      /CREATE KEYSPACE IF NOT EXISTS zdm_state_auth WITH replication = \{'class': 'NetworkTopologyStrategy'/,
    );
    for (const cql of statements) await admin.execute(cql);
    await admin.execute(`GRANT SELECT ON KEYSPACE ${STATE} TO ${MIGRATOR.username}`);
    await admin.execute(`GRANT MODIFY ON KEYSPACE ${STATE} TO ${MIGRATOR.username}`);

    const ran = await runZdm([...args, '--json']);
    assert.equal(ran.code, 0, ran.stderr);
    const rows = (await admin.execute(`SELECT id, v FROM ${KS}.t`)).rows;
    assert.equal(rows.length, 50);
    const runs = await admin.execute(`SELECT status FROM ${STATE}.runs`);
    assert.deepEqual(
      runs.rows.map((r) => r.get('status')),
      ['completed'],
    );
  });
});
