import type { Logger } from '../log/logger.js';
import { frameForV4, frameForV5, V4ToV5Link, V5ToV4Link } from './bridge-links.js';
import type { ClusterLink, Connector } from './cluster-link.js';
import {
  Consistency,
  type ErrorBody,
  encodeAuthToken,
  encodeQuery,
  FrameFlag,
  Opcode,
  type ProtocolVersion,
  plainSaslToken,
  queryParameters,
  type RawFrame,
  v5OnlyFields,
} from './codec/index.js';
import { decodeErrorFrame } from './frame-reading.js';
import type { NodeRequestType } from './node-metrics.js';
import { clusterLabel } from './proxy-errors.js';
import type { ProxyMetrics } from './proxy-metrics.js';
import type { ClusterName } from './route-request.js';
import { v4Refusal } from './version-bridge.js';

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

export type { Connector };

export interface ClusterLinksOptions {
  readonly connect: Connector;
  /** Configured credentials, used where the client's own do not go. */
  readonly credentials: Readonly<Record<ClusterName, Credentials | undefined>>;
  readonly metrics: ProxyMetrics;
  readonly logger: Logger;
  readonly onEvent: (cluster: ClusterName, frame: RawFrame) => void;
  /** A link's write buffer drained: a session paused for it may read its client again. */
  readonly onDrain: () => void;
  /** The primary cluster: the client decodes rows by its columns (result-metadata.ts). Default origin. */
  readonly primary?: ClusterName;
}

export const CLUSTERS: readonly ClusterName[] = ['origin', 'target'];
/** The client's tracing and custom-payload flags travel with the body; nothing else does. */
const PASSED_FLAGS = FrameFlag.TRACING | FrameFlag.CUSTOM_PAYLOAD;
const RECONNECT_FIRST_MS = 250;
const RECONNECT_MAX_MS = 8000;

/** Backoff with jitter: between half and all of `delay`, so sessions that lost a node together do not reconnect in step. */
export function jittered(delay: number, random: number = Math.random()): number {
  return Math.round(delay / 2 + (delay / 2) * random);
}

/** The body of `USE "<keyspace>"` (identifier quoted, so any keyspace name round-trips). */
export function useBody(keyspace: string, version: ProtocolVersion): Buffer {
  const query = `USE "${keyspace.replaceAll('"', '""')}"`;
  return encodeQuery({ query, params: queryParameters(Consistency.ONE) }, version);
}

/**
 * One client session's connections to Origin and Target. After the handshake it keeps them alive:
 * a lost connection is reopened with backoff and gets the handshake (STARTUP, credentials) and the
 * session's keyspace replayed, so the client never notices beyond the requests that failed meanwhile.
 */
export class ClusterLinks {
  readonly #links: Record<ClusterName, ClusterLink | null> = { origin: null, target: null };
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
  /** The version each cluster is spoken to in, where it differs from the client's (version-bridge.ts). */
  readonly #bridged: Record<ClusterName, ProtocolVersion | null> = { origin: null, target: null };

  constructor(private readonly options: ClusterLinksOptions) {}

  /** The protocol version of a cluster's connection: the client's, unless the cluster refused it. */
  versionOf(cluster: ClusterName): ProtocolVersion {
    return this.#bridged[cluster] ?? this.version;
  }

  /** Speaks the client's version to every cluster again (a new STARTUP). */
  resetVersions(): void {
    this.#bridged.origin = null;
    this.#bridged.target = null;
  }

  /**
   * Replaces a cluster's connection by one in `version` (the cluster refused the client's); the
   * session keeps speaking the client's version to it, translated (version-bridge.ts).
   */
  async reopenAt(cluster: ClusterName, version: ProtocolVersion): Promise<ClusterLink> {
    const bridgeable = version + this.version === 9; // v4 ↔ v5, the pairs bridge-links.ts translates
    if (version !== this.version && !bridgeable)
      throw new Error(`a v${this.version} client cannot be bridged to a v${version} cluster`);
    this.drop(cluster);
    this.#bridged[cluster] = version === this.version ? null : version;
    return this.open(cluster);
  }

