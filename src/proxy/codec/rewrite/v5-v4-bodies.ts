import { createHash } from 'node:crypto';
import { decoding } from '../codec-error.js';
import { closeBody, messageOffset, openBody } from '../frame/envelope.js';
import { FrameFlag, Opcode } from '../frame/frame-header.js';
import { decodeError, encodeError } from '../messages/error.js';
import type { FailureReason } from '../messages/error-body.js';
import { QueryFlag } from '../messages/query-parameters.js';
import { ResultKind } from '../messages/result.js';
import { readPreparedMetadata, readRowsMetadata, writeRowsMetadata } from '../messages/rows-metadata.js';
import { Reader } from '../primitives/reader.js';
import { Writer } from '../primitives/writer.js';
import { scanRequest } from './request-layout.js';

/**
 * Message bodies between a v5 client and a cluster that speaks v4 at most (Cassandra 3.x, DSE 5/6):
 * requests go v5 → v4, answers v4 → v5 (spec v5 §10 "Changes from v4"). The mirror of
 * v4-v5-bodies.ts. v4 has no field for a per-request keyspace or now_in_seconds: the caller
 * decides from `v5OnlyFields` whether a request can go without them (version-bridge.ts).
 */

/** PREPARE <flags> bit 0x01: a <keyspace> follows (spec v5 §4.1.5). */
const PREPARE_WITH_KEYSPACE = 0x01;
/** The v4 [byte] flags hold the bits up to Names_for_values (0x40). */
const V4_QUERY_FLAGS = 0x7f;

/** What a v5 request carries that v4 has no field for. */
export interface V5OnlyFields {
  /** The per-request keyspace (QUERY, BATCH, PREPARE flag With_keyspace); null when absent. */
  readonly keyspace: string | null;
  readonly nowInSeconds: boolean;
  /** The statement texts a keyspace would apply to: QUERY's, PREPARE's, a BATCH's query children. */
  readonly texts: readonly string[];
}

const NONE: V5OnlyFields = { keyspace: null, nowInSeconds: false, texts: [] };

/** The v5-only fields of a request body (after its envelope, which `frameFlags` announces). */
export function v5OnlyFields(opcode: number, body: Buffer, frameFlags: number): V5OnlyFields {
  return decoding('v5 request', () => {
    if (opcode === Opcode.PREPARE) {
      const reader = new Reader(body, messageOffset(body, frameFlags, false, 5));
      const text = reader.readLongString('query');
      const flags = reader.readInt('prepare flags');
      if ((flags & PREPARE_WITH_KEYSPACE) === 0) return NONE;
      return { keyspace: reader.readString('keyspace'), nowInSeconds: false, texts: [text] };
    }
    if (opcode !== Opcode.QUERY && opcode !== Opcode.EXECUTE && opcode !== Opcode.BATCH) return NONE;
    const layout = scanRequest(body, opcode, 5, frameFlags);
    if ((layout.flags & (QueryFlag.WITH_KEYSPACE | QueryFlag.WITH_NOW_IN_SECONDS)) === 0) return NONE;
    const reader = new Reader(body, extrasOffset(layout.flags, layout.timestampOffset));
    const keyspace = layout.flags & QueryFlag.WITH_KEYSPACE ? reader.readString('keyspace') : null;
    const texts = layout.queryOffsets.map((at) => new Reader(body, at).readLongString('query'));
    return { keyspace, nowInSeconds: (layout.flags & QueryFlag.WITH_NOW_IN_SECONDS) !== 0, texts };
  });
}

/** Where <keyspace> and <now_in_seconds> start: right after the optional <timestamp> (spec v5 §4.1.4). */
function extrasOffset(flags: number, timestampOffset: number): number {
  return timestampOffset + (flags & QueryFlag.WITH_DEFAULT_TIMESTAMP ? 8 : 0);
}

/** What an EXECUTE asked of its result metadata, which its answer is made to honour (`responseV4ToV5`). */
export interface ExecuteAsked {
  readonly resultMetadataId: Buffer;
  readonly skipMetadata: boolean;
}

/**
 * A v5 request body as v4: flags narrow from [int] to [byte] and lose With_keyspace and
 * With_now_in_seconds with their fields (see `v5OnlyFields`); PREPARE loses its flags. An EXECUTE
 * loses its <result_metadata_id> and its Skip_metadata flag, so the v4 cluster always sends the
 * columns and the answer can tell whether they changed (`execute` keeps what the client asked).
 */
