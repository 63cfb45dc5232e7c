import { CodecError } from '../codec-error.js';
import { crc24, crc32 } from './crc.js';

/**
 * v5 segments (spec v5 §2): after the handshake, frames travel inside segments. A segment is a
 * little-endian header (3 bytes, or 5 once compression is negotiated) with its CRC-24, then the
 * payload and its CRC-32. Self-contained segments hold whole frames; a frame larger than a
 * segment is split over several segments that are not self-contained.
 */
export const MAX_SEGMENT_PAYLOAD = 0x1ffff;
export const UNCOMPRESSED_SEGMENT_HEADER = 3;
export const COMPRESSED_SEGMENT_HEADER = 5;
export const SEGMENT_CRC24_LENGTH = 3;
export const SEGMENT_CRC32_LENGTH = 4;

export interface SegmentHeader {
  /** Bytes of payload on the wire. */
  readonly payloadLength: number;
  /** Compressed form only: length after decompression, or 0 when the payload was sent uncompressed. */
  readonly uncompressedLength: number;
  readonly selfContained: boolean;
}

export interface EncodeSegmentOptions {
  readonly selfContained: boolean;
  /** Use the 5-byte header of a connection with compression. */
  readonly compressedHeader?: boolean;
  /** With compressedHeader: the length before compression (0: payload not compressed). */
  readonly uncompressedLength?: number;
}

/** Reads the header fields from its little-endian bytes (3 or 5 of them). */
export function decodeSegmentHeader(bytes: Buffer): SegmentHeader {
  // 40 bits do not fit a 32-bit shift, so combine with arithmetic.
  let value = 0;
  for (let i = bytes.length - 1; i >= 0; i--) value = value * 256 + bytes[i]!;
  const payloadLength = value % 0x20000;
  value = Math.floor(value / 0x20000);
  if (bytes.length === COMPRESSED_SEGMENT_HEADER) {
    const uncompressedLength = value % 0x20000;
    value = Math.floor(value / 0x20000);
    return { payloadLength, uncompressedLength, selfContained: value % 2 === 1 };
  }
  return { payloadLength, uncompressedLength: 0, selfContained: value % 2 === 1 };
}

export function encodeSegment(payload: Buffer, options: EncodeSegmentOptions): Buffer {
  const compressedHeader = options.compressedHeader ?? false;
  const uncompressedLength = options.uncompressedLength ?? 0;
  if (
    payload.length > MAX_SEGMENT_PAYLOAD ||
    uncompressedLength > MAX_SEGMENT_PAYLOAD ||
    uncompressedLength < 0
  ) {
    throw new CodecError(`segment payload of ${payload.length} bytes is too large`, { field: 'segment' });
  }
  const headerLength = compressedHeader ? COMPRESSED_SEGMENT_HEADER : UNCOMPRESSED_SEGMENT_HEADER;
  let value = payload.length;
  let scale = 0x20000;
  if (compressedHeader) {
    value += uncompressedLength * scale;
    scale *= 0x20000;
  }
  if (options.selfContained) value += scale;
  const out = Buffer.alloc(headerLength + SEGMENT_CRC24_LENGTH + payload.length + SEGMENT_CRC32_LENGTH);
  for (let i = 0; i < headerLength; i++) {
    out[i] = value % 256;
    value = Math.floor(value / 256);
  }
  out.writeUIntLE(crc24(out.subarray(0, headerLength)), headerLength, SEGMENT_CRC24_LENGTH);
  payload.copy(out, headerLength + SEGMENT_CRC24_LENGTH);
  out.writeUInt32LE(crc32(payload), headerLength + SEGMENT_CRC24_LENGTH + payload.length);
  return out;
}

/**
 * Wraps whole frames (already encoded, concatenated) in uncompressed segments: one self-contained
 * segment when they fit, otherwise slices of at most MAX_SEGMENT_PAYLOAD that are not self-contained
 * (which the spec allows only for a single large frame).
 */
export function segmentsForFrames(frames: Buffer): Buffer[] {
  if (frames.length <= MAX_SEGMENT_PAYLOAD) return [encodeSegment(frames, { selfContained: true })];
  const segments: Buffer[] = [];
  for (let at = 0; at < frames.length; at += MAX_SEGMENT_PAYLOAD) {
    segments.push(encodeSegment(frames.subarray(at, at + MAX_SEGMENT_PAYLOAD), { selfContained: false }));
  }
  return segments;
}
