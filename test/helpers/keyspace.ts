import { after, before } from 'node:test';
import type cassandra from 'cassandra-driver';
import { type ClusterEndpoint, cqlClient, type SharedClusters, sharedClusters } from './clusters.js';

/** Drops and creates a keyspace with replication factor 1 (the test clusters are small). */
export async function freshKeyspace(
  client: cassandra.Client,
  keyspace: string,
  replicationFactor = 1,
): Promise<void> {
  await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
  await client.execute(
    `CREATE KEYSPACE ${keyspace} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': ${replicationFactor}}`,
  );
}

/** Runs each statement in order (schema set-up). */
export async function runAll(client: cassandra.Client, statements: readonly string[]): Promise<void> {
  for (const statement of statements) await client.execute(statement);
}

/**
 * A client built by the product's own connector (BigInt for bigint/varint, Map and Set for
 * collections), so seeded values and read-back values have the jobs' exact types.
 */
export async function exactClient(
  endpoint: {
    contactPoints: readonly string[];
    port: number;
    localDataCenter: string;
    authenticator?: 'none' | 'password';
  },
  role: 'origin' | 'target',
): Promise<cassandra.Client> {
  const { connectCluster } = await import('../../src/connect/cluster-client.js');
  const { silentLogger } = await import('../../src/log/logger.js');
  const password = endpoint.authenticator === 'password';
  return connectCluster(
    {
      role,
      contactPoints: endpoint.contactPoints,
      port: endpoint.port,
      localDataCenter: endpoint.localDataCenter,
      username: password ? 'cassandra' : undefined,
      password: password ? 'cassandra' : undefined,
      tls: undefined,
      connectionTimeoutMs: 10000,
      requestTimeoutMs: 30000,
      readConsistency: 'LOCAL_QUORUM',
      writeConsistency: 'LOCAL_QUORUM',
    },
    silentLogger(),
    { connectionsPerHost: 1 },
  );
}

/**
 * Errors of a node too busy to answer in time (protocol spec §9: 0x1000 unavailable, 0x1001
 * overloaded, 0x1100 write timeout, 0x1200 read timeout), or the client's own timeout.
 */
const BUSY_CODES = new Set([0x1000, 0x1001, 0x1100, 0x1200]);

function busyCluster(error: unknown): boolean {
  const e = error as { code?: number; name?: string; innerErrors?: Record<string, unknown> };
  if (e?.name === 'OperationTimedOutError') return true;
  // A node that missed the driver's heartbeat is marked down for a moment, then reconnected.
  if (e?.name === 'NoHostAvailableError') return true;
  if (typeof e?.code === 'number' && BUSY_CODES.has(e.code)) return true;
  return e?.innerErrors !== undefined && Object.values(e.innerErrors).some(busyCluster);
}

/**
 * A set-up write that must land whatever the machine's load: an idempotent statement (explicit
 * USING TIMESTAMP, or INSERT/set-add/overwrite) is sent again when a busy node timed it out. Each
 * retry says so in the test output. Not for counter increments, which a retry could apply twice.
 */
export async function setupWrite(
  client: cassandra.Client,
  query: string,
  params: unknown[] = [],
  options: cassandra.QueryOptions = { prepare: true },
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      // A generous client-side wait: the node answers within its own (raised) timeouts.
      await client.execute(query, params, { readTimeout: 120_000, isIdempotent: true, ...options });
      return;
    } catch (error) {
      if (attempt >= 5 || !busyCluster(error)) throw error;
      console.log(`# set-up write timed out on a busy node (attempt ${attempt}), sending it again`);
      await new Promise((resolve) => setTimeout(resolve, 2000 * attempt));
    }
  }
}

/** Writes `rows` rows with `query`, 64 in flight, each as a setupWrite. */
export async function seedRows(
  client: cassandra.Client,
  rows: number,
  query: string,
  values: (i: number) => unknown[],
): Promise<void> {
  const inFlight = new Set<Promise<unknown>>();
  for (let i = 0; i < rows; i++) {
    const p = setupWrite(client, query, values(i)).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= 64) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
}

/** The shared test clusters, an exact client on each, and a test file's keyspace fresh on both. */
export interface ClusterPair {
  readonly origin: ClusterEndpoint;
  readonly target: ClusterEndpoint;
  /** Exact client on Origin. */
  readonly o: cassandra.Client;
  /** Exact client on Target. */
  readonly t: cassandra.Client;
}

/**
 * Registers (inside a `describe`) the hooks that open a ClusterPair before its tests, with
 * `keyspace` created fresh on both clusters holding `schema` (`targetSchema` on Target when it
 * differs), and close the clients after. The pair's fields are readable once the tests run.
 */
export function clusterPairFixture(
  keyspace: string,
  schema: readonly string[],
  targetSchema: readonly string[] = schema,
): ClusterPair {
  let opened: ClusterPair | undefined;
  const ready = (): ClusterPair => {
    if (opened === undefined) throw new Error('the cluster pair is opened by its before() hook');
    return opened;
  };
  before(async () => {
    const { origin, target } = await sharedClusters();
    const o = await exactClient(origin, 'origin');
    const t = await exactClient(target, 'target');
    opened = { origin, target, o, t };
    for (const [client, statements] of [
      [o, schema],
      [t, targetSchema],
    ] as const) {
      await freshKeyspace(client, keyspace);
      await runAll(client, statements);
    }
  });
  after(async () => {
    await Promise.allSettled([opened?.o.shutdown(), opened?.t.shutdown()]);
  });
  return {
    get origin() {
      return ready().origin;
    },
    get target() {
      return ready().target;
    },
    get o() {
      return ready().o;
    },
    get t() {
      return ready().t;
    },
  };
}

/**
 * The shared clusters with a plain client (the driver's own value types) on each, and `keyspace`
 * created fresh on both holding `schema`. The caller shuts the clients down.
 */
export async function plainClusterPair(
  keyspace: string,
  schema: readonly string[],
): Promise<{ clusters: SharedClusters; origin: cassandra.Client; target: cassandra.Client }> {
  const clusters = await sharedClusters();
  const origin = await cqlClient(clusters.origin);
  const target = await cqlClient(clusters.target);
  for (const direct of [origin, target]) {
    await freshKeyspace(direct, keyspace);
    await runAll(direct, schema);
  }
  return { clusters, origin, target };
}
