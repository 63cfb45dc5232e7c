import type { Duplex } from 'node:stream';
import type { Logger } from '../log/logger.js';
import { aggregateWriteResponse, failedOn, type Outcome } from './aggregate-response.js';
import { StreamIdsExhaustedError } from './backend-connection.js';
import { CLUSTERS, ClusterLinks, type Connector, type Credentials } from './cluster-links.js';
import {
  BatchType,
  CodecError,
  decodeBatch,
  decodeStartup,
  type ErrorBody,
  ErrorCode,
  encodeSupported,
  Framer,
  type FramingError,
  isCompressed,
  messageOffset,
  Opcode,
  type ProtocolVersion,
  type RawFrame,
  StartupOption,
  simpleError,
  UnsupportedVersionError,
  unsupportedVersionError,
  withDefaultTimestamp,
  withPreparedId,
} from './codec/index.js';
import {
  errorFrame,
  executeId,
  isUnprepared,
  preparedIdOf,
  requestConsistency,
  responseFrame,
  statementText,
  withUnpreparedId,
} from './frame-reading.js';
import { handshakePlan } from './handshake-plan.js';
import type { PreparedCache } from './prepared-cache.js';
import { protocolError, timeoutError, unavailableError } from './proxy-errors.js';
import type { ProxyMetrics, RequestType } from './proxy-metrics.js';
import { type ClusterName, type Route, routeRequest } from './route-request.js';
import { classifyStatement, type Statement, wantsDefaultTimestamp } from './statement.js';
import { originLocalQuery, virtualAnswer } from './virtual-answer.js';
import type { VirtualHost } from './virtual-tables.js';

/** The steps of a client connection (spec v4 §4.1.1-4.1.2: STARTUP, then optional SASL). */
export const SessionStep = {
  AWAITING_STARTUP: 'awaiting_startup',
  CONNECTING: 'connecting',
  AUTHENTICATING: 'authenticating',
  READY: 'ready',
  CLOSED: 'closed',
} as const;
export type SessionStep = (typeof SessionStep)[keyof typeof SessionStep];

/** What a session needs from the rest of the proxy; everything is injected. */
export interface SessionContext {
  readonly primary: ClusterName;
  readonly dualReads: boolean;
  readonly requestTimeoutMs: number;
  readonly forwardClientCredentialsToOrigin: boolean;
  readonly replaceDefaultTimestamp: boolean;
  /** Configured credentials, used where the client's own do not go. */
  readonly credentials: Readonly<Record<ClusterName, Credentials | undefined>>;
  readonly connect: Connector;
  readonly prepared: PreparedCache;
  /** The virtual cluster drivers see: this proxy and its siblings. */
  readonly topology: { readonly hosts: readonly VirtualHost[]; readonly self: number; readonly port: number };
  /** CQL versions Origin supports, for SUPPORTED. */
  readonly cqlVersions: readonly string[];
  readonly timestamps: () => bigint;
  readonly metrics: ProxyMetrics;
  readonly logger: Logger;
}

const SUPPORTED_VERSIONS = [3, 4];
const statementCache = new Map<string, Statement>();
const STATEMENT_CACHE_SIZE = 2000;

/** Classifies statement text, remembering recent texts (applications repeat the same few). */
function statementOf(text: string): Statement {
  let statement = statementCache.get(text);
  if (statement === undefined) {
    statement = classifyStatement(text);
    if (statementCache.size >= STATEMENT_CACHE_SIZE) statementCache.clear();
    statementCache.set(text, statement);
  }
  return statement;
}

type Result = RawFrame | Error | undefined;

/**
 * One client connection: reads frames from a duplex stream (a TCP/TLS socket, or an in-memory
 * pair in tests), keeps one connection to each cluster, relays the handshake, routes requests and
 * picks which response the client gets. Bad input closes this connection and nothing else.
 */
export class ClientSession {
  #step: SessionStep = SessionStep.AWAITING_STARTUP;
  readonly #framer = new Framer({ supportedVersions: SUPPORTED_VERSIONS });
  readonly #links: ClusterLinks;
  #version: ProtocolVersion = 4;
  #proxyAuth: Promise<string | null> = Promise.resolve(null);
  #registered = false;
  /** Request timers, cleared when the session closes. */
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #log: Logger;

