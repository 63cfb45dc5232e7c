import type { ClusterLink } from './cluster-link.js';
import {
  decodeHeader,
  type ExecuteAsked,
  encodeFrame,
  HEADER_LENGTH,
  type ProtocolVersion,
  type RawFrame,
  requestV4ToV5,
  requestV5ToV4,
  responseV4ToV5,
  responseV5ToV4,
} from './codec/index.js';
import type { Waiter } from './stream-ids.js';

/**
 * Cluster links that speak one protocol version to their users (the session, the forwarder: the
 * client's version) and another to the cluster, which refused the client's (version-bridge.ts).
 * Each request body is translated on the way out and each answer on the way back.
 */
abstract class TranslatingLink<Context> implements ClusterLink {
  constructor(protected readonly inner: ClusterLink) {}

  /** The request body in the cluster's version, and what its answer's translation needs to know. */
  protected abstract toCluster(
    opcode: number,
    flags: number,
    body: Buffer,
  ): { readonly body: Buffer; readonly context: Context };
  /** The cluster's answer in the client's version. */
  protected abstract toClient(frame: RawFrame, context: Context): RawFrame;

  get cluster() {
    return this.inner.cluster;
  }
  get address() {
    return this.inner.address;
  }
  get closed() {
    return this.inner.closed;
  }
  get inFlight() {
    return this.inner.inFlight;
  }
  get backedUp() {
    return this.inner.backedUp;
  }

  request(opcode: number, flags: number, body: Buffer, onResult: Waiter): void {
    let out: { readonly body: Buffer; readonly context: Context };
    try {
      out = this.toCluster(opcode, flags, body);
    } catch (error) {
      onResult(error as Error);
      return;
    }
    this.inner.request(opcode, flags, out.body, (result) => onResult(this.#answer(result, out.context)));
  }

  requestSecondary(opcode: number, flags: number, body: Buffer, onResult?: Waiter): boolean {
    let out: { readonly body: Buffer; readonly context: Context };
    try {
      out = this.toCluster(opcode, flags, body);
    } catch {
      return false;
    }
    return this.inner.requestSecondary(opcode, flags, out.body, onResult);
  }

  send(opcode: number, flags: number, body: Buffer): Promise<RawFrame> {
    return new Promise((resolve, reject) =>
      this.request(opcode, flags, body, (result) =>
        result instanceof Error ? reject(result) : resolve(result),
      ),
    );
  }

  close(): void {
    this.inner.close();
  }

  #answer(result: RawFrame | Error, context: Context): RawFrame | Error {
    if (result instanceof Error) return result;
    try {
      return this.toClient(result, context);
    } catch (error) {
      return error as Error;
    }
  }
}

/** A response frame rebuilt in `version` around a translated body. */
export function responseIn(version: ProtocolVersion, frame: RawFrame, body: Buffer, flags: number): RawFrame {
  const { opcode, streamId } = frame.header;
  const raw = encodeFrame({ version, isResponse: true, flags, streamId, opcode }, body);
  return { header: decodeHeader(raw), body: raw.subarray(HEADER_LENGTH), raw };
}

/** A frame from a v5 cluster as its v4 client gets it, and the PREPARED ids it carried. */
export function frameForV4(frame: RawFrame): {
  readonly frame: RawFrame;
  readonly prepared: { readonly id: Buffer; readonly resultMetadataId: Buffer } | null;
} {
  const out = responseV5ToV4(frame.header.opcode, frame.body, frame.header.flags);
  return { frame: responseIn(4, frame, out.body, out.flags), prepared: out.prepared };
}

/** A frame from a v4 cluster as its v5 client gets it; `execute`: what the EXECUTE it answers asked. */
export function frameForV5(frame: RawFrame, execute: ExecuteAsked | null = null): RawFrame {
  const out = responseV4ToV5(frame.header.opcode, frame.body, frame.header.flags, execute);
  return responseIn(5, frame, out.body, out.flags);
}

/** Result metadata ids a bridged connection remembers (PREPARED answers it saw); more are forgotten. */
const REMEMBERED_IDS = 4096;
/** Sent when the statement's id is unknown: the cluster then answers with full metadata (spec v5 §4.1.6). */
const UNKNOWN_ID = Buffer.alloc(0);

/**
 * A v4 client, a cluster that speaks only v5 (Cassandra 5.0 with
 * `native_transport_allow_older_protocols: false`). An EXECUTE gets the cluster's result metadata
 * id only when the client decodes rows by this cluster's columns (`clientHoldsItsColumns`: the
 * primary, see result-metadata.ts); otherwise an empty id, so the cluster always sends the
 * metadata of its rows along, which the v4 client then decodes by.
 */
export class V4ToV5Link extends TranslatingLink<null> {
  readonly #ids = new Map<string, Buffer>();
  readonly #resultMetadataIdOf = (preparedId: Buffer): Buffer =>
    this.clientHoldsItsColumns ? (this.#ids.get(preparedId.toString('hex')) ?? UNKNOWN_ID) : UNKNOWN_ID;

  constructor(
    inner: ClusterLink,
    private readonly clientHoldsItsColumns: boolean,
  ) {
    super(inner);
  }

  protected toCluster(opcode: number, flags: number, body: Buffer) {
    return { body: requestV4ToV5(opcode, body, flags, this.#resultMetadataIdOf), context: null };
  }

  protected toClient(frame: RawFrame): RawFrame {
    const { frame: v4, prepared } = frameForV4(frame);
    if (prepared !== null) this.#remember(prepared.id, prepared.resultMetadataId);
    return v4;
  }

  #remember(id: Buffer, resultMetadataId: Buffer): void {
    const key = id.toString('hex');
    this.#ids.delete(key);
    this.#ids.set(key, resultMetadataId);
    if (this.#ids.size > REMEMBERED_IDS) this.#ids.delete(this.#ids.keys().next().value as string);
  }
}

/**
 * A v5 client, a cluster that speaks v4 at most (Cassandra 3.x). The proxy gives the cluster's
 * columns result metadata ids of its own (codec/rewrite/v5-v4-bodies.ts), and every EXECUTE goes
 * without Skip_metadata, so each answer carries the columns and is checked against the id the
 * client holds: the client gets no columns when they match and it asked to skip them, and
 * Metadata_changed with the new id when they differ. The forwarder refuses requests whose v5-only
 * fields the cluster cannot do without before they reach any cluster (version-bridge.ts); what
 * reaches this link goes without them.
 */
export class V5ToV4Link extends TranslatingLink<ExecuteAsked | null> {
  protected toCluster(opcode: number, flags: number, body: Buffer) {
    const out = requestV5ToV4(opcode, body, flags);
    return { body: out.body, context: out.execute };
  }

  protected toClient(frame: RawFrame, execute: ExecuteAsked | null): RawFrame {
    return frameForV5(frame, execute);
  }
}
