import { CodecError } from '../codec-error.js';
import { crc24 } from './crc.js';

/**
 * v5 segment headers (spec v5 §2). Without compression: 3 bytes, little-endian, holding the payload
 * length (17 bits), the self-contained flag (1 bit) and 6 bits of padding. With compression: 5
 * bytes holding the compressed length (17 bits), the uncompressed length (17 bits, 0 when the
 * payload was sent uncompressed), the self-contained flag and 5 bits of padding. Each header is
 * followed by its CRC-24, 3 bytes little-endian.
 */
export const MAX_SEGMENT_PAYLOAD = 128 * 1024 - 1;
export const UNCOMPRESSED_SEGMENT_HEADER = 3;
export const COMPRESSED_SEGMENT_HEADER = 5;
export const SEGMENT_CRC24_LENGTH = 3;
export const SEGMENT_CRC32_LENGTH = 4;

const LENGTH_BITS = 2 ** 17;

export interface SegmentHeader {
  /** Bytes of payload on the wire (compressed length once compression is negotiated). */
  readonly payloadLength: number;
  /** Compressed form only: length after decompression, 0 when the payload was sent as is. */
  readonly uncompressedLength: number;
  /** The payload holds whole frames; otherwise it holds a part of one large frame. */
  readonly selfContained: boolean;
}

/** Header length without its CRC: 5 bytes on a connection with compression, else 3. */
export function segmentHeaderLength(compressed: boolean): number {
  return compressed ? COMPRESSED_SEGMENT_HEADER : UNCOMPRESSED_SEGMENT_HEADER;
}

/** The header bytes followed by their CRC-24. */
export function encodeSegmentHeader(header: SegmentHeader, compressed: boolean): Buffer {
  const { payloadLength, uncompressedLength, selfContained } = header;
  for (const [name, length] of [
    ['payload length', payloadLength],
    ['uncompressed length', uncompressedLength],
  ] as const) {
    if (!Number.isInteger(length) || length < 0 || length > MAX_SEGMENT_PAYLOAD) {
      throw new CodecError(`segment ${name} ${length} is outside 0..${MAX_SEGMENT_PAYLOAD}`, {
        field: 'segment header',
      });
    }
  }
  if (!compressed && uncompressedLength !== 0) {
    throw new CodecError('an uncompressed segment header has no uncompressed length', {
      field: 'segment header',
    });
  }
  const headerLength = segmentHeaderLength(compressed);
  // Up to 35 bits: exact in a double, and writeUIntLE takes up to 6 bytes.
  let value = payloadLength;
  let flagScale = LENGTH_BITS;
  if (compressed) {
    value += uncompressedLength * LENGTH_BITS;
    flagScale *= LENGTH_BITS;
  }
  if (selfContained) value += flagScale;
  const out = Buffer.allocUnsafe(headerLength + SEGMENT_CRC24_LENGTH);
  out.writeUIntLE(value, 0, headerLength);
  out.writeUIntLE(crc24(out.subarray(0, headerLength)), headerLength, SEGMENT_CRC24_LENGTH);
  return out;
}

/** Reads the fields from the header bytes (3 or 5 of them, without the CRC). */
export function decodeSegmentHeader(bytes: Buffer): SegmentHeader {
  const compressed = bytes.length === COMPRESSED_SEGMENT_HEADER;
  if (!compressed && bytes.length !== UNCOMPRESSED_SEGMENT_HEADER) {
    throw new CodecError(`a segment header has 3 or 5 bytes, not ${bytes.length}`, {
      field: 'segment header',
    });
  }
  let value = bytes.readUIntLE(0, bytes.length);
  const payloadLength = value % LENGTH_BITS;
  value = Math.floor(value / LENGTH_BITS);
  let uncompressedLength = 0;
  if (compressed) {
    uncompressedLength = value % LENGTH_BITS;
    value = Math.floor(value / LENGTH_BITS);
  }
  return { payloadLength, uncompressedLength, selfContained: value % 2 === 1 };
}