  /** An event from a bridged cluster, in the client's version. */
  #inClientVersion(frame: RawFrame): RawFrame {
    return this.version === 4 ? frameForV4(frame).frame : frameForV5(frame);
  }

  /**
   * Why a v5 client's request cannot go to a cluster bridged to v4 (version-bridge.ts), or null.
   * Asked before the request goes anywhere, so a refused write reaches neither cluster.
   */
  bridgeRefusal(opcode: number, flags: number, body: Buffer): ErrorBody | null {
    // On every request's path: nothing to look at unless a cluster is bridged down to v4.
    if (this.version !== 5 || (this.#bridged.origin !== 4 && this.#bridged.target !== 4)) return null;
    const bridged = CLUSTERS.filter((c) => this.#bridged[c] === 4);
    let fields: ReturnType<typeof v5OnlyFields>;
    try {
      fields = v5OnlyFields(opcode, body, flags);
    } catch {
      return null; // A malformed body fails on its normal path, with the error that names it.
    }
    const kind = opcode === Opcode.EXECUTE ? 'execute' : 'other';
    for (const cluster of bridged) {
      const refusal = v4Refusal(kind, fields, this.keyspace, cluster);
      if (refusal !== null) return refusal;
    }
    return null;
  }

  get(cluster: ClusterName): ClusterLink | null {
    return this.#links[cluster];
  }

  /** A link's write buffer is full: the session stops reading its client until it drains. */
  get backedUp(): boolean {
    return this.#links.origin?.backedUp === true || this.#links.target?.backedUp === true;
  }

  /** A copy of a read whose answer nobody waits for (DUAL_ASYNC_ON_SECONDARY); false when dropped. */
  sendSecondary(cluster: ClusterName, opcode: number, flags: number, body: Buffer): boolean {
    const link = this.#links[cluster];
    if (link === null) return false;
    const read = this.options.metrics.nodes.asyncRead(cluster, link.address, this.version);
    return read.sent(link.requestSecondary(opcode, flags & PASSED_FLAGS, body, read.done));
  }

  /**
   * Sends on a cluster's connection; without one, `onResult` gets an Error at once. `type`: how
   * the node-level metrics count it (a read, or anything else).
   */
  send(
    cluster: ClusterName,
    opcode: number,
    flags: number,
    body: Buffer,
    onResult: (result: RawFrame | Error) => void,
    type: NodeRequestType = 'writes',
  ): void {
    const link = this.#links[cluster];
    if (link === null) {
      onResult(new Error(this.keepAlive ? 'no connection (reconnecting)' : 'no connection'));
      return;
    }
    link.request(
      opcode,
      flags & PASSED_FLAGS,
      body,
      this.options.metrics.nodes.request(cluster, link.address, this.version, type, onResult),
    );
  }

  async open(cluster: ClusterName): Promise<ClusterLink> {
    const version = this.versionOf(cluster);
    const bridged = version !== this.version;
    try {
      const inner = await this.options.connect(cluster, version, {
        onEvent: (frame) => this.options.onEvent(cluster, bridged ? this.#inClientVersion(frame) : frame),
        onClose: () => this.#lost(cluster, link),
        onDrain: this.options.onDrain,
      });
      const holdsColumns = cluster === (this.options.primary ?? 'origin');
      const link = !bridged
        ? inner
        : this.version === 4
          ? new V4ToV5Link(inner, holdsColumns)
          : new V5ToV4Link(inner);
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
  async authenticate(cluster: ClusterName, link: ClusterLink, token?: Buffer | null): Promise<string | null> {
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

  #lost(cluster: ClusterName, link: ClusterLink): void {
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

  /**
   * Puts `cluster`'s connection back in this session's keyspace after a USE that failed elsewhere:
   * USE the previous keyspace again, or, when there was none (CQL cannot leave a keyspace), open
   * a fresh connection, which the handshake replay leaves in no keyspace.
   */
  async restoreKeyspace(cluster: ClusterName): Promise<void> {
    const link = this.#links[cluster];
    if (link !== null && this.keyspace !== null) {
      const answer = await link.send(Opcode.QUERY, 0, useBody(this.keyspace, this.version)).catch(() => null);
      if (answer !== null && answer.header.opcode !== Opcode.ERROR) return;
    }
    this.drop(cluster);
    if (this.keepAlive) await this.#reconnect(cluster);
  }

  #scheduleReconnect(cluster: ClusterName): void {
    const delay = this.#delay[cluster];
    this.#delay[cluster] = Math.min(delay * 2, RECONNECT_MAX_MS);
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.#reconnect(cluster).catch((error: unknown) =>
        this.options.logger.error({ err: error }, 'reconnect failed'),
      );
    }, jittered(delay));
    this.#timers.add(timer);
  }

  /** Opens a new connection to `cluster` and replays the handshake and the keyspace on it. */
  async #reconnect(cluster: ClusterName): Promise<void> {
    if (!this.keepAlive) return;
    let link: ClusterLink | undefined;
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
        const result = await link.send(Opcode.QUERY, 0, useBody(this.keyspace, this.version));
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
