import type { Logger } from '../log/logger.js';
import type { BackendConnection } from './backend-connection.js';
import {
  Consistency,
  encodeAuthToken,
  encodeQuery,
  FrameFlag,
  Opcode,
  type ProtocolVersion,
  plainSaslToken,
  queryParameters,
  type RawFrame,
} from './codec/index.js';
import { decodeErrorFrame } from './frame-reading.js';
import { clusterLabel } from './proxy-errors.js';
import type { ProxyMetrics } from './proxy-metrics.js';
import type { ClusterName } from './route-request.js';

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

/** Opens a raw connection to a node of `cluster` (the caller spreads sessions over the nodes). */
export type Connector = (
  cluster: ClusterName,
  version: ProtocolVersion,
  hooks: { onEvent: (frame: RawFrame) => void; onClose: () => void },
) => Promise<BackendConnection>;

export interface ClusterLinksOptions {
  readonly connect: Connector;
  /** Configured credentials, used where the client's own do not go. */
  readonly credentials: Readonly<Record<ClusterName, Credentials | undefined>>;
  readonly metrics: ProxyMetrics;
  readonly logger: Logger;
  readonly onEvent: (cluster: ClusterName, frame: RawFrame) => void;
}

export const CLUSTERS: readonly ClusterName[] = ['origin', 'target'];
const RECONNECT_FIRST_MS = 250;
const RECONNECT_MAX_MS = 8000;

/**
 * One client session's connections to Origin and Target. After the handshake it keeps them alive:
 * a lost connection is reopened with backoff and gets the handshake (STARTUP, credentials) and the
 * session's keyspace replayed, so the client never notices beyond the requests that failed meanwhile.
 */
export class ClusterLinks {
  readonly #links: Record<ClusterName, BackendConnection | null> = { origin: null, target: null };
  readonly #delay: Record<ClusterName, number> = { origin: RECONNECT_FIRST_MS, target: RECONNECT_FIRST_MS };
  readonly #timers = new Set<NodeJS.Timeout>();
  #closed = false;
  /** Reopen lost connections only once the session is established (set by the session). */
  keepAlive = false;
  version: ProtocolVersion = 4;
  /** What a reconnect replays: the client's STARTUP body, its SASL token and cluster, its keyspace. */
  startupBody: Buffer | null = null;
  authCluster: ClusterName | null = null;
  clientToken: Buffer | null = null;
  keyspace: string | null = null;

  constructor(private readonly options: ClusterLinksOptions) {}

  get(cluster: ClusterName): BackendConnection | null {
    return this.#links[cluster];
  }

  /** Sends on a cluster's connection; without one, `onResult` gets an Error at once. */
  send(
    cluster: ClusterName,
    opcode: number,
    flags: number,
    body: Buffer,
    onResult: (result: RawFrame | Error) => void,
  ): void {
    const link = this.#links[cluster];
    if (link === null) {
      onResult(new Error(this.keepAlive ? 'no connection (reconnecting)' : 'no connection'));
      return;
    }
    // The client's tracing and custom-payload flags travel with the body; nothing else does.
    link.request(opcode, flags & (FrameFlag.TRACING | FrameFlag.CUSTOM_PAYLOAD), body, onResult);
  }

  async open(cluster: ClusterName): Promise<BackendConnection> {
    try {
      const link = await this.options.connect(cluster, this.version, {
        onEvent: (frame) => this.options.onEvent(cluster, frame),
        onClose: () => this.#lost(cluster, link),
      });
      if (this.#closed) {
        link.close();
        throw new Error('client went away');
      }
      this.#links[cluster] = link;
      this.options.metrics.nodeConnections(cluster, link.address, 1);
      return link;
    } catch (error) {
      this.options.metrics.failedConnection(cluster);
      throw error;
    }
  }

