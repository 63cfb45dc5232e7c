import {
  aggregatePrepare,
  aggregateWriteResponse,
  failedOn,
  type Outcome,
  type PrepareOutcome,
} from './aggregate-response.js';
import { CLUSTERS, type ClusterLinks } from './cluster-links.js';
import {
  BatchType,
  decodeBatch,
  type ErrorBody,
  ErrorCode,
  executeResultMetadataId,
  messageOffset,
  Opcode,
  type ProtocolVersion,
  parseUuid,
  type RawFrame,
  withConsistency,
  withDefaultTimestamp,
  withPreparedId,
  withQueryText,
  withResultMetadataId,
} from './codec/index.js';
import { divergenceEntries, preparedKeyOfResult, type WriteRequest } from './divergence-entries.js';
import type { DivergenceRecorder } from './divergence-journal.js';
import {
  batchWantsTimestamp,
  type ForwardRoute,
  forwardPlan,
  stampsTimestamp,
  targetConsistencyOf,
} from './forward-plan.js';
import {
  clientPreparedFrame,
  errorFrame,
  executeId,
  isUnprepared,
  preparedIdOf,
  preparedNowMarkers,
  preparedResultOf,
  preparedStatement,
  requestConsistency,
  responseFrame,
  rowsNewMetadataId,
  statementText,
  withUnpreparedId,
} from './frame-reading.js';
import type { PreparedCache, PreparedEntry } from './prepared-cache.js';
import { batchWithNow, executeWithNow, type NowMarker, nowCallsToMarkers } from './prepared-now.js';
import { protocolError, timeoutError, unavailableError } from './proxy-errors.js';
import type { ProxyMetrics, RequestType } from './proxy-metrics.js';
import { replaceNowCalls } from './replace-now-calls.js';
import {
  executeResultMetadataIdFor,
  type ResultMetadataIds,
  resultMetadataSource,
} from './result-metadata.js';
import { type ClusterName, type Route, routeRequest } from './route-request.js';
import { classifyStatement, type Statement } from './statement.js';
import { RequestTimeoutError, StreamIdsExhaustedError } from './stream-ids.js';
import { timeUuidGenerator } from './time-uuid.js';
import { originLocalQuery, type VirtualTopology, virtualAnswer } from './virtual-answer.js';
import { writtenTables } from './written-tables.js';

/** What the forwarder needs of its session. */
export interface ForwarderHost {
  readonly version: ProtocolVersion;
  /** Writes a frame to the client, under `streamId` when given (the frame's own otherwise). */
  write(frame: Buffer, streamId?: number): void;
  /** A request is in flight... */
  started(): void;
  /** ...and is answered. */
  finished(): void;
  /** Runs `work` inside the session's error boundary. */
  guarded(stage: string, work: () => void): void;
  fault(stage: string, error: unknown): void;
  /** The SUPPORTED body the proxy answers OPTIONS with. */
  supported(): Buffer;
}

/** The settings routing and answering depend on. */
export interface ForwardingContext {
  readonly primary: ClusterName;
  readonly dualReads: boolean;
  readonly requestTimeoutMs: number;
  readonly replaceDefaultTimestamp: boolean;
  readonly prepared: PreparedCache;
  readonly topology: VirtualTopology;
  readonly timestamps: () => bigint;
  readonly metrics: ProxyMetrics;
  /** ZDM_REPLACE_CQL_FUNCTIONS: `now()` in write texts becomes a proxy-made timeuuid (replace-now-calls.ts). */
  readonly replaceCqlFunctions?: boolean;
  /** ZDM_TARGET_CONSISTENCY_LEVEL: the consistency of writes sent to Target; null or absent: the client's. */
  readonly targetConsistency?: number | null;
  /** Where writes that succeeded on one cluster only are recorded; none: not recorded. */
  readonly journal?: DivergenceRecorder | undefined;
}

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

/** One client request sent to one cluster or both, until the client has its answer. */
interface Forwarded {
  readonly frame: RawFrame;
  readonly read: boolean;
  /** Set for an EXECUTE: an UNPREPARED from Target is rewritten to name this (Origin's) id. */
  readonly originId: Buffer | undefined;
  readonly statement: Statement | null;
  readonly done: () => void;
  readonly results: Record<ClusterName, Result>;
  pending: number;
}