  constructor(
    private readonly stream: Duplex,
    private readonly context: SessionContext,
  ) {
    this.#log = context.logger;
    this.#links = new ClusterLinks({
      connect: context.connect,
      credentials: context.credentials,
      metrics: context.metrics,
      logger: context.logger,
      onEvent: (cluster, frame) => this.#onEvent(cluster, frame),
    });
    context.metrics.clientConnections(1);
    stream.on('data', (chunk: Buffer) => this.#onData(chunk));
    stream.on('error', (error) => this.#log.debug({ err: error }, 'client connection error'));
    stream.on('close', () => this.close());
  }

  get step(): SessionStep {
    return this.#step;
  }

  /** The handshake is done: from now on lost cluster connections are reopened. */
  #ready(): void {
    this.#step = SessionStep.READY;
    this.#links.keepAlive = true;
  }

  #closed(): boolean {
    return this.#step === SessionStep.CLOSED;
  }

  close(): void {
    if (this.#step === SessionStep.CLOSED) return;
    this.#step = SessionStep.CLOSED;
    this.context.metrics.clientConnections(-1);
    for (const timer of this.#timers) clearTimeout(timer);
    this.#links.close();
    this.stream.destroy();
  }

  // ---- input -------------------------------------------------------------------------------

  #onData(chunk: Buffer): void {
    if (this.#step === SessionStep.CLOSED) return;
    const { frames, error } = this.#framer.push(chunk);
    for (const frame of frames) {
      if (this.#closed()) return;
      try {
        this.#onFrame(frame);
      } catch (failure) {
        // Only malformed client input reaches here (the codec throws CodecError and nothing else).
        this.#fail(frame.header.streamId, failure);
        return;
      }
    }
    if (error !== null) this.#onFramingError(error);
  }

  #onFramingError(error: FramingError): void {
    if (error instanceof UnsupportedVersionError) {
      // Drivers match this message and retry with a lower version (REFERENCE §1), on stream 0.
      const version = error.version >= 3 && error.version <= 4 ? error.version : 4;
      this.#write(errorFrame(version as ProtocolVersion, 0, unsupportedVersionError(error.version)));
    } else {
      this.#write(errorFrame(this.#version, 0, protocolError(`zdm-proxy: ${error.message}`)));
    }
    this.#log.info({ reason: error.message }, 'closing client connection after a framing error');
    this.#endAfterWrite();
  }

  #fail(streamId: number, failure: unknown): void {
    const message = failure instanceof CodecError ? failure.message : String(failure);
    this.#write(
      errorFrame(this.#version, streamId, protocolError(`zdm-proxy: malformed request: ${message}`)),
    );
    this.#log.info({ reason: message }, 'closing client connection after a malformed request');
    this.#endAfterWrite();
  }

  #endAfterWrite(): void {
    this.#step = SessionStep.CLOSED;
    this.context.metrics.clientConnections(-1);
    for (const timer of this.#timers) clearTimeout(timer);
    this.#links.close();
    // Flush the error, then close for good even if the peer never closes its side.
    this.stream.end(() => this.stream.destroy());
  }

  #onFrame(frame: RawFrame): void {
    const { header } = frame;
    if (header.isResponse) throw new CodecError('a client sent a response frame');
    if (isCompressed(header)) throw new CodecError('compressed frame, but no compression was negotiated');
    if (header.opcode === Opcode.OPTIONS) {
      this.#write(
        responseFrame(
          header.version as ProtocolVersion,
          header.streamId,
          Opcode.SUPPORTED,
          this.#supported(),
        ),
      );
      return;
    }
    switch (this.#step) {
      case SessionStep.AWAITING_STARTUP:
        if (header.opcode !== Opcode.STARTUP) {
          this.#reply(header.streamId, protocolError('zdm-proxy: expected STARTUP or OPTIONS first'));
          return;
        }
        this.#guard(this.#startup(frame, decodeStartup(frame.body).options));
        return;
      case SessionStep.AUTHENTICATING:
        if (header.opcode !== Opcode.AUTH_RESPONSE) {
          this.#reply(header.streamId, protocolError('zdm-proxy: authentication is not complete'));
          return;
        }
        this.#guard(this.#authResponse(frame));
        return;
      case SessionStep.READY:
        if (header.version !== this.#version)
          throw new CodecError(`version ${header.version} after a v${this.#version} STARTUP`);
        this.#dispatch(frame);
        return;
      default:
        this.#reply(header.streamId, protocolError('zdm-proxy: the handshake is in progress'));
    }
  }

  #supported(): Buffer {
    return encodeSupported({
      options: new Map([
        [StartupOption.CQL_VERSION, this.context.cqlVersions],
        [StartupOption.COMPRESSION, []],
        [StartupOption.PROTOCOL_VERSIONS, ['3/v3', '4/v4']],
      ]),
    });
  }

  // ---- handshake ---------------------------------------------------------------------------

  /** Async steps must never reject unhandled: a bug there closes this client, not the proxy. */
  #guard(work: Promise<void>): void {
    work.catch((error: unknown) => {
      this.#log.error({ err: error }, 'closing a client connection after an unexpected error');
      this.close();
    });
  }

  async #startup(frame: RawFrame, options: ReadonlyMap<string, string>): Promise<void> {
    const stream = frame.header.streamId;
    this.#version = frame.header.version as ProtocolVersion;
    this.#links.version = this.#version;
    const compression = options.get(StartupOption.COMPRESSION);
    if (compression !== undefined && compression !== '' && compression.toLowerCase() !== 'none') {
      this.#reply(
        stream,
        protocolError(`zdm-proxy: compression ${compression} is not supported; connect without compression`),
      );
      return;
    }
    this.#step = SessionStep.CONNECTING;
    this.#links.startupBody = Buffer.from(frame.body);
    const opened = await Promise.allSettled(CLUSTERS.map((c) => this.#links.open(c)));
    if (this.#step !== SessionStep.CONNECTING) return;
    const failed = opened.findIndex((o) => o.status === 'rejected');
    if (failed >= 0) {
      const reason = (opened[failed] as PromiseRejectedResult).reason as Error;
      return this.#abortHandshake(stream, unavailableError(CLUSTERS[failed]!, reason.message, false));
    }
    let answers: RawFrame[];
    try {
      answers = await Promise.all(
        CLUSTERS.map((c) => this.#links.get(c)!.send(Opcode.STARTUP, 0, this.#links.startupBody!)),
      );
    } catch (error) {
      return this.#abortHandshake(
        stream,
        simpleError(ErrorCode.SERVER_ERROR, `zdm-proxy: handshake failed: ${(error as Error).message}`),
      );
    }
    if (this.#step !== SessionStep.CONNECTING) return;
    const refused = answers.find((a) => a.header.opcode === Opcode.ERROR);
    if (refused !== undefined) {
      // E.g. a version one cluster does not speak: the client sees the cluster's own error and retries.
      this.#relay(refused, stream);
      this.#links.dropAll();
      this.#step = SessionStep.AWAITING_STARTUP;
      return;
    }
    const [origin, target] = answers as [RawFrame, RawFrame];
    const plan = handshakePlan(
      origin.header.opcode === Opcode.AUTHENTICATE,
      target.header.opcode === Opcode.AUTHENTICATE,
      this.context.forwardClientCredentialsToOrigin,
    );
    this.#proxyAuth = Promise.all(
      plan.proxy.map((c) => this.#links.authenticate(c, this.#links.get(c)!)),
    ).then((problems) => problems.find((p) => p !== null) ?? null);
    this.#links.authCluster = plan.client;
    if (plan.client === null) {
      this.#ready();
      this.#write(responseFrame(this.#version, stream, Opcode.READY, Buffer.alloc(0)));
      return;
    }
    this.#step = SessionStep.AUTHENTICATING;
    this.#relay(plan.client === 'origin' ? origin : target, stream);
  }

  #abortHandshake(stream: number, error: ErrorBody): void {
    if (this.#step === SessionStep.CLOSED) return;
    this.#reply(stream, error);
    this.#links.dropAll();
    this.#step = SessionStep.AWAITING_STARTUP;
  }

  async #authResponse(frame: RawFrame): Promise<void> {
    const stream = frame.header.streamId;
    const cluster = this.#links.authCluster!;
    const backend = this.#links.get(cluster);
    if (backend === null)
      return this.#reply(stream, unavailableError(cluster, 'connection lost during authentication', false));
    this.#links.clientToken = Buffer.from(frame.body);
    let answer: RawFrame;
    try {
      answer = await backend.send(Opcode.AUTH_RESPONSE, frame.header.flags, frame.body);
    } catch (error) {
      return this.#reply(stream, unavailableError(cluster, (error as Error).message, false));
    }
    if (answer.header.opcode !== Opcode.AUTH_SUCCESS) {
      this.#relay(answer, stream);
      return;
    }
    const problem = await this.#proxyAuth;
    if (this.#step !== SessionStep.AUTHENTICATING) return;
    if (problem !== null) {
      this.#reply(stream, simpleError(ErrorCode.BAD_CREDENTIALS, problem));
      return;
    }
    this.#ready();
    this.#relay(answer, stream);
  }

  #onEvent(cluster: ClusterName, frame: RawFrame): void {
    // Only Origin's schema changes reach clients; the clusters' topology and status stay hidden.
    if (cluster !== 'origin' || !this.#registered || frame.header.opcode !== Opcode.EVENT) return;
    const at = messageOffset(frame.body, frame.header.flags, true, this.#version);
    const length = frame.body.readUInt16BE(at);
    if (frame.body.toString('utf8', at + 2, at + 2 + length) === 'SCHEMA_CHANGE') this.#write(frame.raw);
  }

  // ---- requests ----------------------------------------------------------------------------

  #dispatch(frame: RawFrame): void {
    const { opcode, streamId } = frame.header;
    switch (opcode) {
      case Opcode.QUERY: {
        const statement = statementOf(statementText(frame, this.#version));
        this.#route(frame, statement, this.#routeOf(opcode, statement), frame.body, frame.body);
        return;
      }
      case Opcode.PREPARE:
        this.#prepare(frame, statementOf(statementText(frame, this.#version)));
        return;
      case Opcode.EXECUTE: {
        const id = executeId(frame, this.#version);
        const entry = this.context.prepared.get(id);
        if (entry === undefined) {
          this.#unprepared(streamId, id);
          return;
        }
        const route = this.#routeOf(opcode, entry.statement);
        const needsTarget = route.kind === 'forward' && (route.to !== 'origin' || route.asyncTo === 'target');
        if (needsTarget && entry.targetId === null) {
          this.#unprepared(streamId, id);
          return;
        }
        const targetBody = needsTarget
          ? withPreparedId(frame.body, opcode, this.#version, () => entry.targetId!, frame.header.flags)
          : frame.body;
        this.#route(frame, entry.statement, route, frame.body, targetBody, id);
        return;
      }
      case Opcode.BATCH:
        this.#batch(frame);
        return;
      case Opcode.REGISTER:
        this.#registered = true;
        this.#route(frame, null, this.#routeOf(opcode, null), frame.body, frame.body);
        return;
      default:
        this.#reply(
          streamId,
          protocolError(`zdm-proxy: unexpected opcode 0x${opcode.toString(16)} after the handshake`),
        );
    }
  }

  #routeOf(opcode: number, statement: Statement | null): Route {
    return routeRequest(opcode, statement, {
      primary: this.context.primary,
      dualReads: this.context.dualReads,
      keyspace: this.#links.keyspace,
    });
  }

  #unprepared(stream: number, id: Buffer): void {
    this.context.metrics.pscacheMiss();
    this.#reply(stream, {
      kind: 'unprepared',
      code: ErrorCode.UNPREPARED,
      message: `zdm-proxy: prepared statement 0x${id.toString('hex')} is unknown to the proxy; prepare it again`,
      id,
    });
  }

  #batch(frame: RawFrame): void {
    const version = this.#version;
    const at = messageOffset(frame.body, frame.header.flags, false, version);
    const batch = decodeBatch(frame.body.subarray(at), version);
    let stampable = batch.type !== BatchType.COUNTER;
    const targetIds = new Map<string, Buffer>();
    for (const child of batch.children) {
      let statement: Statement;
      if (child.kind === 'query') {
        statement = statementOf(child.query);
      } else {
        const entry = this.context.prepared.get(child.id);
        if (entry === undefined || entry.targetId === null) {
          this.#unprepared(frame.header.streamId, child.id);
          return;
        }
        targetIds.set(child.id.toString('hex'), entry.targetId);
        statement = entry.statement;
      }
      if (!wantsDefaultTimestamp(statement)) stampable = false;
    }
    const stamp: Statement = { kind: 'write', conditional: false, counter: !stampable, timestamped: false };
    const targetBody =
      targetIds.size === 0
        ? frame.body
        : withPreparedId(
            frame.body,
            Opcode.BATCH,
            version,
            (id) => targetIds.get(id.toString('hex'))!,
            frame.header.flags,
          );
    this.#route(frame, stamp, this.#routeOf(Opcode.BATCH, null), frame.body, targetBody);
  }

  /** Sends a request where its route says, stamping writes that go to both clusters. */
  #route(
    frame: RawFrame,
    statement: Statement | null,
    route: Route,
    originBody: Buffer,
    targetBody: Buffer,
    originId?: Buffer,
  ): void {
    const stream = frame.header.streamId;
    if (route.kind === 'local') {
      this.#write(responseFrame(this.#version, stream, Opcode.SUPPORTED, this.#supported()));
      return;
    }
    if (route.kind === 'virtual') {
      this.#guard(this.#virtual(frame, route.table, statement));
      return;
    }
    if (route.to !== 'both') {
      if (route.asyncTo !== null)
        this.#fireAndForget(route.asyncTo, frame, route.asyncTo === 'origin' ? originBody : targetBody);
      this.#forwardOne(
        route.to,
        frame,
        route.to === 'origin' ? originBody : targetBody,
        route.read,
        originId,
      );
      return;
    }
    let origin = originBody;
    let target = targetBody;
    if (this.context.replaceDefaultTimestamp && statement !== null && wantsDefaultTimestamp(statement)) {
      const ts = this.context.timestamps();
      const { opcode, flags } = frame.header;
      origin = withDefaultTimestamp(originBody, opcode, this.#version, ts, { frameFlags: flags });
      target =
        originBody === targetBody
          ? origin
          : withDefaultTimestamp(targetBody, opcode, this.#version, ts, { frameFlags: flags });
    }
    const onSuccess =
      statement?.kind === 'use' ? () => (this.#links.keyspace = statement.keyspace) : undefined;
    this.#forwardBoth(frame, origin, target, originId, onSuccess);
  }

  #forwardOne(cluster: ClusterName, frame: RawFrame, body: Buffer, read: boolean, originId?: Buffer): void {
    const { streamId, opcode, flags } = frame.header;
    const done = this.context.metrics.startRequest(read ? (`reads_${cluster}` as RequestType) : 'writes');
    const deadline = this.#deadline(() => {
      done();
      if (read) this.context.metrics.failedRead(cluster);
      this.#reply(
        streamId,
        timeoutError(cluster, this.context.requestTimeoutMs, this.#requestShape(frame, read)),
      );
    });
    this.#links.send(cluster, opcode, flags, body, (result) => {
      if (!deadline.settle()) return;
      done();
      if (result instanceof Error) {
        if (read) this.context.metrics.failedRead(cluster);
        this.#reply(
          streamId,
          unavailableError(cluster, result.message, result instanceof StreamIdsExhaustedError),
        );
        return;
      }
      if (result.header.opcode === Opcode.ERROR && read) this.context.metrics.failedRead(cluster);
      if (cluster === 'target' && originId !== undefined && isUnprepared(result)) {
        this.#write(withUnpreparedId(result, this.#version, originId), streamId);
        return;
      }
      this.#relay(result, streamId);
    });
  }

  #forwardBoth(
    frame: RawFrame,
    originBody: Buffer,
    targetBody: Buffer,
    originId: Buffer | undefined,
    onSuccess?: () => void,
  ): void {
    const { streamId, opcode, flags } = frame.header;
    const results: Record<ClusterName, Result> = { origin: undefined, target: undefined };
    let pending = 2;
    const done = this.context.metrics.startRequest('writes');
    const finish = () => {
      done();
      const outcome = (r: Result): Outcome =>
        r === undefined
          ? 'timeout'
          : r instanceof Error
            ? 'unavailable'
            : r.header.opcode === Opcode.ERROR
              ? 'error'
              : 'ok';
      const o = outcome(results.origin);
      const t = outcome(results.target);
      const failed = failedOn(o, t);
      if (failed !== null) this.context.metrics.failedWrite(failed);
      else onSuccess?.();
      const verdict = aggregateWriteResponse(o, t, this.context.primary);
      if (verdict.kind === 'timeout') {
        this.#reply(
          streamId,
          timeoutError(verdict.cluster, this.context.requestTimeoutMs, this.#requestShape(frame, false)),
        );
      } else if (verdict.kind === 'unavailable') {
        const error = results[verdict.cluster] as Error;
        this.#reply(
          streamId,
          unavailableError(verdict.cluster, error.message, error instanceof StreamIdsExhaustedError),
        );
      } else {
        const chosen = results[verdict.from] as RawFrame;
        if (verdict.from === 'target' && originId !== undefined && isUnprepared(chosen)) {
          this.#write(withUnpreparedId(chosen, this.#version, originId), streamId);
        } else {
          this.#relay(chosen, streamId);
        }
      }
    };
    const deadline = this.#deadline(finish);
    for (const cluster of CLUSTERS) {
      this.#links.send(cluster, opcode, flags, cluster === 'origin' ? originBody : targetBody, (result) => {
        results[cluster] = result;
        if (--pending === 0 && deadline.settle()) finish();
      });
    }
  }

  #prepare(frame: RawFrame, statement: Statement): void {
    const { streamId, opcode, flags } = frame.header;
    const results: Record<ClusterName, Result> = { origin: undefined, target: undefined };
    let pending = 2;
    const finish = () => {
      const origin = results.origin;
      const target = results.target;
      const originOk =
        origin instanceof Object && !(origin instanceof Error) && origin.header.opcode === Opcode.RESULT;
      const targetOk =
        target instanceof Object && !(target instanceof Error) && target.header.opcode === Opcode.RESULT;
      if (originOk) {
        const originId = preparedIdOf(origin, this.#version);
        const targetId = targetOk ? preparedIdOf(target, this.#version) : null;
        // A read can run on Origin alone while Target is away; anything else needs both ids.
        if (
          originId !== null &&
          (targetId !== null || (statement.kind === 'select' && this.context.primary === 'origin'))
        ) {
          this.context.prepared.set(originId, { targetId, statement });
          this.#relay(origin, streamId);
          return;
        }
      }
      const failed: ClusterName = originOk ? 'target' : 'origin';
      const result = results[failed];
      if (result === undefined)
        this.#reply(
          streamId,
          timeoutError(failed, this.context.requestTimeoutMs, {
            read: false,
            consistency: null,
            batch: false,
          }),
        );
      else if (result instanceof Error)
        this.#reply(streamId, unavailableError(failed, result.message, false));
      else this.#relay(result, streamId);
    };
    const deadline = this.#deadline(finish);
    for (const cluster of CLUSTERS) {
      this.#links.send(cluster, opcode, flags, frame.body, (result) => {
        results[cluster] = result;
        if (--pending === 0 && deadline.settle()) finish();
      });
    }
  }

  /** DUAL_ASYNC_ON_SECONDARY: the secondary gets the read too; its answer only warms its caches. */
  #fireAndForget(cluster: ClusterName, frame: RawFrame, body: Buffer): void {
    this.#links.send(cluster, frame.header.opcode, frame.header.flags, body, () => undefined);
  }

  /** system.local / system.peers: built from Origin's own system.local, asked on this session's connection. */
  async #virtual(
    frame: RawFrame,
    table: 'local' | 'peers' | 'peers_v2',
    statement: Statement | null,
  ): Promise<void> {
    const stream = frame.header.streamId;
    const origin =
      table === 'peers_v2'
        ? null
        : await new Promise<RawFrame | Error>((resolve) =>
            this.#links.send('origin', Opcode.QUERY, 0, originLocalQuery(this.#version), resolve),
          );
    const answer = virtualAnswer(table, statement, origin, this.context.topology, this.#version);
    if (answer.kind === 'relay') this.#relay(answer.frame, stream);
    else if (answer.kind === 'error') this.#reply(stream, answer.error);
    else this.#write(responseFrame(this.#version, stream, Opcode.RESULT, answer.body));
  }

  // ---- plumbing ----------------------------------------------------------------------------

  /** A request timer: `settle()` is true for the first of response and timeout, false after. */
  #deadline(onTimeout: () => void): { settle: () => boolean } {
    let settled = false;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (settled) return;
      settled = true;
      onTimeout();
    }, this.context.requestTimeoutMs);
    this.#timers.add(timer);
    return {
      settle: () => {
        if (settled) return false;
        settled = true;
        clearTimeout(timer);
        this.#timers.delete(timer);
        return true;
      },
    };
  }

  #requestShape(
    frame: RawFrame,
    read: boolean,
  ): { read: boolean; consistency: number | null; batch: boolean } {
    const { opcode } = frame.header;
    const hasConsistency = opcode === Opcode.QUERY || opcode === Opcode.EXECUTE || opcode === Opcode.BATCH;
    return {
      read,
      consistency: hasConsistency ? requestConsistency(frame, this.#version) : null,
      batch: opcode === Opcode.BATCH,
    };
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
    this.stream.write(frame);
  }
}
