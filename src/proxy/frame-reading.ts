import {
  CodecError,
  closeBody,
  decodeError,
  decodeResult,
  type ErrorBody,
  ErrorCode,
  encodeError,
  encodeFrame,
  encodeResult,
  FrameFlag,
  type FrameTooLargeError,
  messageOffset,
  newResultMetadataId,
  Opcode,
  openBody,
  type PreparedResult,
  type ProtocolVersion,
  type RawFrame,
  Reader,
  type RowsResult,
  scanRequest,
} from './codec/index.js';
import { type NowMarker, nowMarkersOf, withoutNowMarkers } from './prepared-now.js';
import { protocolError } from './proxy-errors.js';
import { type Statement, settleCounter } from './statement.js';

/**
 * Small reads of a raw frame's body, for the decisions that need one field: the statement text
 * of QUERY/PREPARE, a PREPARED result's id, an error's code. Nothing else is decoded.
 */

/** The [long string] statement that starts a QUERY or PREPARE message. */
export function statementText(frame: RawFrame, version: ProtocolVersion): string {
  const at = messageOffset(frame.body, frame.header.flags, false, version);
  return new Reader(frame.body, at).readLongString('query string');
}

/** The prepared id an EXECUTE starts with (spec v4 §4.1.6), without scanning the rest of the body. */
export function executeId(frame: RawFrame, version: ProtocolVersion): Buffer {
  const at = messageOffset(frame.body, frame.header.flags, false, version);
  return new Reader(frame.body, at).readShortBytes('prepared id');
}

/** The <consistency> of a QUERY, EXECUTE or BATCH, for the timeout errors the proxy builds. */
export function requestConsistency(frame: RawFrame, version: ProtocolVersion): number {
  const layout = scanRequest(frame.body, frame.header.opcode, version, frame.header.flags);
  return frame.body.readUInt16BE(layout.flagsOffset - 2);
}

/** The message of a response, after its tracing id, warnings and custom payload. */
function responseMessage(frame: RawFrame, version: ProtocolVersion): Buffer {
  return openBody(frame.body, frame.header.flags, true, version).message;
}

/** The prepared id of a RESULT of kind PREPARED; null for anything else. */
export function preparedIdOf(frame: RawFrame, version: ProtocolVersion): Buffer | null {
  if (frame.header.opcode !== Opcode.RESULT) return null;
  const reader = new Reader(responseMessage(frame, version));
  if (reader.readInt('result kind') !== 4) return null;
  return Buffer.from(reader.readShortBytes('prepared id'));
}

/**
 * True when a PREPARED result's bind variables (spec v4 §4.2.5.4) include a counter column, i.e.
 * the statement's `c = c + ?` is a counter update rather than a collection append. A result that
 * cannot be read counts as a counter (the caller then leaves the write unstamped, as before).
 */
export function bindsCounter(frame: RawFrame, version: ProtocolVersion): boolean {
  try {
    const result = decodeResult(responseMessage(frame, version), version);
    if (result.kind !== 'prepared') return true;
    return result.metadata.columns.some((column) => column.type.kind === 'counter');
  } catch (error) {
    if (error instanceof CodecError) return true;
    throw error;
  }
}

/**
 * The statement to remember for a prepared id: the classified text, with what Origin's PREPARED
 * answer settles (whether `x = x ± ?` updates a counter). Decodes the answer only when needed.
 */
export function preparedStatement(
  statement: Statement,
  prepared: RawFrame,
  version: ProtocolVersion,
): Statement {
  if (statement.kind !== 'write' || statement.counter !== 'bind-marker') return statement;
  return settleCounter(statement, bindsCounter(prepared, version));
}

/**
 * What a client gets for a frame over the body limit in force (spec v4 §9: PROTOCOL_ERROR), sent on
 * the frame's stream before the connection closes: the sizes, and the setting that sets the limit.
 */
export function frameTooLargeError(error: FrameTooLargeError, setting: string): ErrorBody {
  return protocolError(
    `zdm-proxy: frame body of ${error.header.length} bytes exceeds the limit of ${error.maxBodyLength} bytes ` +
      `(${setting}); the connection is closed. Send smaller requests, or raise ${setting} if they are expected.`,
  );
}

export function decodeErrorFrame(frame: RawFrame, version: ProtocolVersion): ErrorBody {
  return decodeError(responseMessage(frame, version), version);
}