  /** The proxy's own SASL PLAIN exchange (configured credentials, or a replayed client token); null when it worked. */
  async authenticate(
    cluster: ClusterName,
    link: BackendConnection,
    token?: Buffer | null,
  ): Promise<string | null> {
    const credentials = this.options.credentials[cluster];
    const body =
      token ??
      (credentials === undefined
        ? null
        : encodeAuthToken({ token: plainSaslToken(credentials.username, credentials.password) }));
    if (body === null) {
      const role = cluster.toUpperCase();
      return `zdm-proxy: ${clusterLabel(cluster)} requires authentication but no credentials are configured for it (set ZDM_${role}_USERNAME and ZDM_${role}_PASSWORD)`;
    }
    try {
      const answer = await link.send(Opcode.AUTH_RESPONSE, 0, body);
      if (answer.header.opcode === Opcode.AUTH_SUCCESS) return null;
      const detail =
        answer.header.opcode === Opcode.ERROR
          ? decodeErrorFrame(answer, this.version).message
          : `opcode ${answer.header.opcode}`;
      return `zdm-proxy: ${clusterLabel(cluster)} refused the credentials configured for it: ${detail}`;
    } catch (error) {
      return `zdm-proxy: ${clusterLabel(cluster)} authentication failed: ${(error as Error).message}`;
    }
  }

  drop(cluster: ClusterName): void {
    const link = this.#links[cluster];
    this.#links[cluster] = null;
    link?.close();
  }

  dropAll(): void {
    for (const cluster of CLUSTERS) this.drop(cluster);
  }

  close(): void {
    this.#closed = true;
    this.keepAlive = false;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.dropAll();
  }

  #lost(cluster: ClusterName, link: BackendConnection): void {
    this.options.metrics.nodeConnections(cluster, link.address, -1);
    if (this.#links[cluster] !== link) return;
    this.#links[cluster] = null;
    if (this.keepAlive) {
      this.options.logger.warn(
        { cluster, node: link.address },
        `lost the ${cluster} connection; reconnecting`,
      );
      this.#scheduleReconnect(cluster);
    }
  }

  #scheduleReconnect(cluster: ClusterName): void {
    const delay = this.#delay[cluster];
    this.#delay[cluster] = Math.min(delay * 2, RECONNECT_MAX_MS);
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.#reconnect(cluster).catch((error: unknown) =>
        this.options.logger.error({ err: error }, 'reconnect failed'),
      );
    }, delay);
    this.#timers.add(timer);
  }

  /** Opens a new connection to `cluster` and replays the handshake and the keyspace on it. */
  async #reconnect(cluster: ClusterName): Promise<void> {
    if (!this.keepAlive) return;
    let link: BackendConnection | undefined;
    try {
      link = await this.open(cluster);
      this.#links[cluster] = null; // not usable before the handshake is replayed
      const answer = await link.send(Opcode.STARTUP, 0, this.startupBody!);
      if (answer.header.opcode === Opcode.AUTHENTICATE) {
        const token = cluster === this.authCluster ? this.clientToken : undefined;
        const problem = await this.authenticate(cluster, link, token);
        if (problem !== null) throw new Error(problem);
      } else if (answer.header.opcode !== Opcode.READY) {
        throw new Error(`STARTUP answered with opcode ${answer.header.opcode}`);
      }
      if (this.keyspace !== null) {
        const query = `USE "${this.keyspace.replaceAll('"', '""')}"`;
        const use = encodeQuery({ query, params: queryParameters(Consistency.ONE) }, this.version);
        const result = await link.send(Opcode.QUERY, 0, use);
        if (result.header.opcode === Opcode.ERROR)
          throw new Error(decodeErrorFrame(result, this.version).message);
      }
      if (!this.keepAlive || link.closed) throw new Error('connection closed during the handshake');
      this.#links[cluster] = link;
      this.#delay[cluster] = RECONNECT_FIRST_MS;
      this.options.logger.info({ cluster, node: link.address }, `reconnected to ${cluster}`);
    } catch (error) {
      link?.close();
      this.options.logger.debug({ cluster, err: error }, `reconnecting to ${cluster} failed`);
      if (this.keepAlive) this.#scheduleReconnect(cluster);
    }
  }
}
