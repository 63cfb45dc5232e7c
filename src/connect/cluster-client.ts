import cassandra from 'cassandra-driver';
import { CLUSTER_TITLE, type ClusterConfig, type ConsistencyName } from '../config/cluster-settings.js';
import { describeError, OperatorError } from '../errors.js';
import './driver-patches.js';
import type { Logger } from '../log/logger.js';
import { clusterTlsOptions } from './tls-options.js';

const { Client, auth, policies, types } = cassandra;
export type CqlClient = cassandra.Client;

export interface ClientTuning {
  /** Connections per host (the driver's default is 1; parallel jobs want more). */
  readonly connectionsPerHost?: number;
  readonly keyspace?: string;
  /** Protocol version ceiling; avoids the driver's version probe. */
  readonly maxProtocolVersion?: number;
}

const CONSISTENCY_CODES: Readonly<Record<ConsistencyName, number>> = {
  ANY: types.consistencies.any,
  ONE: types.consistencies.one,
  TWO: types.consistencies.two,
  THREE: types.consistencies.three,
  QUORUM: types.consistencies.quorum,
  ALL: types.consistencies.all,
  LOCAL_QUORUM: types.consistencies.localQuorum,
  EACH_QUORUM: types.consistencies.eachQuorum,
  LOCAL_ONE: types.consistencies.localOne,
};

export function consistencyCode(name: ConsistencyName): number {
  return CONSISTENCY_CODES[name];
}

function baseOptions(config: ClusterConfig): cassandra.ClientOptions {
  const options: cassandra.ClientOptions = {
    contactPoints: [...config.contactPoints],
    protocolOptions: { port: config.port },
    socketOptions: {
      connectTimeout: config.connectionTimeoutMs,
      readTimeout: config.requestTimeoutMs,
    },
  };
  if (config.username !== undefined && config.password !== undefined) {
    options.authProvider = new auth.PlainTextAuthProvider(config.username, config.password);
  }
  const ssl = clusterTlsOptions(config);
  if (ssl !== undefined) options.sslOptions = ssl;
  return options;
}

function connectError(config: ClusterConfig, error: unknown): OperatorError {
  const where = config.contactPoints.map((h) => (h.includes(':') ? h : `${h}:${config.port}`)).join(', ');
  const name = CLUSTER_TITLE[config.role];
  const authProblem = /auth|credential|password|username/i.test(describeError(error));
  return new OperatorError(
    `${config.role.toUpperCase()}_UNREACHABLE`,
    `Cannot connect to ${name} at ${where}: ${describeError(error)}`,
    authProblem
      ? `Check ${config.role}_username / ${config.role}_password (ZDM_${config.role.toUpperCase()}_USERNAME / _PASSWORD).`
      : `Check that the cluster is up and ${config.role}_contact_points / ${config.role}_port (ZDM_${config.role.toUpperCase()}_CONTACT_POINTS / _PORT) point at it.`,
    { cause: error },
  );
}

/** Asks the first reachable node which datacenter it is in, as the original proxy infers it. */
async function discoverDataCenter(config: ClusterConfig): Promise<string> {
  const probe = new Client({
    ...baseOptions(config),
    policies: { loadBalancing: new policies.loadBalancing.RoundRobinPolicy() },
    pooling: { coreConnectionsPerHost: { [types.distance.local]: 1, [types.distance.remote]: 0 } },
  });
  try {
    await probe.connect();
    const row = (await probe.execute('SELECT data_center FROM system.local')).first();
    return String(row?.get('data_center') ?? 'datacenter1');
  } finally {
    await probe.shutdown();
  }
}

/**
 * Connects a cassandra-driver client to one cluster. The only place clients are built: the proxy,
 * migrate and diff all come through here, so auth, TLS, timeouts and DC inference behave alike.
 */
export async function connectCluster(
  config: ClusterConfig,
  logger: Logger,
  tuning: ClientTuning = {},
): Promise<CqlClient> {
  const started = Date.now();
  let client: CqlClient | undefined;
  try {
    const localDataCenter = config.localDataCenter ?? (await discoverDataCenter(config));
    const connections = tuning.connectionsPerHost ?? 2;
    client = new Client({
      ...baseOptions(config),
      localDataCenter,
      ...(tuning.keyspace === undefined ? {} : { keyspace: tuning.keyspace }),
      pooling: {
        coreConnectionsPerHost: { [types.distance.local]: connections, [types.distance.remote]: 1 },
      },
      protocolOptions: {
        port: config.port,
        ...(tuning.maxProtocolVersion === undefined ? {} : { maxVersion: tuning.maxProtocolVersion }),
      },
      queryOptions: { prepare: true, consistency: consistencyCode(config.readConsistency) },
      // Exact round trips: bigint/varint as BigInt, maps and sets keep non-string keys and order.
      encoding: { map: Map, set: Set, useBigIntAsLong: true, useBigIntAsVarint: true },
    });
    await client.connect();
    logger.info(
      {
        cluster: config.role,
        contactPoints: config.contactPoints,
        localDataCenter,
        hosts: client.hosts.length,
        ms: Date.now() - started,
      },
      `connected to ${config.role}`,
    );
    return client;
  } catch (error) {
    if (client !== undefined) await client.shutdown().catch(() => undefined);
    if (error instanceof OperatorError) throw error;
    throw connectError(config, error);
  }
}

/** Connects to Origin and Target together; if one fails, the other is closed again. */
export async function connectBoth(
  origin: ClusterConfig,
  target: ClusterConfig,
  logger: Logger,
  tuning: ClientTuning = {},
): Promise<{ origin: CqlClient; target: CqlClient }> {
  const [o, t] = await Promise.allSettled([
    connectCluster(origin, logger, tuning),
    connectCluster(target, logger, tuning),
  ]);
  if (o.status === 'fulfilled' && t.status === 'fulfilled') return { origin: o.value, target: t.value };
  if (o.status === 'fulfilled') await o.value.shutdown();
  if (t.status === 'fulfilled') await t.value.shutdown();
  throw o.status === 'rejected' ? o.reason : (t as PromiseRejectedResult).reason;
}
