import type { ConnectionOptions } from 'node:tls';
import type { ClusterConfig } from '../config/cluster-settings.js';
import { type CqlClient, connectCluster } from '../connect/cluster-client.js';
import { clusterTlsOptions } from '../connect/tls-options.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { BackendEndpoint } from './backend-connection.js';

/**
 * The proxy's control connection to one cluster: the shared connector's driver client, which keeps
 * the topology current, heartbeats and reconnects with backoff. The proxy asks it which nodes are
 * up (client connections are spread over them) and which nodes to probe for readiness (readiness-probe.ts).
 */
export class ClusterControl {
  #next = 0;

  private constructor(
    readonly config: ClusterConfig,
    readonly client: CqlClient,
    readonly tls: ConnectionOptions | undefined,
    readonly cqlVersion: string,
  ) {}

  /** Connects, retrying until the cluster answers or its connection timeout has passed. */
  static async connect(config: ClusterConfig, logger: Logger): Promise<ClusterControl> {
    const tls = clusterTlsOptions(config);
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      try {
        const client = await connectCluster(config, logger, { connectionsPerHost: 1, maxProtocolVersion: 4 });
        const row = (await client.execute('SELECT cql_version FROM system.local')).first();
        return new ClusterControl(config, client, tls, String(row?.get('cql_version') ?? '3.4.0'));
      } catch (error) {
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
    await this.client.shutdown();
  }
}