export function requestV5ToV4(
  opcode: number,
  body: Buffer,
  frameFlags: number,
): { readonly body: Buffer; readonly execute: ExecuteAsked | null } {
  return decoding('v5 request', () => {
    if (opcode === Opcode.PREPARE) {
      const at = messageOffset(body, frameFlags, false, 5);
      const queryEnd = at + 4 + body.readInt32BE(at);
      return { body: body.subarray(0, queryEnd), execute: null };
    }
    if (opcode !== Opcode.QUERY && opcode !== Opcode.EXECUTE && opcode !== Opcode.BATCH)
      return { body, execute: null };
    const layout = scanRequest(body, opcode, 5, frameFlags);
    const flagsAt = layout.flagsOffset;
    let narrowed = layout.flags & V4_QUERY_FLAGS;
    const tail = body.subarray(flagsAt + 4, extrasOffset(layout.flags, layout.timestampOffset));
    if (opcode !== Opcode.EXECUTE) {
      return { body: Buffer.concat([body.subarray(0, flagsAt), Buffer.of(narrowed), tail]), execute: null };
    }
    const idAt = layout.resultMetadataIdOffset!;
    const idEnd = idAt + 2 + body.readUInt16BE(idAt);
    narrowed &= ~QueryFlag.SKIP_METADATA;
    return {
      body: Buffer.concat([body.subarray(0, idAt), body.subarray(idEnd, flagsAt), Buffer.of(narrowed), tail]),
      execute: {
        resultMetadataId: Buffer.from(body.subarray(idAt + 2, idEnd)),
        skipMetadata: (layout.flags & QueryFlag.SKIP_METADATA) !== 0,
      },
    };
  });
}

/**
 * The result metadata id the proxy gives a v4 cluster's columns, which have none of their own:
 * the MD5 of their canonical encoding (as Cassandra derives its own from the columns, spec v5
 * §4.2.5.4). The same columns always get the same id, so the client's id tells whether they changed.
 */
export function resultMetadataIdOf(columnsAndCount: Parameters<typeof writeRowsMetadata>[1]): Buffer {
  const writer = new Writer(256);
  writeRowsMetadata(writer, { ...columnsAndCount, pagingState: null, newMetadataId: null }, 4);
  return createHash('md5').update(writer.toBuffer()).digest();
}

/**
 * A v4 answer body as v5. PREPARED gains its <result_metadata_id> (`resultMetadataIdOf`). ROWS
 * answering an EXECUTE (`execute` set) honours what the client asked: no columns when it asked to
 * skip them and its id matches, else Metadata_changed with the new id when its id differs (spec
 * v5 §4.2.5.2). READ_FAILURE and WRITE_FAILURE turn their count into a reason map, and a CAS
 * WRITE_TIMEOUT gains <contentions> (0: v4 does not count them). The rest is the same in both.
 */
export function responseV4ToV5(
  opcode: number,
  body: Buffer,
  frameFlags: number,
  execute: ExecuteAsked | null,
): { readonly body: Buffer; readonly flags: number } {
  const same = { body, flags: frameFlags };
  if (opcode !== Opcode.RESULT && opcode !== Opcode.ERROR) return same;
  if (frameFlags & FrameFlag.COMPRESSION) return same;
  return decoding('v4 response', () => {
    const opened = openBody(body, frameFlags, true, 4);
    const message =
      opcode === Opcode.ERROR ? errorV4ToV5(opened.message) : resultV4ToV5(opened.message, execute);
    if (message === null) return same;
    return closeBody(message, opened, true, 5);
  });
}

function errorV4ToV5(message: Buffer): Buffer {
  const error = decodeError(message, 4);
  if (error.kind === 'read_failure' || error.kind === 'write_failure') {
    return encodeError({ ...error, reasons: unknownReasons(error.numFailures) }, 5);
  }
  if (error.kind === 'write_timeout' && error.writeType === 'CAS' && error.contentions === null) {
    return encodeError({ ...error, contentions: 0 }, 5);
  }
  return encodeError(error, 5);
}

/**
 * A v5 reason map for a v4 failure count. v4 does not say which nodes failed, yet drivers count
 * the map's entries: one entry per failure, each under its own placeholder address in 0.0.0.0/8
 * ("this network", never a node's) with failure code 0x0000 (unknown).
 */
function unknownReasons(count: number): FailureReason[] {
  return Array.from({ length: Math.max(0, count) }, (_, i) => ({
    endpoint: `0.${(i >> 16) & 0xff}.${(i >> 8) & 0xff}.${i & 0xff}`,
    failureCode: 0,
  }));
}

function resultV4ToV5(message: Buffer, execute: ExecuteAsked | null): Buffer | null {
  const reader = new Reader(message);
  const kind = reader.readInt('result kind');
  if (kind === ResultKind.PREPARED) {
    reader.readShortBytes('prepared id');
    const idEnd = reader.offset;
    readPreparedMetadata(reader, 4);
    const id = resultMetadataIdOf(readRowsMetadata(reader, 4));
    const length = Buffer.allocUnsafe(2);
    length.writeUInt16BE(id.length);
    return Buffer.concat([message.subarray(0, idEnd), length, id, message.subarray(idEnd)]);
  }
  if (kind !== ResultKind.ROWS || execute === null) return null;
  const metadata = readRowsMetadata(reader, 4);
  if (metadata.columns === null) return null;
  const rows = message.subarray(reader.offset);
  const id = resultMetadataIdOf(metadata);
  const unchanged = id.equals(execute.resultMetadataId);
  if (unchanged && !execute.skipMetadata) return null;
  const writer = new Writer(256 + rows.length);
  writer.writeInt(ResultKind.ROWS, 'result kind');
  writeRowsMetadata(
    writer,
    unchanged ? { ...metadata, columns: null } : { ...metadata, newMetadataId: id },
    5,
  );
  writer.writeRaw(rows);
  return writer.toBuffer();
}
