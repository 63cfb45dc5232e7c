import type { Duplex } from 'node:stream';
import type { Logger } from '../log/logger.js';
import { ClientWire } from './client-wire.js';
import type { Connector } from './cluster-link.js';
import { ClusterLinks, type Credentials } from './cluster-links.js';
import {
  type BlockCompressor,
  type BodyCompression,
  CodecError,
  ConnectionFramer,
  type ConnectionFramerResult,
  DecompressedTooLargeError,
  decodeStartup,
  type ErrorBody,
  encodeSupported,
  FrameTooLargeError,
  type FramingError,
  messageOffset,
  Opcode,
  type ProtocolVersion,
  type RawFrame,
  type SegmentFramingError,
  StartupOption,
  UnsupportedVersionError,
  unsupportedVersionError,
} from './codec/index.js';
import type { DivergenceRecorder } from './divergence-journal.js';
import { errorFrame, frameTooLargeError, responseFrame } from './frame-reading.js';
import { InputGate } from './input-gate.js';
import type { PreparedCache } from './prepared-cache.js';
import { chooseCompression, refusalVersion, supportedOptions } from './protocol-support.js';
import { protocolError } from './proxy-errors.js';
import type { ProxyMetrics } from './proxy-metrics.js';
import { endWithFrame } from './refuse-connection.js';
import { RequestForwarder } from './request-forwarder.js';
import type { ClusterName } from './route-request.js';
import {
  authResponseStep,
  type HandshakeAnswer,
  type HandshakeStep,
  startupStep,
} from './session-handshake.js';
import type { SessionRegistry } from './session-registry.js';
import type { VirtualHost } from './virtual-tables.js';
import { WriteBatch } from './write-batch.js';

/** The steps of a client connection (spec v4 §4.1.1-4.1.2: STARTUP, then optional SASL). */
export const SessionStep = {
  AWAITING_STARTUP: 'awaiting_startup',
  CONNECTING: 'connecting',
  AUTHENTICATING: 'authenticating',
  READY: 'ready',
  CLOSED: 'closed',
} as const;
export type SessionStep = (typeof SessionStep)[keyof typeof SessionStep];

/** Bounds on one client connection. */
export interface SessionLimits {
  /** Largest frame body once the handshake is done (Cassandra's native_transport_max_frame_size). */
  readonly maxFrameBytes: number;
  /** Largest frame body before it: STARTUP and SASL messages are small. */
  readonly preAuthFrameBytes: number;
  /** A connection that has not completed its handshake by then is closed; 0: never. */
  readonly handshakeTimeoutMs: number;
  /** A ready connection that sends nothing and waits for nothing this long is closed; 0: never. */
  readonly idleTimeoutMs: number;
  /** Requests in flight beyond which the proxy stops reading the client. */
  readonly maxInFlight: number;
}

/** What a session needs from the rest of the proxy; everything is injected. */
export interface SessionContext {
  readonly primary: ClusterName;
  readonly dualReads: boolean;
  readonly requestTimeoutMs: number;
  readonly forwardClientCredentialsToOrigin: boolean;
  readonly replaceDefaultTimestamp: boolean;
  /** ZDM_REPLACE_CQL_FUNCTIONS (request-forwarder.ts); off when absent. */
  readonly replaceCqlFunctions?: boolean;
  /** ZDM_TARGET_CONSISTENCY_LEVEL as a wire value; null or absent: the client's. */
  readonly targetConsistency?: number | null;
  /** Configured credentials, used where the client's own do not go. */
  readonly credentials: Readonly<Record<ClusterName, Credentials | undefined>>;
  readonly connect: Connector;
  readonly prepared: PreparedCache;
  /** The virtual cluster drivers see: this proxy and its siblings. */
  readonly topology: { readonly hosts: readonly VirtualHost[]; readonly self: number; readonly port: number };
  /** CQL versions Origin supports, for SUPPORTED. */
  readonly cqlVersions: readonly string[];
  readonly timestamps: () => bigint;
  /** The divergence journal (request-forwarder.ts records into it); undefined when disabled. */
  readonly journal?: DivergenceRecorder | undefined;
  readonly limits: SessionLimits;
  /** Versions and compressions offered to clients; absent: v3 and v4 without compression. */
  readonly protocol?: ProtocolOffer;
  /** The proxy's open sessions (for a graceful stop); absent in tests of one session. */
  readonly registry?: SessionRegistry;
  readonly metrics: ProxyMetrics;
  readonly logger: Logger;
}

