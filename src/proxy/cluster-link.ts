import type { RawFrame } from './codec/index.js';
import type { ClusterName } from './route-request.js';
import type { Waiter } from './stream-ids.js';

/**
 * One connection to one cluster node, as a session sees it: raw requests in, raw responses out.
 * Two implementations: `TcpClusterLink` (backend-connection.ts) over TCP/TLS, and
 * `MemoryClusterLink` (memory-cluster-link.ts), a scripted node for tests of routing, aggregation,
 * prepared-id mapping, timeouts and secondary reads without sockets.
 *
 * A link has two lanes of stream ids: the main lane for requests whose answer someone waits for,
 * and the secondary-read lane (DUAL_ASYNC_ON_SECONDARY copies), with ids, a deadline and a bound
 * of its own, so fire-and-forget copies can never take the ids a client's requests need.
 */
export interface ClusterLink {
  readonly cluster: ClusterName;
  /** host:port of the node. */
  readonly address: string;
  readonly closed: boolean;
  /** Requests on the main lane whose id is not free yet. */
  readonly inFlight: number;
  /** The connection's write buffer is full (a write returned false) and has not drained yet. */
  readonly backedUp: boolean;
  /**
   * Sends one request (a body in its final form). `onResult` is called exactly once: with the
   * response, a RequestTimeoutError at the deadline, StreamIdsExhaustedError when the main lane is
   * full, or another Error when the connection is gone.
   */
  request(opcode: number, flags: number, body: Buffer, onResult: Waiter): void;
  /**
   * A secondary read whose answer no client waits for; false when dropped (lane full, backed up,
   * closed). `onResult`, when given, is called once as for `request` (the metrics time it).
   */
  requestSecondary(opcode: number, flags: number, body: Buffer, onResult?: Waiter): boolean;
  /** `request` as a promise. */
  send(opcode: number, flags: number, body: Buffer): Promise<RawFrame>;
  close(): void;
}

/** How a link reports to its owner. */
export interface LinkHooks {
  /** Server-initiated frames (EVENT, stream -1). */
  readonly onEvent: (frame: RawFrame) => void;
  /** Called once when the link closes, whatever the reason. */
  readonly onClose: (error: Error | undefined) => void;
  /** The write buffer drained after the link was backed up. */
  readonly onDrain: () => void;
}

/** Lanes, deadlines and heartbeats of a link. */
export interface LinkOptions {
  readonly version: number;
  /** Stream ids of the main lane. */
  readonly maxStreamIds: number;
  /** Stream ids (so, in-flight bound) of the secondary-read lane; 0 disables secondary reads. */
  readonly secondaryStreamIds: number;
  readonly requestTimeoutMs: number;
  readonly secondaryTimeoutMs: number;
  /** An idle link sends OPTIONS this often... */
  readonly heartbeatIntervalMs: number;
  /** ...and is closed when this many in a row go unanswered. */
  readonly heartbeatMisses: number;
}

/** Opens a link to a node of `cluster` (the caller spreads sessions over the nodes). */
export type Connector = (cluster: ClusterName, version: number, hooks: LinkHooks) => Promise<ClusterLink>;
