/**
 * Helpers of the proxy integration tests (not a test file itself): start a proxy in-process on an
 * ephemeral port in front of two test clusters, and connect a driver through it.
 */
import cassandra from 'cassandra-driver';
import { CLUSTER_SETTINGS } from '../../src/config/cluster-settings.js';
import { resolveSettings } from '../../src/config/resolve.js';
import { createLogger } from '../../src/log/logger.js';
import { PROXY_SETTINGS, proxyConfig } from '../../src/proxy/proxy-settings.js';
import { type RunningProxy, startProxy } from '../../src/proxy/start-proxy.js';
import type { ClusterEndpoint } from '../helpers/clusters.js';

export interface ProxyEndpoints {
  readonly origin: ClusterEndpoint;
  readonly target: ClusterEndpoint;
}

/** A proxy in front of `clusters`; `env` takes ZDM_* overrides exactly as the CLI would. */
export async function testProxy(
  clusters: ProxyEndpoints,
  env: Record<string, string> = {},
): Promise<RunningProxy> {
  const values = resolveSettings(
    { ...PROXY_SETTINGS, ...CLUSTER_SETTINGS },
    {
      env: {
        ZDM_ORIGIN_CONTACT_POINTS: clusters.origin.contactPoints.join(','),
        ZDM_ORIGIN_PORT: String(clusters.origin.port),
        ZDM_TARGET_CONTACT_POINTS: clusters.target.contactPoints.join(','),
        ZDM_TARGET_PORT: String(clusters.target.port),
        ZDM_PROXY_LISTEN_ADDRESS: '127.0.0.1',
        ZDM_PROXY_LISTEN_PORT: '0',
        ZDM_METRICS_ADDRESS: '127.0.0.1',
        ZDM_METRICS_PORT: '0',
        ...env,
      },
    },
  );
  const logger = createLogger({ level: process.env.ZDM_LOG_LEVEL ?? 'warn', pretty: false });
  return startProxy(proxyConfig(values), logger);
}

export interface DriverOptions {
  readonly credentials?: { readonly username: string; readonly password: string };
  readonly keyspace?: string;
  /** false: the driver sends no client timestamps, so the proxy's default timestamp is what clusters store. */
  readonly clientTimestamps?: boolean;
  readonly host?: string;
}

/** The Node driver, pointed at the proxy only. */
export async function proxyClient(
  proxy: { readonly port: number },
  options: DriverOptions = {},
): Promise<cassandra.Client> {
  const client = new cassandra.Client(<cassandra.ClientOptions>(<unknown>{
    contactPoints: [`${options.host ?? '127.0.0.1'}:${proxy.port}`],
    protocolOptions: { port: proxy.port },
    localDataCenter: 'datacenter1',
    ...(options.keyspace === undefined ? {} : { keyspace: options.keyspace }),
    ...(options.credentials === undefined
      ? {}
      : {
          authProvider: new cassandra.auth.PlainTextAuthProvider(
            options.credentials.username,
            options.credentials.password,
          ),
        }),
    ...(options.clientTimestamps === false ? { policies: { timestampGeneration: null } } : {}),
    socketOptions: { readTimeout: 30000 },
  }));
  try {
    await client.connect();
  } catch (error) {
    await client.shutdown().catch(() => undefined);
    throw error;
  }
  return client;
}

/** `SELECT <column>, writetime(<column>)` of one row, read straight from a cluster. */
export async function cellWithWritetime(
  client: cassandra.Client,
  table: string,
  column: string,
  where: string,
  params: unknown[] = [],
): Promise<{ value: unknown; writetime: string } | null> {
  const row = (
    await client.execute(
      `SELECT ${column} AS v, writetime(${column}) AS wt FROM ${table} WHERE ${where}`,
      params,
      { prepare: true },
    )
  ).first();
  return row === null ? null : { value: row.get('v'), writetime: String(row.get('wt')) };
}
