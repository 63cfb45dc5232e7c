import {
  CodecError,
  closeBody,
  decodeError,
  decodeResult,
  type ErrorBody,
  ErrorCode,
  encodeError,
  encodeFrame,
  FrameFlag,
  messageOffset,
  Opcode,
  openBody,
  type ProtocolVersion,
  type RawFrame,
  Reader,
  type RowsResult,
  scanRequest,
} from './codec/index.js';

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
