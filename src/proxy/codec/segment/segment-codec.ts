import { CodecError } from '../codec-error.js';
import type { BlockCompressor } from '../compression/block-compressor.js';
import { crc32 } from './crc.js';
import { encodeSegmentHeader, MAX_SEGMENT_PAYLOAD, SEGMENT_CRC32_LENGTH } from './segment-header.js';

/**
 * One segment: header and CRC-24, payload, CRC-32 of the payload as sent (spec v5 §2). With a
 * compressor (LZ4 negotiated in STARTUP) the payload is compressed unless that does not make it
 * smaller, in which case it is sent as is with an uncompressed length of 0, as Cassandra does.
 */
export function encodeSegment(
  payload: Buffer,
  selfContained: boolean,
  compressor: BlockCompressor | null = null,
): Buffer {
  if (payload.length > MAX_SEGMENT_PAYLOAD) {
    throw new CodecError(
      `segment payload of ${payload.length} bytes exceeds the maximum of ${MAX_SEGMENT_PAYLOAD}`,
      { field: 'segment payload' },
    );
  }
  let wire = payload;
  let uncompressedLength = 0;
  if (compressor !== null) {
    const compressed = compressor.compress(payload);
    if (compressed.length < payload.length) {
      wire = compressed;
      uncompressedLength = payload.length;
    }
  }
  const header = encodeSegmentHeader(
    { payloadLength: wire.length, uncompressedLength, selfContained },
    compressor !== null,
  );
  const out = Buffer.allocUnsafe(header.length + wire.length + SEGMENT_CRC32_LENGTH);
  header.copy(out, 0);
  wire.copy(out, header.length);
  out.writeUInt32LE(crc32(wire), header.length + wire.length);
  return out;
}