/** What the proxy offers its clients (protocol-support.ts decides from it). */
export interface ProtocolOffer {
  /** Protocol versions accepted (ZDM_BLOCKED_PROTOCOL_VERSIONS removed). */
  readonly versions: readonly ProtocolVersion[];
  /** v3/v4 body compressions that work here, in preference order. */
  readonly compressions: readonly BodyCompression[];
  /** LZ4 blocks for v5 segments; null when LZ4 is not available. */
  readonly lz4Block: BlockCompressor | null;
}

const DEFAULT_OFFER: ProtocolOffer = { versions: [3, 4], compressions: [], lz4Block: null };

/**
 * One client connection, as steps: read frames from a duplex stream (a TCP/TLS socket, or an
 * in-memory pair in tests) while the input gate allows (input-gate.ts), go through the handshake
 * (session-handshake.ts), then hand each request to the request path (request-forwarder.ts).
 *
 * Fault isolation: everything the session runs (input, handshake, answers, events) runs inside
 * its error boundary; an unexpected error closes this session with a logged reason, never the
 * process. Every request ends in exactly one answer: the links time requests out themselves.
 */
/** How long a client that is being closed after an error may keep its socket to read that error. */
const CLOSE_LINGER_MS = 2000;

export class ClientSession {
  #step: SessionStep = SessionStep.AWAITING_STARTUP;
  readonly #framer: ConnectionFramer;
  readonly #wire = new ClientWire();
  readonly #offer: ProtocolOffer;
  /** v5 with LZ4: segments are compressed once they start. */
  #segmentCompressor: BlockCompressor | null = null;
  /** The compression agreed in STARTUP, for the log. */
  #compression = 'none';
  readonly #links: ClusterLinks;
  readonly #gate: InputGate;
  readonly #forwarder: RequestForwarder;
  #version: ProtocolVersion = 4;
  #proxyAuth: Promise<string | null> = Promise.resolve(null);
  #inFlight = 0;
  #clientBlocked = false;
  #draining: (() => void) | null = null;
  #inputSeen = false;
  /** Answers of this tick, written on the next (#write). */
  readonly #batch = new WriteBatch();
  #flushScheduled = false;
  #timer: NodeJS.Timeout | undefined;
  readonly #log: Logger;

