import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type cassandra from 'cassandra-driver';
import type { RunningCluster } from '../../src/cluster/local-cluster.js';
import type { RunningProxy } from '../../src/proxy/start-proxy.js';
import { type ClusterEndpoint, cqlClient, sharedClusters, startExtraCluster } from '../helpers/clusters.js';
import { freshKeyspace } from '../helpers/keyspace.js';
import { proxyClient, testProxy } from './proxy-support.js';

/**
 * The four credential cases of REFERENCE §1 against real PasswordAuthenticator clusters: A and B
 * (each with its own user, so whose credentials reached which cluster is visible) and the shared
 * Origin without authentication. Three JVMs: the helpers pause the shared Target meanwhile.
 */
const KS = 'proxy_auth';
// The proxy's own users (its control connections need them, as in the original) ...
const ALICE = { username: 'alice', password: 'alice-pw' }; // on A only
const BOB = { username: 'bob', password: 'bob-pw' }; // on B only
// ... and the application's, so whose credentials reached which cluster is visible.
const DAVE = { username: 'dave', password: 'dave-pw' }; // on A only
const CAROL = { username: 'carol', password: 'carol-pw' }; // on B only
let a: RunningCluster;
let b: RunningCluster;
let open: ClusterEndpoint;
const direct = new Map<string, cassandra.Client>();

const endpoint = (c: RunningCluster): ClusterEndpoint => ({
  contactPoints: c.contactPoints,
  port: c.port,
  localDataCenter: c.localDataCenter,
  authenticator: c.authenticator,
});

before(async () => {
  open = (await sharedClusters()).origin;
  a = await startExtraCluster({ authenticator: 'password' });
  b = await startExtraCluster({ authenticator: 'password' });
  const users = [
    ['a', a, [ALICE, DAVE]],
    ['b', b, [BOB, CAROL]],
  ] as const;
  for (const [name, cluster, logins] of users) {
    const admin = await cqlClient(endpoint(cluster));
    for (const user of logins) {
      await admin.execute(
        `CREATE ROLE IF NOT EXISTS ${user.username} WITH PASSWORD = '${user.password}' AND LOGIN = true AND SUPERUSER = true`,
      );
      // Each user logs in straight to its cluster first: a failure here is the cluster's, not the proxy's.
      await (await cqlClient(endpoint(cluster), { credentials: user })).shutdown();
    }
    direct.set(name, admin);
  }
  direct.set('open', await cqlClient(open));
  for (const client of direct.values()) {
    await freshKeyspace(client, KS);
    await client.execute(`CREATE TABLE ${KS}.kv (k int PRIMARY KEY, v text)`);
  }
});

after(async () => {
  await Promise.all([...direct.values()].map((c) => c.shutdown()));
  await a?.stop();
  await b?.stop();
});

const env = (origin: ClusterEndpoint, target: ClusterEndpoint) => ({ origin, target });
const creds = (prefix: 'ORIGIN' | 'TARGET', user: { username: string; password: string }) => ({
  [`ZDM_${prefix}_USERNAME`]: user.username,
  [`ZDM_${prefix}_PASSWORD`]: user.password,
});

const both = { ...creds('ORIGIN', ALICE), ...creds('TARGET', BOB) };

/** Through a proxy: a write found in both clusters, and a read back. */
async function writeThrough(
  proxy: RunningProxy,
  credentials: { username: string; password: string },
  k: number,
  clusters: [string, string],
) {
  const client = await proxyClient(proxy, { credentials });
  try {
    await client.execute(`INSERT INTO ${KS}.kv (k, v) VALUES (?, ?)`, [k, `as ${credentials.username}`], {
      prepare: true,
    });
    assert.equal(
      (await client.execute(`SELECT v FROM ${KS}.kv WHERE k = ?`, [k], { prepare: true })).first()?.get('v'),
      `as ${credentials.username}`,
    );
  } finally {
    await client.shutdown();
  }
  for (const name of clusters) {
    const row = (
      await direct.get(name)!.execute(`SELECT v FROM ${KS}.kv WHERE k = ?`, [k], { prepare: true })
    ).first();
    assert.equal(row?.get('v'), `as ${credentials.username}`, `write found on ${name}`);
  }
}

async function withProxy(
  clusters: ReturnType<typeof env>,
  extra: Record<string, string>,
  body: (proxy: RunningProxy) => Promise<void>,
) {
  const proxy = await testProxy(clusters, { ZDM_METRICS_ENABLED: 'false', ...extra });
  try {
    await body(proxy);
  } finally {
    await proxy.close();
  }
}

describe('authentication cases', () => {
  test("Origin open, Target with auth: the client sends Target's credentials", async () => {
    await withProxy(env(open, endpoint(b)), creds('TARGET', BOB), (proxy) =>
      writeThrough(proxy, CAROL, 1, ['open', 'b']),
    );
  });

  test("Origin with auth, Target open: the client sends Origin's credentials", async () => {
    await withProxy(env(endpoint(a), open), creds('ORIGIN', ALICE), (proxy) =>
      writeThrough(proxy, DAVE, 2, ['a', 'open']),
    );
  });

  test("both with auth: the client sends Target's, the proxy uses its configured Origin credentials", async () => {
    await withProxy(env(endpoint(a), endpoint(b)), both, (proxy) =>
      writeThrough(proxy, CAROL, 3, ['a', 'b']),
    );
  });

  test("both with auth and FORWARD_CLIENT_CREDENTIALS_TO_ORIGIN: the client sends Origin's, the proxy uses configured Target credentials", async () => {
    const forward = { ...both, ZDM_FORWARD_CLIENT_CREDENTIALS_TO_ORIGIN: 'true' };
    await withProxy(env(endpoint(a), endpoint(b)), forward, (proxy) =>
      writeThrough(proxy, DAVE, 4, ['a', 'b']),
    );
  });

  test("a wrong password gets the cluster's error and can run nothing", async () => {
    await withProxy(env(endpoint(a), endpoint(b)), both, async (proxy) => {
      await assert.rejects(
        proxyClient(proxy, { credentials: { username: 'carol', password: 'wrong' } }),
        (error: Error) => {
          assert.match(innerMessages(error), /Provided username carol and\/or password are incorrect/);
          return true;
        },
      );
      // Target (B) does not know dave: the client's credentials go to Target in this case.
      await assert.rejects(proxyClient(proxy, { credentials: DAVE }), (error: Error) => {
        assert.match(innerMessages(error), /Provided username dave and\/or password are incorrect/);
        return true;
      });
    });
  });

  test('wrong configured credentials: the proxy refuses to start, naming the settings to fix', async () => {
    const wrong = { ...both, ZDM_ORIGIN_PASSWORD: 'nope', ZDM_ORIGIN_CONNECTION_TIMEOUT_MS: '500' };
    await assert.rejects(
      testProxy(env(endpoint(a), endpoint(b)), wrong),
      (error: Error & { code?: string; hint?: string }) => {
        assert.equal(error.code, 'ORIGIN_UNREACHABLE');
        assert.match(error.message, /Provided username alice and\/or password are incorrect/);
        assert.match(error.hint ?? '', /ZDM_ORIGIN_USERNAME/);
        return true;
      },
    );
  });
});

function innerMessages(error: Error & { innerErrors?: Record<string, Error> }): string {
  return Object.values(error.innerErrors ?? {})
    .map((e) => e.message)
    .join(' ');
}