export function decodeRowsFrame(frame: RawFrame, version: ProtocolVersion): RowsResult {
  const result = decodeResult(responseMessage(frame, version), version);
  if (result.kind !== 'rows') throw new CodecError(`expected rows, got a ${result.kind} result`);
  return result;
}

/** An UNPREPARED error from Target, rewritten to name the Origin id the client knows. */
export function withUnpreparedId(frame: RawFrame, version: ProtocolVersion, originId: Buffer): Buffer {
  const opened = openBody(frame.body, frame.header.flags, true, version);
  const error = decodeError(opened.message, version);
  const message = encodeError(error.kind === 'unprepared' ? { ...error, id: originId } : error, version);
  const { body, flags } = closeBody(message, opened, true, version);
  return encodeFrame(
    { version, isResponse: true, flags, streamId: frame.header.streamId, opcode: Opcode.ERROR },
    body,
  );
}

/** A RESULT answer's v5 <new_metadata_id> (ROWS with Metadata_changed); null for anything else. */
export function rowsNewMetadataId(frame: RawFrame, version: ProtocolVersion): Buffer | null {
  if (version < 5 || frame.header.opcode !== Opcode.RESULT) return null;
  return newResultMetadataId(responseMessage(frame, version), version);
}

/** A PREPARED answer decoded; null for anything else. */
export function preparedResultOf(frame: RawFrame, version: ProtocolVersion): PreparedResult | null {
  if (frame.header.opcode !== Opcode.RESULT) return null;
  const result = decodeResult(responseMessage(frame, version), version);
  return result.kind === 'prepared' ? result : null;
}

/** The proxy's `now()` markers among the bind variables of a PREPARED answer; none for anything else. */
export function preparedNowMarkers(frame: RawFrame, version: ProtocolVersion): NowMarker[] {
  const result = decodeResult(responseMessage(frame, version), version);
  return result.kind === 'prepared' ? nowMarkersOf(result.metadata.columns) : [];
}

/**
 * A PREPARED answer as the client gets it: Origin's (its id is the one the proxy knows the
 * statement by), with the proxy's `now()` markers left out of its bind variables, and with
 * `results`' result metadata and id in place of its own when given (result-metadata.ts).
 */
export function clientPreparedFrame(
  frame: RawFrame,
  version: ProtocolVersion,
  markers: readonly NowMarker[],
  results: Pick<PreparedResult, 'resultMetadataId' | 'resultMetadata'> | null,
): Buffer {
  const opened = openBody(frame.body, frame.header.flags, true, version);
  const result = decodeResult(opened.message, version);
  if (result.kind !== 'prepared') return frame.raw;
  const metadata = markers.length === 0 ? result.metadata : withoutNowMarkers(result.metadata, markers);
  const resultPart =
    results === null
      ? {}
      : { resultMetadataId: results.resultMetadataId, resultMetadata: results.resultMetadata };
  const message = encodeResult({ ...result, ...resultPart, metadata }, version);
  const { body, flags } = closeBody(message, opened, true, version);
  return encodeFrame(
    { version, isResponse: true, flags, streamId: frame.header.streamId, opcode: Opcode.RESULT },
    body,
  );
}

export function isUnprepared(frame: RawFrame): boolean {
  if (frame.header.opcode !== Opcode.ERROR) return false;
  const skip = frame.header.flags & (FrameFlag.TRACING | FrameFlag.WARNING | FrameFlag.CUSTOM_PAYLOAD);
  if (skip !== 0) return true; // rare; the caller decodes properly
  return frame.body.length >= 4 && frame.body.readInt32BE(0) === ErrorCode.UNPREPARED;
}

/** A whole ERROR frame built by the proxy. */
export function errorFrame(version: ProtocolVersion, streamId: number, error: ErrorBody): Buffer {
  return encodeFrame(
    { version, isResponse: true, flags: 0, streamId, opcode: Opcode.ERROR },
    encodeError(error, version),
  );
}

/** A response frame built by the proxy (READY, SUPPORTED, RESULT...). */
export function responseFrame(
  version: ProtocolVersion,
  streamId: number,
  opcode: number,
  body: Buffer,
): Buffer {
  return encodeFrame({ version, isResponse: true, flags: 0, streamId, opcode }, body);
}
