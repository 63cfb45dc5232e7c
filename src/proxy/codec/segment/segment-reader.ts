import { CodecError } from '../codec-error.js';
import { ByteQueue } from '../primitives/byte-queue.js';
import { crc24, crc32 } from './crc.js';
import {
  COMPRESSED_SEGMENT_HEADER,
  decodeSegmentHeader,
  SEGMENT_CRC24_LENGTH,
  SEGMENT_CRC32_LENGTH,
  type SegmentHeader,
  UNCOMPRESSED_SEGMENT_HEADER,
} from './segment-codec.js';

export interface Segment {
  readonly header: SegmentHeader;
  /** The payload as sent (still compressed when header.uncompressedLength > 0). */
  readonly payload: Buffer;
}

/** A segment header or payload whose checksum does not match: the stream is corrupt. */
export class SegmentChecksumError extends CodecError {
  override readonly name = 'SegmentChecksumError';
  constructor(
    readonly part: 'header' | 'payload',
    offset: number,
  ) {
    super(`segment ${part} checksum mismatch`, { field: `segment ${part}`, offset });
  }
}

export interface SegmentReaderResult {
  readonly segments: Segment[];
  readonly error: SegmentChecksumError | null;
}

/**
 * Cuts a v5 byte stream into checked segments. Feed the (decompressed) payloads of successive
 * segments to a Framer to get the frames back: self-contained or not, payloads are consecutive
 * frame bytes. Stops at the first checksum error, like the Framer.
 */
export class SegmentReader {
  readonly #headerLength: number;
  readonly #queue = new ByteQueue();
  #error: SegmentChecksumError | null = null;

  constructor(options: { readonly compressedHeader?: boolean } = {}) {
    this.#headerLength = options.compressedHeader ? COMPRESSED_SEGMENT_HEADER : UNCOMPRESSED_SEGMENT_HEADER;
  }

  get bufferedLength(): number {
    return this.#queue.length;
  }

  push(chunk: Buffer): SegmentReaderResult {
    if (this.#error !== null) return { segments: [], error: this.#error };
    const queue = this.#queue;
    queue.push(chunk);
    const segments: Segment[] = [];
    const headerLength = this.#headerLength;
    const prefix = headerLength + SEGMENT_CRC24_LENGTH;
    while (queue.length >= prefix) {
      const head = queue.peek(prefix);
      const headerBytes = head.subarray(0, headerLength);
      if (crc24(headerBytes) !== head.readUIntLE(headerLength, SEGMENT_CRC24_LENGTH)) {
        this.#error = new SegmentChecksumError('header', queue.consumed);
        break;
      }
      const header = decodeSegmentHeader(headerBytes);
      const total = prefix + header.payloadLength + SEGMENT_CRC32_LENGTH;
      if (queue.length < total) break;
      const offset = queue.consumed;
      const raw = queue.take(total);
      const payload = raw.subarray(prefix, prefix + header.payloadLength);
      if (crc32(payload) !== raw.readUInt32LE(prefix + header.payloadLength)) {
        this.#error = new SegmentChecksumError('payload', offset + prefix);
        break;
      }
      segments.push({ header, payload });
    }
    return { segments, error: this.#error };
  }
}