/**
 * The request path of one ready session: route each request (route-request.ts, forward-plan.ts),
 * map prepared ids between the clusters, send it on the session's cluster links and pick the
 * client's answer (aggregate-response.ts). Every request ends in exactly one answer: the links
 * time requests out themselves, and every callback runs inside the session's error boundary.
 */
export class RequestForwarder {
  /** The client sent REGISTER: Origin's schema events reach it. */
  registered = false;
  /** Replaces `now()` calls in a statement text; null when ZDM_REPLACE_CQL_FUNCTIONS is off. */
  readonly #replaceNow: ((text: string) => string | null) | null;
  /** Timeuuid bytes for the proxy's `now()` markers; null when ZDM_REPLACE_CQL_FUNCTIONS is off. */
  readonly #timeUuids: (() => Buffer) | null;

  constructor(
    private readonly host: ForwarderHost,
    private readonly links: ClusterLinks,
    private readonly context: ForwardingContext,
  ) {
    const timeUuids = context.replaceCqlFunctions === true ? timeUuidGenerator() : null;
    this.#replaceNow = timeUuids === null ? null : (text) => replaceNowCalls(text, timeUuids);
    this.#timeUuids = timeUuids === null ? null : () => parseUuid(timeUuids());
  }

  /** Routes one request of a ready session and sends it on its way; the answer goes out through the host. */
  dispatch(frame: RawFrame): void {
    const { opcode, streamId } = frame.header;
    const refusal = this.links.bridgeRefusal(opcode, frame.header.flags, frame.body);
    if (refusal !== null) {
      this.#reply(streamId, refusal);
      return;
    }
    switch (opcode) {
      case Opcode.QUERY: {
        const statement = statementOf(statementText(frame, this.host.version));
        const sent = statement.kind === 'write' ? this.#withNowReplaced(frame) : frame;
        this.#route(sent, statement, this.#routeOf(opcode, statement));
        return;
      }
      case Opcode.PREPARE:
        this.#prepare(frame, statementOf(statementText(frame, this.host.version)));
        return;
      case Opcode.EXECUTE: {
        const id = executeId(frame, this.host.version);
        const entry = this.context.prepared.get(id);
        if (entry === undefined) {
          this.#unprepared(streamId, id);
          return;
        }
        const sent = this.#executeWithNow(frame, entry.nowMarkers ?? []);
        this.#route(sent, entry.statement, this.#routeOf(opcode, entry.statement), id, entry);
        return;
      }
      case Opcode.BATCH:
        this.#batch(frame);
        return;
      case Opcode.REGISTER:
        this.registered = true;
        this.#route(frame, null, this.#routeOf(opcode, null));
        return;
      default:
        this.#reply(
          streamId,
          protocolError(`zdm-proxy: unexpected opcode 0x${opcode.toString(16)} after the handshake`),
        );
    }
  }

  /**
   * The frame with its statement texts' `now()` calls replaced (a QUERY's text, a BATCH's query
   * children), when ZDM_REPLACE_CQL_FUNCTIONS is on: both clusters then get the same text.
   */
  #withNowReplaced(frame: RawFrame): RawFrame {
    const replace = this.#replaceNow;
    if (replace === null) return frame;
    const { opcode, flags } = frame.header;
    const body = withQueryText(frame.body, opcode, this.host.version, replace, flags);
    return body === frame.body ? frame : { ...frame, body };
  }

  /** An EXECUTE with fresh timeuuids bound to the proxy's `now()` markers, the same for both clusters. */
  #executeWithNow(frame: RawFrame, markers: readonly NowMarker[]): RawFrame {
    const next = this.#timeUuids;
    if (markers.length === 0 || next === null) return frame;
    const uuids = markers.map(() => next());
    const body = executeWithNow(frame.body, frame.header.flags, this.host.version, markers, uuids);
    return { ...frame, body };
  }

  /** A write's body for Target: with ZDM_TARGET_CONSISTENCY_LEVEL's consistency when one is set. */
  #targetWriteBody(frame: RawFrame, statement: Statement | null, body: Buffer): Buffer {
    const { opcode, flags } = frame.header;
    const level = targetConsistencyOf(opcode, statement, this.context.targetConsistency ?? null);
    return level === null ? body : withConsistency(body, opcode, this.host.version, level, flags);
  }

  #routeOf(opcode: number, statement: Statement | null): Route {
    return routeRequest(opcode, statement, {
      primary: this.context.primary,
      dualReads: this.context.dualReads,
      keyspace: this.links.keyspace,
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

  #batch(received: RawFrame): void {
    const version = this.host.version;
    // Children are classified from the client's texts (the statement cache sees each text once).
    const at = messageOffset(received.body, received.header.flags, false, version);
    const batch = decodeBatch(received.body.subarray(at), version);
    const targetIds = new Map<string, Buffer>();
    const statements: Statement[] = [];
    const nowMarkers: (readonly NowMarker[])[] = [];
    for (const child of batch.children) {
      nowMarkers.push([]);
      if (child.kind === 'query') {
        statements.push(statementOf(child.query));
        continue;
      }
      const entry = this.context.prepared.get(child.id);
      if (entry === undefined || entry.targetId === null) {
        this.#unprepared(received.header.streamId, child.id);
        return;
      }
      targetIds.set(child.id.toString('hex'), entry.targetId);
      statements.push(entry.statement);
      nowMarkers[nowMarkers.length - 1] = entry.nowMarkers ?? [];
    }
    const frame = this.#withNowReplaced(this.#batchWithNow(received, nowMarkers));
    const stamp = batchWantsTimestamp(batch.type === BatchType.COUNTER, statements);
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
    this.#sendBoth(
      frame,
      stamp ? STAMPED_BATCH : null,
      frame.body,
      this.#targetWriteBody(frame, null, targetBody),
      undefined,
    );
  }

  /** A BATCH with fresh timeuuids bound to its prepared children's `now()` markers. */
  #batchWithNow(frame: RawFrame, markers: readonly (readonly NowMarker[])[]): RawFrame {
    const next = this.#timeUuids;
    if (next === null || markers.every((m) => m.length === 0)) return frame;
    const body = batchWithNow(frame.body, frame.header.flags, this.host.version, (i) => markers[i]!, next);
    return { ...frame, body };
  }

  /**
   * Sends a request where its route says. `originId`/`entry` are set for an EXECUTE: the
   * statement's id on Origin (the one the client knows) and what the proxy knows of it, among
   * which its id on Target (null when Target never prepared it).
   */
  #route(
    frame: RawFrame,
    statement: Statement | null,
    route: Route,
    originId?: Buffer,
    entry?: PreparedEntry,
  ): void {
    const targetId = entry?.targetId;
    const stream = frame.header.streamId;
    if (route.kind === 'local') {
      this.host.write(responseFrame(this.host.version, stream, Opcode.SUPPORTED, this.host.supported()));
      return;
    }
    if (route.kind === 'virtual') {
      this.#virtual(frame, route.table, statement);
      return;
    }
    const plan = forwardPlan(route as ForwardRoute, originId === undefined ? undefined : targetId !== null);
    if (plan.kind === 'unprepared') {
      this.#unprepared(stream, originId!);
      return;
    }
    const { opcode, flags } = frame.header;
    const targetBody = plan.targetId
      ? withPreparedId(frame.body, opcode, this.host.version, () => targetId!, flags)
      : frame.body;
    if (plan.secondary !== null) {
      const copy = plan.secondary === 'target' ? targetBody : frame.body;
      const body = this.#withOwnResultMetadataId(copy, flags, plan.secondary, entry?.resultMetadataIds);
      if (!this.links.sendSecondary(plan.secondary, opcode, flags, body))
        this.context.metrics.secondaryReadDropped(plan.secondary);
    }
    if (plan.to === 'both')
      this.#sendBoth(
        frame,
        statement,
        frame.body,
        this.#targetWriteBody(frame, statement, targetBody),
        originId,
      );
    else this.#sendOne(plan.to, frame, plan.to === 'origin' ? frame.body : targetBody, plan.read, originId);
  }

  /**
   * The asynchronous copy of a v5 EXECUTE, with the result metadata id `cluster` itself gave, so
   * it does not send full metadata with an answer nobody reads (result-metadata.ts).
   */
  #withOwnResultMetadataId(
    body: Buffer,
    flags: number,
    cluster: ClusterName,
    ids: ResultMetadataIds | undefined,
  ): Buffer {
    const own = ids?.[cluster] ?? null;
    if (own === null || this.host.version < 5) return body;
    const clientId = executeResultMetadataId(body, this.host.version, flags);
    if (clientId === null) return body;
    const id = executeResultMetadataIdFor(clientId, own, false);
    return withResultMetadataId(body, this.host.version, id, flags);
  }

  #begin(frame: RawFrame, type: RequestType, read: boolean, statement: Statement | null, originId?: Buffer) {
    this.host.started();
    const request: Forwarded = {
      frame,
      read,
      originId,
      statement,
      done: this.context.metrics.startRequest(type),
      results: { origin: undefined, target: undefined },
      pending: 0,
    };
    return request;
  }

  /** The client has its answer: one request fewer in flight. */
  #end(request: Forwarded): void {
    request.done();
    this.host.finished();
  }

  #sendOne(cluster: ClusterName, frame: RawFrame, body: Buffer, read: boolean, originId?: Buffer): void {
    const type: RequestType = read ? (cluster === 'origin' ? 'reads_origin' : 'reads_target') : 'writes';
    const request = this.#begin(frame, type, read, null, originId);
    const { opcode, flags } = frame.header;
    this.links.send(
      cluster,
      opcode,
      flags,
      body,
      (result) => this.host.guarded('answer', () => this.#answerOne(request, cluster, result)),
      read ? 'reads' : 'writes',
    );
  }

  #answerOne(request: Forwarded, cluster: ClusterName, result: RawFrame | Error): void {
    const stream = request.frame.header.streamId;
    this.#end(request);
    if (result instanceof Error) {
      if (request.read) this.context.metrics.failedRead(cluster);
      this.#reply(stream, this.#failure(request, cluster, result));
      return;
    }
    if (result.header.opcode === Opcode.ERROR && request.read) this.context.metrics.failedRead(cluster);
    this.#learnResultMetadataId(request, cluster, result);
    this.#relayFrom(cluster, result, request);
  }

  /** Sends to both clusters, stamping writes with one default timestamp. */
  #sendBoth(
    frame: RawFrame,
    statement: Statement | null,
    originBody: Buffer,
    targetBody: Buffer,
    originId: Buffer | undefined,
  ): void {
    let origin = originBody;
    let target = targetBody;
    const { opcode, flags } = frame.header;
    if (stampsTimestamp('both', statement, this.context.replaceDefaultTimestamp)) {
      const ts = this.context.timestamps();
      origin = withDefaultTimestamp(originBody, opcode, this.host.version, ts, { frameFlags: flags });
      target =
        originBody === targetBody
          ? origin
          : withDefaultTimestamp(targetBody, opcode, this.host.version, ts, { frameFlags: flags });
    }
    const request = this.#begin(frame, 'writes', false, statement, originId);
    request.pending = 2;
    this.links.send('origin', opcode, flags, origin, (result) => this.#collect(request, 'origin', result));
    this.links.send('target', opcode, flags, target, (result) => this.#collect(request, 'target', result));
  }

  #collect(request: Forwarded, cluster: ClusterName, result: RawFrame | Error): void {
    request.results[cluster] = result;
    if (--request.pending > 0) return;
    this.host.guarded('answer', () =>
      request.frame.header.opcode === Opcode.PREPARE
        ? this.#answerPrepare(request)
        : this.#answerBoth(request),
    );
  }

  #answerBoth(request: Forwarded): void {
    const { results, statement } = request;
    const o = outcomeOf(results.origin);
    const t = outcomeOf(results.target);
    const failed = failedOn(o, t);
    if (failed !== null) this.context.metrics.failedWrite(failed, writtenTables(this.#writeRequest(request)));
    if ((failed === 'origin' || failed === 'target') && statement?.kind !== 'use')
      this.#journal(request, failed);
    if (statement?.kind === 'use') {
      if (failed === null) this.links.keyspace = statement.keyspace;
      else {
        this.#useFailedOnOneSide(request, o, t);
        return;
      }
    }
    this.#answerVerdict(request, aggregateWriteResponse(o, t, this.context.primary));
  }

  /**
   * A cluster answered an EXECUTE with Metadata_changed (spec v5 §4.2.5.2): the client learns the
   * new id from the answer itself, and the proxy remembers it for that cluster's copies.
   */
  #learnResultMetadataId(request: Forwarded, cluster: ClusterName, answer: RawFrame): void {
    if (request.originId === undefined) return;
    const newId = rowsNewMetadataId(answer, this.host.version);
    if (newId !== null) this.context.prepared.learnResultMetadataId(request.originId, cluster, newId);
  }

  /** A write that succeeded on one cluster only: its partitions go to the divergence journal. */
  #journal(request: Forwarded, failed: 'origin' | 'target'): void {
    const journal = this.context.journal;
    if (journal === undefined) return;
    const write = { ...this.#writeRequest(request), failed, failure: request.results[failed] };
    journal.record(divergenceEntries(write, new Date()));
  }

  /** A write request with what it takes to tell its tables and keys (divergence-entries.ts). */
  #writeRequest(request: Forwarded): WriteRequest {
    const prepared = this.context.prepared;
    return {
      frame: request.frame,
      version: this.host.version,
      keyspace: this.links.keyspace ?? null,
      preparedKey: (id) => prepared.get(id)?.key,
      preparedText: (id) => prepared.get(id)?.text,
    };
  }

  /**
   * USE applies on both connections or on neither: where it worked (or may have, after a
   * timeout), the previous keyspace is restored before the client gets the failure, so its next
   * request finds both connections in the same keyspace.
   */
  #useFailedOnOneSide(request: Forwarded, o: Outcome, t: Outcome): void {
    const restore = CLUSTERS.filter((_, i) => [o, t][i] === 'ok' || [o, t][i] === 'timeout');
    Promise.all(restore.map((c) => this.links.restoreKeyspace(c))).then(
      () =>
        this.host.guarded('answer', () =>
          this.#answerVerdict(request, aggregateWriteResponse(o, t, this.context.primary)),
        ),
      (error: unknown) => this.host.fault('answer', error),
    );
  }

  #answerVerdict(request: Forwarded, verdict: ReturnType<typeof aggregateWriteResponse>): void {
    this.#end(request);
    const stream = request.frame.header.streamId;
    if (verdict.kind === 'relay') {
      this.#relayFrom(verdict.from, request.results[verdict.from] as RawFrame, request);
    } else {
      this.#reply(stream, this.#failure(request, verdict.cluster, request.results[verdict.cluster] as Error));
    }
  }

  #prepare(frame: RawFrame, statement: Statement): void {
    const request = this.#begin(frame, 'writes', false, statement);
    request.pending = 2;
    const { opcode, flags } = frame.header;
    // ZDM_REPLACE_CQL_FUNCTIONS: both clusters prepare the text with the proxy's markers for now().
    const body =
      this.#replaceNow !== null && statement.kind === 'write'
        ? withQueryText(frame.body, opcode, this.host.version, nowCallsToMarkers, flags)
        : frame.body;
    for (const cluster of CLUSTERS)
      this.links.send(cluster, opcode, flags, body, (result) => this.#collect(request, cluster, result));
  }

  #answerPrepare(request: Forwarded): void {
    const { origin, target } = request.results;
    const originId = prepared(origin, this.host.version);
    const targetId = prepared(target, this.host.version);
    // A read can run on Origin alone while Target is away; anything else needs both ids.
    const kind = request.statement?.kind;
    const originAlone = (kind === 'select' || kind === 'read-only') && this.context.primary === 'origin';
    const verdict = aggregatePrepare(
      prepareOutcome(origin, originId),
      prepareOutcome(target, targetId),
      originAlone,
    );
    if (verdict.kind === 'prepared') {
      const version = this.host.version;
      const answer = origin as RawFrame;
      const nowMarkers =
        this.#replaceNow !== null && kind === 'write' ? preparedNowMarkers(answer, version) : [];
      const source = resultMetadataSource(this.context.primary, verdict.withTarget);
      // Target's answer is decoded only when its result metadata or its id is needed.
      const targetResult =
        verdict.withTarget && (source === 'target' || version >= 5)
          ? preparedResultOf(target as RawFrame, version)
          : null;
      this.context.prepared.set(originId!, {
        targetId: verdict.withTarget ? targetId : null,
        ...(version >= 5
          ? {
              resultMetadataIds: {
                origin: preparedResultOf(answer, version)?.resultMetadataId ?? null,
                target: targetResult?.resultMetadataId ?? null,
              },
            }
          : {}),
        // `x = x + ?` is a counter update or a collection append: the bound types in Origin's
        // PREPARED answer settle which, and so whether EXECUTEs get the shared timestamp.
        statement: preparedStatement(request.statement!, answer, this.host.version),
        ...(nowMarkers.length === 0 ? {} : { nowMarkers }),
        ...this.#journalFacts(request, answer),
      });
      this.#end(request);
      const stream = request.frame.header.streamId;
      const resultsFrom = source === 'target' ? targetResult : null;
      if (nowMarkers.length === 0 && resultsFrom === null) this.#relay(answer, stream);
      else this.host.write(clientPreparedFrame(answer, version, nowMarkers, resultsFrom), stream);
      return;
    }
    this.#answerVerdict(request, verdict);
  }

  /** What the journal and the failed-writes-by-table metric need of a prepared write: its key markers and its text. */
  #journalFacts(request: Forwarded, origin: RawFrame): Pick<PreparedEntry, 'key' | 'text'> {
    const kind = request.statement?.kind;
    if (kind !== 'write' && kind !== 'other') return {};
    return {
      key: preparedKeyOfResult(origin, this.host.version),
      text: statementText(request.frame, this.host.version),
    };
  }

  /** The proxy's own error for a cluster that could not answer: timed out, saturated, or gone. */
  #failure(request: Forwarded, cluster: ClusterName, error: Error): ErrorBody {
    if (error instanceof RequestTimeoutError)
      return timeoutError(
        cluster,
        this.context.requestTimeoutMs,
        this.#requestShape(request.frame, request.read),
      );
    return unavailableError(cluster, error.message, error instanceof StreamIdsExhaustedError);
  }

  /** Relays a cluster's answer; Target's UNPREPARED for an EXECUTE names the id the client knows. */
  #relayFrom(cluster: ClusterName, frame: RawFrame, request: Forwarded): void {
    const stream = request.frame.header.streamId;
    if (cluster === 'target' && request.originId !== undefined && isUnprepared(frame)) {
      this.host.write(withUnpreparedId(frame, this.host.version, request.originId), stream);
    } else {
      this.#relay(frame, stream);
    }
  }

  /** system.local / system.peers: built from Origin's own system.local, asked on this session's connection. */
  #virtual(frame: RawFrame, table: 'local' | 'peers' | 'peers_v2', statement: Statement | null): void {
    const request = this.#begin(frame, 'reads_origin', true, statement);
    const answer = (origin: RawFrame | Error | null) =>
      this.host.guarded('answer', () => {
        this.#end(request);
        const stream = frame.header.streamId;
        const verdict = virtualAnswer(table, statement, origin, this.context.topology, this.host.version);
        if (verdict.kind === 'relay') this.#relay(verdict.frame, stream);
        else if (verdict.kind === 'error') this.#reply(stream, verdict.error);
        else this.host.write(responseFrame(this.host.version, stream, Opcode.RESULT, verdict.body));
      });
    if (table === 'peers_v2') {
      answer(null);
      return;
    }
    this.links.send('origin', Opcode.QUERY, 0, originLocalQuery(this.host.version), answer, 'reads');
  }

  #requestShape(
    frame: RawFrame,
    read: boolean,
  ): { read: boolean; consistency: number | null; batch: boolean } {
    const { opcode } = frame.header;
    let consistency: number | null = null;
    if (opcode === Opcode.QUERY || opcode === Opcode.EXECUTE || opcode === Opcode.BATCH) {
      try {
        consistency = requestConsistency(frame, this.host.version);
      } catch {
        // Malformed parameters the cluster never judged: the timeout is reported as a SERVER_ERROR.
      }
    }
    return { read, consistency, batch: opcode === Opcode.BATCH };
  }

  /** Relays a cluster's response under the client's stream id (the frame is not copied). */
  #relay(frame: RawFrame, streamId: number): void {
    this.host.write(frame.raw, streamId);
  }

  #reply(streamId: number, error: ErrorBody): void {
    this.host.write(errorFrame(this.host.version, streamId, error));
  }
}

/** The stamp a BATCH gets when every child wants the shared timestamp. */
const STAMPED_BATCH: Statement = { kind: 'write', conditional: false, counter: false, timestamped: false };

function outcomeOf(result: Result): Outcome {
  if (result === undefined || result instanceof RequestTimeoutError) return 'timeout';
  if (result instanceof Error) return 'unavailable';
  return result.header.opcode === Opcode.ERROR ? 'error' : 'ok';
}

function prepared(result: Result, version: ProtocolVersion): Buffer | null {
  return result === undefined || result instanceof Error ? null : preparedIdOf(result, version);
}

function prepareOutcome(result: Result, id: Buffer | null): PrepareOutcome {
  if (id !== null) return 'prepared';
  const outcome = outcomeOf(result);
  return outcome === 'ok' ? 'error' : outcome;
}
