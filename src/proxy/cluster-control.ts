import type { ConnectionOptions } from 'node:tls';
import type { DataClusterConfig } from '../config/cluster-settings.js';
import { type CqlClient, connectCluster } from '../connect/cluster-client.js';
import { clusterTlsOptions } from '../connect/tls-options.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { BackendEndpoint } from './backend-connection.js';

/** CQL version assumed for a cluster the driver cannot ask (Cassandra 5.0's). */
const ASSUMED_CQL_VERSION = '3.4.7';

/**
 * Whether a connection error says the cluster refuses the driver's protocol versions (v4 and
 * below): Cassandra 5.0 with `native_transport_allow_older_protocols: false` speaks only v5, which
 * the driver cannot. Client connections still work (version-bridge.ts); only topology watching does not.
 */
export function refusesDriverProtocols(message: string): boolean {
  return /Rejecting Protocol Version/i.test(message);
}

/**
 * The proxy's control connection to one cluster: the shared connector's driver client, which keeps
 * the topology current, heartbeats and reconnects with backoff. The proxy asks it which nodes are
 * up (client connections are spread over them) and which nodes to probe for readiness (readiness-probe.ts).
 */
export class ClusterControl {
  #next = 0;

  private constructor(
    readonly config: DataClusterConfig,
    /** null: the cluster refuses the driver's protocol versions; its contact points are its nodes. */
    readonly client: CqlClient | null,
    readonly tls: ConnectionOptions | undefined,
    readonly cqlVersion: string,
  ) {}

  /** Connects, retrying until the cluster answers or its connection timeout has passed. */
  static async connect(config: DataClusterConfig, logger: Logger): Promise<ClusterControl> {
    const tls = clusterTlsOptions(config);
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      try {
        const client = await connectCluster(config, logger, { connectionsPerHost: 1, maxProtocolVersion: 4 });
        const row = (await client.execute('SELECT cql_version FROM system.local')).first();
        return new ClusterControl(config, client, tls, String(row?.get('cql_version') ?? '3.4.0'));
      } catch (error) {
        const message = describeError(error);
        if (refusesDriverProtocols(message)) {
          logger.warn(
            { cluster: config.role, err: message },
            `${config.role} speaks only protocol versions newer than v4: the proxy does not watch its topology ` +
              'and connects clients to its contact points (list every node there)',
          );
          return new ClusterControl(config, null, tls, ASSUMED_CQL_VERSION);
        }
        if (Date.now() - started >= config.connectionTimeoutMs) throw error;
        logger.warn(
          { cluster: config.role, attempt, err: describeError(error) },
          `waiting for ${config.role}`,
        );
        await new Promise((resolve) => setTimeout(resolve, 2000));
      }
    }
  }

  /** The next node to open a client's connection to: round robin over the local DC's nodes that are up. */
  nextNode(): BackendEndpoint {
    const hosts = this.#localHosts().filter((h) => h.isUp());
    const pool =
      hosts.length > 0
        ? hosts.map((h) => h.address)
        : this.config.contactPoints.map((c) => `${c}:${this.config.port}`);
    return this.#endpoint(pool[this.#next++ % pool.length]!);
  }

  /** Every node of the local DC the driver knows, up or not, then the contact points: where the readiness probe tries. */
  allNodes(): BackendEndpoint[] {
    const addresses = new Set([
      ...this.#localHosts().map((h) => h.address),
      ...this.config.contactPoints.map((c) => `${c}:${this.config.port}`),
    ]);
    return [...addresses].map((a) => this.#endpoint(a));
  }

  #localHosts() {
    if (this.client === null) return [];
    const dc = (this.client as unknown as { options: { localDataCenter?: string } }).options.localDataCenter;
    return this.client.hosts.values().filter((h) => dc === undefined || h.datacenter === dc);
  }

  #endpoint(address: string): BackendEndpoint {
    const at = address.lastIndexOf(':');
    const host = at > 0 && !address.endsWith(']') ? address.slice(0, at) : address;
    const port = at > 0 ? Number(address.slice(at + 1)) : this.config.port;
    return {
      cluster: this.config.role,
      host,
      port: Number.isFinite(port) ? port : this.config.port,
      tls: this.tls,
    };
  }

  async close(): Promise<void> {
    await this.client?.shutdown();
  }
}
