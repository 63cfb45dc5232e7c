import { CodecError } from '../codec-error.js';
import type { BlockCompressor } from './block-compressor.js';
import { type BodyCompression, checkDecompressedLength } from './body-compression.js';

const LENGTH_PREFIX = 4;

/**
 * LZ4 frame bodies of v3/v4 (spec v4 §5): a 4-byte big-endian decompressed length, then one raw LZ4
 * block. The length is read first and checked against the limit, so a forged length never makes us
 * allocate; the block must then decompress to exactly that length.
 */
export class Lz4BodyCompression implements BodyCompression {
  readonly algorithm = 'lz4';
  constructor(private readonly block: BlockCompressor) {}

  compress(body: Buffer): Buffer {
    const out = Buffer.allocUnsafe(this.compressBound(body.length));
    return out.subarray(0, this.compressInto(body, 0, out, 0));
  }

  compressBound(length: number): number {
    return LENGTH_PREFIX + this.block.compressBound(length);
  }

  compressInto(source: Buffer, from: number, out: Buffer, at: number): number {
    // By hand: Buffer#writeUInt32BE's checks cost more than the write, once per answer.
    const length = source.length - from;
    out[at] = length >>> 24;
    out[at + 1] = (length >>> 16) & 0xff;
    out[at + 2] = (length >>> 8) & 0xff;
    out[at + 3] = length & 0xff;
    return this.block.compressInto(source, from, out, at + LENGTH_PREFIX);
  }

  decompress(source: Buffer, maxDecompressedBytes: number, headroom = 0, from = 0): Buffer {
    if (source.length - from < LENGTH_PREFIX) {
      throw new CodecError(`lz4 body of ${source.length - from} bytes has no 4-byte decompressed length`, {
        field: 'lz4 decompressed length',
        offset: from,
      });
    }
    // Read unsigned: a negative [int] becomes a huge length, which the limit refuses.
    const length = source.readUInt32BE(from);
    checkDecompressedLength('lz4', length, maxDecompressedBytes);
    return this.block.decompress(source, length, headroom, from + LENGTH_PREFIX);
  }
}
