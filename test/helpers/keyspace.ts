import type cassandra from 'cassandra-driver';

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
