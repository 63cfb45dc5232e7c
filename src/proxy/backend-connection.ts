import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { ClusterLink, LinkHooks, LinkOptions } from './cluster-link.js';
import {
  ConnectionFramer,
  encodeHeader,
  encodeSegments,
  Opcode,
  PROTOCOL_VERSIONS,
  type RawFrame,
} from './codec/index.js';
import { Heartbeat } from './heartbeat.js';
import type { ClusterName } from './route-request.js';
import { InFlightRequests, RequestTimeoutError, StreamIdsExhaustedError, type Waiter } from './stream-ids.js';

export { RequestTimeoutError, StreamIdsExhaustedError };

/** The cluster connection is gone; requests in flight on it fail with this. */
export class BackendClosedError extends Error {
  override readonly name = 'BackendClosedError';
}

export interface BackendEndpoint {
  readonly cluster: ClusterName;
  readonly host: string;
  readonly port: number;
  /** TLS options; undefined for plain TCP. */
  readonly tls: tls.ConnectionOptions | undefined;
}

const EMPTY = Buffer.alloc(0);
const ignore = () => undefined;

/**
 * A ClusterLink over any duplex byte stream, speaking raw frames: a TCP/TLS socket in production
 * (`openTcpLink`), an in-memory pair in tests (memory-cluster-link.ts). Each request takes a stream
 * id of its lane; the response is matched by that id. It knows nothing of handshakes or routing:
 * the session sends STARTUP/AUTH_RESPONSE through `send` like any other request.
 */
export class StreamClusterLink implements ClusterLink {
  readonly #stream: Duplex;
  readonly #framer: ConnectionFramer;
  /** v5 after the answer to STARTUP: requests go out in segments (spec v5 §2.3). */
  #segmented = false;
  readonly #main: InFlightRequests;
  readonly #secondary: InFlightRequests | null;
  readonly #heartbeat: Heartbeat;
  readonly #version: number;
  #closed = false;
  #backedUp = false;

