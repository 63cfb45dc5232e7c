import { decoding } from '../codec-error.js';
import { closeBody, openBody } from '../frame/envelope.js';
import { Opcode } from '../frame/frame-header.js';
import { decodeError, encodeError } from '../messages/error.js';
import { ResultKind } from '../messages/result.js';
import { RowsFlag } from '../messages/rows-metadata.js';
import { Reader } from '../primitives/reader.js';
import { scanRequest } from './request-layout.js';

/**
 * Message bodies between a v4 client and a v5 cluster, for the body layouts the two versions do
 * not share (spec v5 §10 "Changes from v4"). Requests go v4 → v5, responses v5 → v4. The parts
 * both versions share (values, strings, envelopes) are copied, not decoded.
 */

const ZERO_FLAG_BYTES = Buffer.alloc(3);

/**
 * A v4 request body as v5: QUERY, EXECUTE and BATCH flags widen from [byte] to [int] (the same
 * bits: v4 knows none above 0x40), an EXECUTE gains its <result_metadata_id> (spec v5 §4.1.6:
 * `resultMetadataIdOf` gives it for the statement's prepared id), a PREPARE gains its [int] flags
 * (none: no keyspace). Other requests are the same in both versions.
 */
export function requestV4ToV5(
  opcode: number,
  body: Buffer,
  frameFlags: number,
  resultMetadataIdOf: (preparedId: Buffer) => Buffer,
): Buffer {
  if (opcode === Opcode.PREPARE) return Buffer.concat([body, Buffer.alloc(4)]);
  if (opcode !== Opcode.QUERY && opcode !== Opcode.EXECUTE && opcode !== Opcode.BATCH) return body;
  const layout = scanRequest(body, opcode, 4, frameFlags);
  const flagsAt = layout.flagsOffset;
  if (opcode !== Opcode.EXECUTE) {
    return Buffer.concat([body.subarray(0, flagsAt), ZERO_FLAG_BYTES, body.subarray(flagsAt)]);
  }
  const idAt = layout.preparedIdOffsets[0]!;
  const idEnd = idAt + 2 + body.readUInt16BE(idAt);
  const resultId = resultMetadataIdOf(body.subarray(idAt + 2, idEnd));
  const length = Buffer.allocUnsafe(2);
  length.writeUInt16BE(resultId.length);
  return Buffer.concat([
    body.subarray(0, idEnd),
    length,
    resultId,
    body.subarray(idEnd, flagsAt),
    ZERO_FLAG_BYTES,
    body.subarray(flagsAt),
  ]);
}

/** What a v5 response body becomes for a v4 client, and what the proxy learns on the way. */
export interface ResponseV5ToV4 {
  readonly body: Buffer;
  /** Header flags (the envelope is rebuilt when the message changes). */
  readonly flags: number;
  /** A PREPARED answer's prepared id and result metadata id (the v4 client never sees the latter). */
  readonly prepared: { readonly id: Buffer; readonly resultMetadataId: Buffer } | null;
}

/**
 * A v5 response body as v4: a ROWS answer loses Metadata_changed and its <new_metadata_id> (the
 * full metadata it carries stays, and the client decodes by it), a PREPARED answer loses its
 * <result_metadata_id>, READ_FAILURE and WRITE_FAILURE give the count of their reason map and a
 * CAS WRITE_TIMEOUT drops its contentions (spec v5 §9 vs v4 §9). The rest is the same in both.
 */
export function responseV5ToV4(opcode: number, body: Buffer, frameFlags: number): ResponseV5ToV4 {
  const same = { body, flags: frameFlags, prepared: null };
  if (opcode !== Opcode.RESULT && opcode !== Opcode.ERROR) return same;
  return decoding('v5 response', () => {
    const opened = openBody(body, frameFlags, true, 5);
    let message: Buffer;
    let prepared: ResponseV5ToV4['prepared'] = null;
    if (opcode === Opcode.ERROR) {
      message = encodeError(decodeError(opened.message, 5), 4);
    } else {
      const rewritten = resultV5ToV4(opened.message);
      if (rewritten === null) return same;
      message = rewritten.message;
      prepared = rewritten.prepared;
    }
    const closed = closeBody(message, opened, true, 4);
    return { body: closed.body, flags: closed.flags, prepared };
  });
}

function resultV5ToV4(
  message: Buffer,
): { readonly message: Buffer; readonly prepared: ResponseV5ToV4['prepared'] } | null {
  const reader = new Reader(message);
  const kind = reader.readInt('result kind');
  if (kind === ResultKind.PREPARED) {
    const id = Buffer.from(reader.readShortBytes('prepared id'));
    const idEnd = reader.offset;
    const resultMetadataId = Buffer.from(reader.readShortBytes('result metadata id'));
    return {
      message: Buffer.concat([message.subarray(0, idEnd), message.subarray(reader.offset)]),
      prepared: { id, resultMetadataId },
    };
  }
  if (kind !== ResultKind.ROWS) return null;
  const flagsAt = reader.offset;
  const flags = reader.readInt('metadata flags');
  if ((flags & RowsFlag.METADATA_CHANGED) === 0) return null;
  reader.readInt('column count');
  if (flags & RowsFlag.HAS_MORE_PAGES) reader.readBytes('paging state');
  const idAt = reader.offset;
  reader.readShortBytes('new metadata id');
  const out = Buffer.concat([message.subarray(0, idAt), message.subarray(reader.offset)]);
  out.writeInt32BE(flags & ~RowsFlag.METADATA_CHANGED, flagsAt);
  return { message: out, prepared: null };
}
