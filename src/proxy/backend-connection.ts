import net from 'node:net';
import tls from 'node:tls';
import { encodeHeader, Framer, Opcode, type RawFrame } from './codec/index.js';
import type { ClusterName } from './route-request.js';
import { StreamIdPool } from './stream-ids.js';

/** The cluster connection is gone; requests in flight on it fail with this. */
export class BackendClosedError extends Error {
  override readonly name = 'BackendClosedError';
}

/** Every stream id of the cluster connection is in flight. */
export class StreamIdsExhaustedError extends Error {
  override readonly name = 'StreamIdsExhaustedError';
}

export interface BackendEndpoint {
  readonly cluster: ClusterName;
  readonly host: string;
  readonly port: number;
  /** TLS options; undefined for plain TCP. */
  readonly tls: tls.ConnectionOptions | undefined;
}

export interface BackendOptions {
  readonly version: number;
  readonly maxStreamIds: number;
  readonly connectTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  /** Server-initiated frames (EVENT, stream -1). */
  readonly onEvent?: (frame: RawFrame) => void;
  /** Called once when the connection closes, whatever the reason. */
  readonly onClose?: (error: Error | undefined) => void;
}

type Waiter = (frame: RawFrame | Error) => void;

/**
 * One connection to one cluster node, speaking raw frames. Each request takes a stream id of its
 * own from a bounded pool; the response is matched by that id. It knows nothing of handshakes or
 * routing: the session sends STARTUP/AUTH_RESPONSE through `send` like any other request.
 */
export class BackendConnection {
  readonly #socket: net.Socket;
  readonly #framer: Framer;
  readonly #ids: StreamIdPool;
  readonly #waiters: (Waiter | undefined)[];
  readonly #options: BackendOptions;
  #closed = false;
  #lastActivity = Date.now();
  #heartbeat: NodeJS.Timeout | undefined;

  private constructor(
    readonly endpoint: BackendEndpoint,
    socket: net.Socket,
    options: BackendOptions,
  ) {
    this.#socket = socket;
    this.#options = options;
    this.#framer = new Framer({ supportedVersions: [options.version] });
    this.#ids = new StreamIdPool(options.maxStreamIds);
    this.#waiters = new Array(options.maxStreamIds);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (error) => this.#close(error));
    socket.on('close', () => this.#close(undefined));
    this.#heartbeat = setInterval(() => this.#beat(), options.heartbeatIntervalMs);
    this.#heartbeat.unref();
  }

  /** Opens a TCP (or TLS) connection; rejects after `connectTimeoutMs`. */
  static open(endpoint: BackendEndpoint, options: BackendOptions): Promise<BackendConnection> {
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
      const ready = endpoint.tls === undefined ? 'connect' : 'secureConnect';
      const timer = setTimeout(() => {
        socket.destroy();
        reject(
          new BackendClosedError(
            `no connection to ${endpoint.cluster} ${endpoint.host}:${endpoint.port} within ${options.connectTimeoutMs} ms`,
          ),
        );
      }, options.connectTimeoutMs);
      const failed = (error: Error) => {
        clearTimeout(timer);
        reject(
          new BackendClosedError(
            `cannot connect to ${endpoint.cluster} ${endpoint.host}:${endpoint.port}: ${error.message}`,
            { cause: error },
          ),
        );
      };
      socket.once('error', failed);
      socket.once(ready, () => {
        clearTimeout(timer);
        socket.off('error', failed);
        resolve(new BackendConnection(endpoint, socket, options));
      });
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  get inFlight(): number {
    return this.#ids.inUse;
  }

  get address(): string {
    return `${this.endpoint.host}:${this.endpoint.port}`;
  }

  /**
   * Sends one request (a body already in its final form) and resolves with the response frame.
   * `onResponse` gets the frame or an Error; it is called exactly once.
   */
  request(opcode: number, flags: number, body: Buffer, onResponse: Waiter): void {
    if (this.#closed) {
      onResponse(new BackendClosedError(`${this.endpoint.cluster} connection ${this.address} is closed`));
      return;
    }
    const id = this.#ids.acquire();
    if (id === undefined) {
      onResponse(
        new StreamIdsExhaustedError(
          `all ${this.#ids.size} stream ids of ${this.endpoint.cluster} ${this.address} are in use`,
        ),
      );
      return;
    }
    this.#waiters[id] = onResponse;
    const header = encodeHeader({
      version: this.#options.version,
      isResponse: false,
      flags,
      streamId: id,
      opcode,
      length: body.length,
    });
    this.#lastActivity = Date.now();
    const socket = this.#socket;
    socket.cork();
    socket.write(header);
    if (body.length > 0) socket.write(body);
    process.nextTick(uncork, socket);
  }

  /** `request` as a promise. */
  send(opcode: number, flags: number, body: Buffer): Promise<RawFrame> {
    return new Promise((resolve, reject) => {
      this.request(opcode, flags, body, (result) =>
        result instanceof Error ? reject(result) : resolve(result),
      );
    });
  }

  close(): void {
    this.#socket.destroy();
    this.#close(undefined);
  }

  #onData(chunk: Buffer): void {
    this.#lastActivity = Date.now();
    const { frames, error } = this.#framer.push(chunk);
    for (const frame of frames) {
      const id = frame.header.streamId;
      if (id < 0) {
        this.#options.onEvent?.(frame);
        continue;
      }
      const waiter = this.#waiters[id];
      if (waiter === undefined) continue;
      this.#waiters[id] = undefined;
      this.#ids.release(id);
      waiter(frame);
    }
    if (error !== null) {
      this.#socket.destroy();
      this.#close(
        new BackendClosedError(`${this.endpoint.cluster} ${this.address} sent a bad frame: ${error.message}`),
      );
    }
  }

  #beat(): void {
    if (this.#closed || Date.now() - this.#lastActivity < this.#options.heartbeatIntervalMs) return;
    this.request(Opcode.OPTIONS, 0, Buffer.alloc(0), () => undefined);
  }

  #close(error: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#heartbeat);
    const failure = new BackendClosedError(
      `${this.endpoint.cluster} connection ${this.address} closed${error === undefined ? '' : `: ${error.message}`}`,
    );
    for (let id = 0; id < this.#waiters.length; id++) {
      const waiter = this.#waiters[id];
      if (waiter === undefined) continue;
      this.#waiters[id] = undefined;
      this.#ids.release(id);
      waiter(failure);
    }
    this.#options.onClose?.(error);
  }
}

function uncork(socket: net.Socket): void {
  socket.uncork();
}