  constructor(
    readonly cluster: ClusterName,
    readonly address: string,
    stream: Duplex,
    options: LinkOptions,
    private readonly hooks: LinkHooks,
  ) {
    this.#stream = stream;
    this.#version = options.version;
    // Any version is read before segments start: a cluster that does not speak the session's
    // version answers STARTUP with a PROTOCOL_ERROR in its own, which the client must see to step down.
    this.#framer = new ConnectionFramer({
      supportedVersions: PROTOCOL_VERSIONS,
      switchAfter: (header) =>
        options.version >= 5 &&
        header.version >= 5 &&
        (header.opcode === Opcode.READY || header.opcode === Opcode.AUTHENTICATE),
    });
    const describe = () => `${cluster} ${address}`;
    this.#main = new InFlightRequests(options.maxStreamIds, 0, options.requestTimeoutMs, describe);
    this.#secondary =
      options.secondaryStreamIds > 0
        ? new InFlightRequests(
            options.secondaryStreamIds,
            options.maxStreamIds,
            options.secondaryTimeoutMs,
            describe,
          )
        : null;
    stream.on('data', (chunk: Buffer) => this.#onData(chunk));
    stream.on('error', (error: Error) => this.#close(error));
    stream.on('close', () => this.#close(undefined));
    stream.on('drain', () => {
      this.#backedUp = false;
      hooks.onDrain();
    });
    this.#heartbeat = new Heartbeat(
      options.heartbeatIntervalMs,
      options.heartbeatMisses,
      (done) => this.request(Opcode.OPTIONS, 0, EMPTY, (r) => done(!(r instanceof Error))),
      (missed) => {
        this.#stream.destroy();
        this.#close(new BackendClosedError(`${describe()} missed ${missed} heartbeats in a row`));
      },
    );
  }

  get closed(): boolean {
    return this.#closed;
  }

  get inFlight(): number {
    return this.#main.inUse;
  }

  get backedUp(): boolean {
    return this.#backedUp;
  }

  request(opcode: number, flags: number, body: Buffer, onResult: Waiter): void {
    if (this.#closed) {
      onResult(new BackendClosedError(`${this.cluster} connection ${this.address} is closed`));
      return;
    }
    const id = this.#main.add(onResult);
    if (id === undefined) {
      onResult(
        new StreamIdsExhaustedError(
          `all ${this.#main.size} stream ids of ${this.cluster} ${this.address} are in use`,
        ),
      );
      return;
    }
    this.#write(id, opcode, flags, body);
  }

  requestSecondary(opcode: number, flags: number, body: Buffer, onResult: Waiter = ignore): boolean {
    if (this.#closed || this.#backedUp || this.#secondary === null) return false;
    const id = this.#secondary.add(onResult);
    if (id === undefined) return false;
    this.#write(id, opcode, flags, body);
    return true;
  }

  send(opcode: number, flags: number, body: Buffer): Promise<RawFrame> {
    return new Promise((resolve, reject) => {
      this.request(opcode, flags, body, (result) =>
        result instanceof Error ? reject(result) : resolve(result),
      );
    });
  }

  close(): void {
    this.#stream.destroy();
    this.#close(undefined);
  }

  #write(id: number, opcode: number, flags: number, body: Buffer): void {
    const header = encodeHeader({
      version: this.#version,
      isResponse: false,
      flags,
      streamId: id,
      opcode,
      length: body.length,
    });
    const stream = this.#stream;
    stream.cork();
    let ok = true;
    if (this.#segmented) {
      for (const segment of encodeSegments([Buffer.concat([header, body])])) ok = stream.write(segment);
    } else {
      ok = stream.write(header);
      if (body.length > 0) ok = stream.write(body);
    }
    if (!ok) this.#backedUp = true;
    process.nextTick(uncork, stream);
  }

  #onData(chunk: Buffer): void {
    this.#heartbeat.input();
    this.#framed(this.#framer.push(chunk));
  }

  #framed({ frames, error }: ReturnType<ConnectionFramer['push']>): void {
    // READY or AUTHENTICATE of a v5 handshake: from here on both directions use segments. Set
    // before the answer is handed on, since its receiver may send the next request at once.
    if (this.#framer.waiting) this.#segmented = true;
    for (const frame of frames) {
      const id = frame.header.streamId;
      if (id < 0) {
        this.hooks.onEvent(frame);
        continue;
      }
      // A late answer (its request timed out) or one on the secondary lane is dropped here.
      const waiter = this.#secondary?.owns(id) ? this.#secondary.settle(id) : this.#main.settle(id);
      waiter?.(frame);
    }
    if (error === null && this.#framer.waiting) {
      this.#framed(this.#framer.startSegments(null));
      return;
    }
    if (error !== null) {
      this.#stream.destroy();
      this.#close(
        new BackendClosedError(`${this.cluster} ${this.address} sent a bad frame: ${error.message}`),
      );
    }
  }

  #close(error: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#heartbeat.stop();
    const failure = new BackendClosedError(
      `${this.cluster} connection ${this.address} closed${error === undefined ? '' : `: ${error.message}`}`,
    );
    this.#main.close(failure);
    this.#secondary?.close(failure);
    this.hooks.onClose(error);
  }
}

function uncork(stream: Duplex): void {
  stream.uncork();
}

/** Opens a TCP (or TLS) link; rejects after `connectTimeoutMs`. */
export function openTcpLink(
  endpoint: BackendEndpoint,
  options: LinkOptions & { readonly connectTimeoutMs: number },
  hooks: LinkHooks,
): Promise<ClusterLink> {
  return new Promise((resolve, reject) => {
    const socket =
      endpoint.tls === undefined
        ? net.connect({ host: endpoint.host, port: endpoint.port })
        : tls.connect({
            host: endpoint.host,
            port: endpoint.port,
            servername: net.isIP(endpoint.host) ? undefined : endpoint.host,
            ...endpoint.tls,
          });
    const address = `${endpoint.host}:${endpoint.port}`;
    const ready = endpoint.tls === undefined ? 'connect' : 'secureConnect';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new BackendClosedError(
          `no connection to ${endpoint.cluster} ${address} within ${options.connectTimeoutMs} ms`,
        ),
      );
    }, options.connectTimeoutMs);
    const failed = (error: Error) => {
      clearTimeout(timer);
      reject(
        new BackendClosedError(`cannot connect to ${endpoint.cluster} ${address}: ${error.message}`, {
          cause: error,
        }),
      );
    };
    socket.once('error', failed);
    socket.once(ready, () => {
      clearTimeout(timer);
      socket.off('error', failed);
      socket.setNoDelay(true);
      resolve(new StreamClusterLink(endpoint.cluster, address, socket, options, hooks));
    });
  });
}
