import type { BlockCompressor } from '../compression/block-compressor.js';
import { ByteQueue } from '../primitives/byte-queue.js';
import { crc24, crc32 } from './crc.js';
import { MalformedSegmentError, SegmentChecksumError } from './segment-errors.js';
import {
  decodeSegmentHeader,
  SEGMENT_CRC24_LENGTH,
  SEGMENT_CRC32_LENGTH,
  type SegmentHeader,
  segmentHeaderLength,
} from './segment-header.js';

export interface Segment {
  readonly header: SegmentHeader;
  /** The payload, decompressed when it was sent compressed. */
  readonly payload: Buffer;
  /** Where the segment starts in the byte stream, for error messages. */
  readonly offset: number;
}

/**
 * Cuts a v5 byte stream into checked segments, one at a time so that the caller can stop at the
 * first bad frame before more payloads are checked or decompressed. The header CRC is checked as
 * soon as the header is in, before waiting for the payload; a payload is at most 128 KiB - 1 bytes
 * (17 bits), compressed or not, so nothing larger is ever held for one segment.
 */
export class SegmentReader {
  readonly #compressor: BlockCompressor | null;
  readonly #headerLength: number;
  readonly #queue = new ByteQueue();

  /** With a compressor, headers have 5 bytes and payloads may be compressed (spec v5 §2). */
  constructor(compressor: BlockCompressor | null = null) {
    this.#compressor = compressor;
    this.#headerLength = segmentHeaderLength(compressor !== null);
  }

  /** Bytes received but not yet part of a complete segment. */
  get bufferedLength(): number {
    return this.#queue.length;
  }

  push(chunk: Buffer): void {
    this.#queue.push(chunk);
  }

  /** The next complete segment, or null until more bytes arrive. Throws on a corrupt segment. */
  next(): Segment | null {
    const queue = this.#queue;
    const headerLength = this.#headerLength;
    const prefix = headerLength + SEGMENT_CRC24_LENGTH;
    if (queue.length < prefix) return null;
    const offset = queue.consumed;
    const head = queue.peek(prefix);
    const headerBytes = head.subarray(0, headerLength);
    const headerCrc = head.readUIntLE(headerLength, SEGMENT_CRC24_LENGTH);
    const computedHeaderCrc = crc24(headerBytes);
    if (computedHeaderCrc !== headerCrc) {
      throw new SegmentChecksumError('header', headerCrc, computedHeaderCrc, offset);
    }
    const header = decodeSegmentHeader(headerBytes);
    const total = prefix + header.payloadLength + SEGMENT_CRC32_LENGTH;
    if (queue.length < total) return null;
    const raw = queue.take(total);
    const wire = raw.subarray(prefix, prefix + header.payloadLength);
    const payloadCrc = raw.readUInt32LE(prefix + header.payloadLength);
    const computedPayloadCrc = crc32(wire);
    if (computedPayloadCrc !== payloadCrc) {
      throw new SegmentChecksumError('payload', payloadCrc, computedPayloadCrc, offset);
    }
    return { header, payload: this.#decompress(header, wire, offset), offset };
  }

  #decompress(header: SegmentHeader, wire: Buffer, offset: number): Buffer {
    // An uncompressed length of 0 means the sender found compression not worth it (spec v5 §2).
    if (this.#compressor === null || header.uncompressedLength === 0) return wire;
    try {
      return this.#compressor.decompress(wire, header.uncompressedLength);
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      throw new MalformedSegmentError(`segment payload does not decompress: ${detail}`, offset, error);
    }
  }
}