  constructor(
    private readonly stream: Duplex,
    private readonly context: SessionContext,
  ) {
    this.#log = context.logger;
    this.#offer = context.protocol ?? DEFAULT_OFFER;
    this.#framer = new ConnectionFramer({
      supportedVersions: this.#offer.versions,
      maxBodyLength: context.limits.preAuthFrameBytes,
      // A v5 connection may switch to segments right after the answer to its STARTUP (spec v5 §2.3).
      switchAfter: (header) => header.version >= 5 && header.opcode === Opcode.STARTUP,
    });
    this.#links = new ClusterLinks({
      connect: context.connect,
      credentials: context.credentials,
      metrics: context.metrics,
      logger: context.logger,
      onEvent: (cluster, frame) => this.#guarded('event', () => this.#onEvent(cluster, frame)),
      onDrain: () => this.#gate.pump(),
      primary: context.primary,
    });
    this.#gate = new InputGate(
      stream,
      () => this.#canTake(),
      (frame) => this.#onFrame(frame),
    );
    const session = this;
    this.#forwarder = new RequestForwarder(
      {
        get version() {
          return session.#version;
        },
        write: (frame, streamId) => this.#write(frame, streamId),
        started: () => this.#inFlight++,
        finished: () => this.#finished(),
        guarded: (stage, work) => this.#guarded(stage, work),
        fault: (stage, error) => this.#fault(stage, error),
        supported: () => this.#supported(),
      },
      this.#links,
      context,
    );
    context.metrics.clientConnections(1);
    stream.on('data', (chunk: Buffer) => this.#guarded('input', () => this.#onData(chunk)));
    stream.on('error', (error) => this.#log.debug({ err: error }, 'client connection error'));
    stream.on('close', () => this.close());
    stream.on('drain', () => {
      this.#clientBlocked = false;
      this.#guarded('input', () => this.#gate.pump());
    });
    context.registry?.add(this);
    if (context.registry?.draining === true) {
      this.#log.info('refusing a client: the proxy is shutting down');
      this.close();
      return;
    }
    if (context.limits.handshakeTimeoutMs > 0) {
      this.#timer = setTimeout(() => {
        this.#log.info(
          { timeoutMs: context.limits.handshakeTimeoutMs },
          'closing a client that did not complete its handshake in time (ZDM_PROXY_HANDSHAKE_TIMEOUT_MS)',
        );
        this.close();
      }, context.limits.handshakeTimeoutMs);
    }
  }

  get step(): SessionStep {
    return this.#step;
  }

  /** Requests of this client not answered yet. */
  get inFlight(): number {
    return this.#inFlight;
  }

  #isClosed(): boolean {
    return this.#step === SessionStep.CLOSED;
  }

  close(): void {
    if (this.#step === SessionStep.CLOSED) return;
    this.#shut();
    this.stream.destroy();
  }

  /** Stops reading the client; resolves once every request in flight is answered, then closes. */
  drain(): Promise<void> {
    if (this.#step === SessionStep.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.#draining = resolve;
      this.#gate.pump();
      this.#drained();
    });
  }

  #shut(): void {
    this.#step = SessionStep.CLOSED;
    clearTimeout(this.#timer);
    clearInterval(this.#timer);
    this.context.metrics.clientConnections(-1);
    this.context.registry?.delete(this);
    this.#links.close();
    this.#draining?.();
  }

  /** The error boundary: a fault in this session's code closes this session, and only it. */
  #guarded(stage: string, work: () => void): void {
    try {
      work();
    } catch (error) {
      this.#fault(stage, error);
    }
  }

  #fault(stage: string, error: unknown): void {
    this.context.metrics.sessionFault(stage);
    this.#log.error(
      { err: error, stage },
      `closing a client connection after an unexpected error (${stage})`,
    );
    this.close();
  }

  #canTake(): boolean {
    return (
      this.#step !== SessionStep.CLOSED &&
      this.#draining === null &&
      !this.#clientBlocked &&
      this.#inFlight < this.context.limits.maxInFlight &&
      !this.#links.backedUp
    );
  }

  // ---- input -------------------------------------------------------------------------------

  #onData(chunk: Buffer): void {
    if (this.#step === SessionStep.CLOSED) return;
    this.#inputSeen = true;
    this.#framed(this.#framer.push(chunk));
  }

  #framed({ frames, error }: ConnectionFramerResult): void {
    this.#gate.push(frames);
    if (error !== null && !this.#isClosed()) this.#onFramingError(error);
  }

  #onFramingError(error: FramingError | SegmentFramingError): void {
    if (error instanceof UnsupportedVersionError) {
      // Drivers match this message and retry with a lower version (REFERENCE §1), on stream 0;
      // DSE versions (0x41, 0x42) and blocked ones (ZDM_BLOCKED_PROTOCOL_VERSIONS) land here too.
      this.#write(
        errorFrame(refusalVersion(this.#offer.versions), 0, unsupportedVersionError(error.version)),
      );
    } else if (error instanceof FrameTooLargeError) {
      // Refused from the header alone: the body is never buffered (spec v4 §2.5, length field).
      const setting =
        this.#step === SessionStep.READY
          ? 'ZDM_PROXY_MAX_FRAME_SIZE_BYTES'
          : 'ZDM_PROXY_PREAUTH_MAX_FRAME_SIZE_BYTES';
      this.#write(errorFrame(this.#version, error.header.streamId, frameTooLargeError(error, setting)));
    } else {
      this.#write(errorFrame(this.#version, 0, protocolError(`zdm-proxy: ${error.message}`)));
    }
    this.#log.info({ reason: error.message }, 'closing client connection after a framing error');
    this.#endAfterWrite();
  }

  #endAfterWrite(): void {
    this.#flush();
    this.#shut();
    // Flush the error and half-close; input still arriving (the rest of an oversized body) is
    // discarded until the peer closes, so it reads the error instead of a reset. Closed for good
    // after the linger even if the peer never closes its side.
    void endWithFrame(this.stream, Buffer.alloc(0), CLOSE_LINGER_MS);
  }

  #onFrame(frame: RawFrame): void {
    try {
      this.#handle(frame);
    } catch (failure) {
      if (!(failure instanceof CodecError)) throw failure;
      // Malformed client input (the codec throws CodecError and nothing else).
      const message =
        failure instanceof DecompressedTooLargeError
          ? `zdm-proxy: ${failure.message} (ZDM_PROXY_MAX_FRAME_SIZE_BYTES applies to the decompressed body); the connection is closed`
          : `zdm-proxy: malformed request: ${failure.message}`;
      this.#write(errorFrame(this.#version, frame.header.streamId, protocolError(message)));
      this.#log.info({ reason: failure.message }, 'closing client connection after a malformed request');
      this.#endAfterWrite();
    }
  }

  #handle(received: RawFrame): void {
    if (received.header.isResponse) throw new CodecError('a client sent a response frame');
    const frame = this.#wire.decodeRequest(received, this.#framer.maxBodyLength);
    const { header } = frame;
    if (header.opcode === Opcode.OPTIONS) {
      const version = header.version as ProtocolVersion;
      this.#write(responseFrame(version, header.streamId, Opcode.SUPPORTED, this.#supported()));
      return;
    }
    switch (this.#step) {
      case SessionStep.AWAITING_STARTUP:
        if (header.opcode !== Opcode.STARTUP) {
          this.#reply(header.streamId, protocolError('zdm-proxy: expected STARTUP or OPTIONS first'));
          return;
        }
        this.#startup(frame, decodeStartup(frame.body).options);
        return;
      case SessionStep.AUTHENTICATING:
        if (header.opcode !== Opcode.AUTH_RESPONSE) {
          this.#reply(header.streamId, protocolError('zdm-proxy: authentication is not complete'));
          return;
        }
        this.#step = SessionStep.CONNECTING;
        this.#handshake(frame, authResponseStep(this.#links, frame, this.#proxyAuth));
        return;
      case SessionStep.READY:
        if (header.version !== this.#version)
          throw new CodecError(`version ${header.version} after a v${this.#version} STARTUP`);
        this.#forwarder.dispatch(frame);
        return;
      default:
        this.#reply(header.streamId, protocolError('zdm-proxy: the handshake is in progress'));
    }
  }

  #supported(): Buffer {
    const { versions, compressions } = this.#offer;
    return encodeSupported({
      options: supportedOptions(
        versions,
        compressions.map((c) => c.algorithm),
        this.context.cqlVersions,
      ),
    });
  }

  // ---- handshake ---------------------------------------------------------------------------

  #startup(frame: RawFrame, options: ReadonlyMap<string, string>): void {
    this.#version = frame.header.version as ProtocolVersion;
    this.#links.version = this.#version;
    const choice = chooseCompression(
      options.get(StartupOption.COMPRESSION),
      this.#version,
      this.#offer.compressions.map((c) => c.algorithm),
    );
    if (choice.kind === 'refuse') {
      this.#reply(frame.header.streamId, choice.error);
      this.#afterStartupAnswer(false);
      return;
    }
    if (choice.kind === 'use') {
      this.#compression = choice.algorithm;
      if (this.#version >= 5) this.#segmentCompressor = this.#offer.lz4Block;
      else
        this.#wire.useBodyCompression(
          this.#offer.compressions.find((c) => c.algorithm === choice.algorithm)!,
        );
    }
    this.#step = SessionStep.CONNECTING;
    const step = startupStep(this.#links, frame.body, this.context.forwardClientCredentialsToOrigin);
    this.#handshake(
      frame,
      step.then((s) => {
        this.#proxyAuth = s.proxyAuth;
        return s;
      }),
    );
  }

  /** Applies a handshake step's outcome once it is known, unless the session closed meanwhile. */
  #handshake(frame: RawFrame, step: Promise<HandshakeStep>): void {
    step.then(
      ({ next, answer }) =>
        this.#guarded('handshake', () => {
          if (this.#step !== SessionStep.CONNECTING) return;
          this.#step = next;
          if (next === SessionStep.READY) this.#ready();
          this.#answerHandshake(frame.header.streamId, answer);
        }),
      (error: unknown) => this.#fault('handshake', error),
    );
  }

  #answerHandshake(stream: number, answer: HandshakeAnswer): void {
    if (answer.kind === 'relay') this.#relay(answer.frame, stream);
    else if (answer.kind === 'error') this.#reply(stream, answer.error);
    else this.#write(responseFrame(this.#version, stream, Opcode.READY, Buffer.alloc(0)));
    const opcode =
      answer.kind === 'relay'
        ? answer.frame.header.opcode
        : answer.kind === 'ready'
          ? Opcode.READY
          : Opcode.ERROR;
    this.#afterStartupAnswer(opcode === Opcode.READY || opcode === Opcode.AUTHENTICATE);
  }

  /**
   * After the answer to a v5 STARTUP: READY or AUTHENTICATE switch both directions to segments
   * (spec v5 §2.3), an ERROR leaves the connection on plain frames. Input held since the STARTUP
   * is framed now. Nothing to do for v3/v4, or after a later handshake message.
   */
  #afterStartupAnswer(switched: boolean): void {
    if (!this.#framer.waiting) return;
    if (!switched) {
      this.#framed(this.#framer.continueFrames());
      return;
    }
    this.#wire.useSegments(this.#segmentCompressor);
    this.#framed(this.#framer.startSegments(this.#segmentCompressor));
  }

  /** The handshake is done: lost cluster connections are reopened, the full frame size applies, idle clients are closed. */
  #ready(): void {
    this.#links.keepAlive = true;
    this.#wire.compressResponses();
    this.#log.info(
      { protocolVersion: this.#version, compression: this.#compression, segments: this.#wire.segmented },
      'client session ready',
    );
    // Full frame size from now on (frames already buffered are checked against it too).
    this.#framer.setMaxBodyLength(this.context.limits.maxFrameBytes);
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const idleMs = this.context.limits.idleTimeoutMs;
    if (idleMs > 0) {
      // Two quiet half-periods in a row: closed between idleMs and 1.5 × idleMs after the last input.
      let quiet = 0;
      this.#timer = setInterval(() => {
        if (this.#inputSeen || this.#inFlight > 0) {
          this.#inputSeen = false;
          quiet = 0;
        } else if (++quiet >= 2) {
          this.#log.info({ idleMs }, 'closing an idle client connection (ZDM_PROXY_IDLE_TIMEOUT_MS)');
          this.close();
        }
      }, idleMs / 2);
      this.#timer.unref();
    }
  }

  #onEvent(cluster: ClusterName, frame: RawFrame): void {
    // Only Origin's schema changes reach clients; the clusters' topology and status stay hidden.
    if (cluster !== 'origin' || !this.#forwarder.registered || frame.header.opcode !== Opcode.EVENT) return;
    const at = messageOffset(frame.body, frame.header.flags, true, this.#version);
    const length = frame.body.readUInt16BE(at);
    if (frame.body.toString('utf8', at + 2, at + 2 + length) === 'SCHEMA_CHANGE') this.#write(frame.raw);
  }

  // ---- requests ----------------------------------------------------------------------------

  // ---- plumbing ----------------------------------------------------------------------------

  #finished(): void {
    this.#inFlight--;
    this.#gate.pump();
    // After the caller has written this answer.
    if (this.#draining !== null && this.#inFlight === 0) process.nextTick(() => this.#drained());
  }

  #drained(): void {
    if (this.#draining === null || this.#inFlight > 0 || this.#isClosed()) return;
    this.#log.debug('client drained');
    this.#endAfterWrite();
  }

  /** Relays a cluster's response under the client's stream id (the frame is not copied). */
  #relay(frame: RawFrame, streamId: number): void {
    this.#write(frame.raw, streamId);
  }

  #reply(streamId: number, error: ErrorBody): void {
    this.#write(errorFrame(this.#version, streamId, error));
  }

  #write(frame: Buffer, streamId?: number): void {
    if (this.#step === SessionStep.CLOSED || this.stream.destroyed) return;
    if (streamId !== undefined) frame.writeInt16BE(streamId, 2);
    // Answers written in one tick (a cluster's read often holds many) leave in one write: a system
    // call, or even a stream write, per answer was the proxy's largest cost per request under load.
    // They are encoded now, in the wire's current form (it changes after the handshake).
    this.#wire.encodeInto(frame, this.#batch);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      process.nextTick(() => this.#guarded('answer', () => this.#flush()));
    }
  }

  /** Writes what this tick's answers left in the batch. */
  #flush(): void {
    this.#flushScheduled = false;
    if (this.#batch.empty || this.stream.destroyed) return;
    const parts = this.#batch.take();
    if (parts.length > 1) this.stream.cork();
    // A client that does not read its answers is not read either, until it catches up.
    for (const part of parts) if (!this.stream.write(part)) this.#clientBlocked = true;
    if (parts.length > 1) this.stream.uncork();
  }
}
