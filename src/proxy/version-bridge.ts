import type { ClusterLink } from './cluster-link.js';
import {
  decodeHeader,
  type ErrorBody,
  ErrorCode,
  encodeFrame,
  HEADER_LENGTH,
  type ProtocolVersion,
  type RawFrame,
  requestV4ToV5,
  responseV5ToV4,
} from './codec/index.js';
import type { Waiter } from './stream-ids.js';

/**
 * A v4 client in front of a cluster that speaks only v5 (Cassandra 5.0 with
 * `native_transport_allow_older_protocols: false` refuses older versions): the proxy speaks v5 to
 * that cluster and translates each request and answer (codec/rewrite/v4-v5-bodies.ts). The other
 * direction (a v5 client, a cluster without v5) is not bridged: the cluster's refusal reaches the
 * client, whose driver then steps down to v4, which both clusters speak.
 */

/**
 * The version to open a cluster connection with after the cluster refused the client's version
 * at STARTUP (a PROTOCOL_ERROR naming the protocol version), or null: the refusal goes to the client.
 */
export function bridgeVersionAfterRefusal(
  clientVersion: ProtocolVersion,
  error: ErrorBody,
): ProtocolVersion | null {
  if (clientVersion !== 4 || error.code !== ErrorCode.PROTOCOL_ERROR) return null;
  return /protocol version/i.test(error.message) ? 5 : null;
}

/** Result metadata ids a bridged connection remembers (PREPARED answers it saw); more are forgotten. */
const REMEMBERED_IDS = 4096;
/** Sent when the statement's id is unknown: the cluster then answers with full metadata (spec v5 §4.1.6). */
const UNKNOWN_ID = Buffer.alloc(0);

/** A frame from a v5 cluster as its v4 client gets it, and the PREPARED ids it carried. */
export function frameForV4(frame: RawFrame): {
  readonly frame: RawFrame;
  readonly prepared: { readonly id: Buffer; readonly resultMetadataId: Buffer } | null;
} {
  const { opcode, streamId, flags } = frame.header;
  const out = responseV5ToV4(opcode, frame.body, flags);
  const raw = encodeFrame({ version: 4, isResponse: true, flags: out.flags, streamId, opcode }, out.body);
  return {
    frame: { header: decodeHeader(raw), body: raw.subarray(HEADER_LENGTH), raw },
    prepared: out.prepared,
  };
}

/**
 * A ClusterLink over a v5 connection that its users (the session, the forwarder) speak v4 to.
 * An EXECUTE gets the cluster's result metadata id only when the client decodes rows by this
 * cluster's columns (`clientHoldsItsColumns`: the primary, see result-metadata.ts); otherwise an
 * empty id, so the cluster always sends the metadata of its rows along, which the v4 client then
 * decodes by.
 */
export class V4ToV5Link implements ClusterLink {
  readonly #ids = new Map<string, Buffer>();
  readonly #resultMetadataIdOf = (preparedId: Buffer): Buffer =>
    this.clientHoldsItsColumns ? (this.#ids.get(preparedId.toString('hex')) ?? UNKNOWN_ID) : UNKNOWN_ID;

  constructor(
    private readonly inner: ClusterLink,
    private readonly clientHoldsItsColumns: boolean,
  ) {}

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
    let v5: Buffer;
    try {
      v5 = requestV4ToV5(opcode, body, flags, this.#resultMetadataIdOf);
    } catch (error) {
      onResult(error as Error);
      return;
    }
    this.inner.request(opcode, flags, v5, (result) => onResult(this.#answer(result)));
  }

  requestSecondary(opcode: number, flags: number, body: Buffer): boolean {
    return this.inner.requestSecondary(
      opcode,
      flags,
      requestV4ToV5(opcode, body, flags, this.#resultMetadataIdOf),
    );
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

  #answer(result: RawFrame | Error): RawFrame | Error {
    if (result instanceof Error) return result;
    try {
      const { frame, prepared } = frameForV4(result);
      if (prepared !== null) this.#remember(prepared.id, prepared.resultMetadataId);
      return frame;
    } catch (error) {
      return error as Error;
    }
  }

  #remember(id: Buffer, resultMetadataId: Buffer): void {
    const key = id.toString('hex');
    this.#ids.delete(key);
    this.#ids.set(key, resultMetadataId);
    if (this.#ids.size > REMEMBERED_IDS) this.#ids.delete(this.#ids.keys().next().value as string);
  }
}
