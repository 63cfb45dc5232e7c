import { CodecError } from '../codec-error.js';

/** Size of the v3+ frame header (spec v4 §2). */
export const HEADER_LENGTH = 9;

/** Largest body a frame may carry: 256 MB (spec v4 §2.5). */
export const MAX_BODY_LENGTH = 256 * 1024 * 1024;

/** The most significant bit of the version byte: 0 for requests, 1 for responses (spec v4 §2.1). */
export const RESPONSE_BIT = 0x80;

/** Opcodes (spec v4 §2.4). */
export const Opcode = {
  ERROR: 0x00,
  STARTUP: 0x01,
  READY: 0x02,
  AUTHENTICATE: 0x03,
  OPTIONS: 0x05,
  SUPPORTED: 0x06,
  QUERY: 0x07,
  RESULT: 0x08,
  PREPARE: 0x09,
  EXECUTE: 0x0a,
  REGISTER: 0x0b,
  EVENT: 0x0c,
  BATCH: 0x0d,
  AUTH_CHALLENGE: 0x0e,
  AUTH_RESPONSE: 0x0f,
  AUTH_SUCCESS: 0x10,
} as const;

export type OpcodeValue = (typeof Opcode)[keyof typeof Opcode];

/** Header flags (spec v4 §2.2; v5 adds USE_BETA). */
export const FrameFlag = {
  COMPRESSION: 0x01,
  TRACING: 0x02,
  CUSTOM_PAYLOAD: 0x04,
  WARNING: 0x08,
  USE_BETA: 0x10,
} as const;

export interface FrameHeader {
  /** Protocol version without the direction bit. */
  readonly version: number;
  /** Direction bit: true for server → client frames. */
  readonly isResponse: boolean;
  readonly flags: number;
  /** Signed; negative ids are server-initiated (EVENT uses -1; spec v4 §2.3). */
  readonly streamId: number;
  readonly opcode: number;
  /** Body length; may be negative or oversized in malformed input, see the framer. */
  readonly length: number;
}

/** Decodes the 9-byte header at `offset`. Does not judge version or length: the framer does. */
export function decodeHeader(buf: Buffer, offset = 0): FrameHeader {
  if (buf.length - offset < HEADER_LENGTH) {
    throw new CodecError(`need ${HEADER_LENGTH} header bytes, ${buf.length - offset} left`, {
      field: 'frame header',
      offset,
    });
  }
  const versionByte = buf.readUInt8(offset);
  return {
    version: versionByte & ~RESPONSE_BIT,
    isResponse: (versionByte & RESPONSE_BIT) !== 0,
    flags: buf.readUInt8(offset + 1),
    streamId: buf.readInt16BE(offset + 2),
    opcode: buf.readUInt8(offset + 4),
    length: buf.readInt32BE(offset + 5),
  };
}

/** Encodes a header; `length` must be the body length. */
export function encodeHeader(header: FrameHeader): Buffer {
  const { version, isResponse, flags, streamId, opcode, length } = header;
  if (!Number.isInteger(version) || version < 0 || version > 0x7f) {
    throw new CodecError(`bad version ${version}`, { field: 'frame header' });
  }
  if (!Number.isInteger(streamId) || streamId < -0x8000 || streamId > 0x7fff) {
    throw new CodecError(`bad stream id ${streamId}`, { field: 'frame header' });
  }
  if (!Number.isInteger(length) || length < 0 || length > MAX_BODY_LENGTH) {
    throw new CodecError(`bad body length ${length}`, { field: 'frame header' });
  }
  if (
    !Number.isInteger(flags) ||
    flags < 0 ||
    flags > 0xff ||
    !Number.isInteger(opcode) ||
    opcode < 0 ||
    opcode > 0xff
  ) {
    throw new CodecError(`bad flags ${flags} or opcode ${opcode}`, { field: 'frame header' });
  }
  const buf = Buffer.allocUnsafe(HEADER_LENGTH);
  buf.writeUInt8(version | (isResponse ? RESPONSE_BIT : 0), 0);
  buf.writeUInt8(flags, 1);
  buf.writeInt16BE(streamId, 2);
  buf.writeUInt8(opcode, 4);
  buf.writeInt32BE(length, 5);
  return buf;
}

/** Header fields a caller chooses; the length comes from the body. */
export type FrameHeaderFields = Omit<FrameHeader, 'length'>;

/** A whole frame (header + body) as one buffer. */
export function encodeFrame(fields: FrameHeaderFields, body: Buffer): Buffer {
  return Buffer.concat([encodeHeader({ ...fields, length: body.length }), body]);
}

/** The body is compressed with the algorithm agreed in STARTUP (spec v4 §5); the codec never (de)compresses. */
export function isCompressed(header: Pick<FrameHeader, 'flags'>): boolean {
  return (header.flags & FrameFlag.COMPRESSION) !== 0;
}

/** Hook for the LZ4/Snappy implementations that live outside the codec. */
export interface BodyCompressor {
  /** The STARTUP `COMPRESSION` option value, e.g. `lz4`. */
  readonly algorithm: string;
  compress(body: Buffer): Buffer;
  decompress(body: Buffer): Buffer;
}
