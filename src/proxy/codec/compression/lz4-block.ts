import { CodecError } from '../codec-error.js';
import type { BlockCompressor } from './block-compressor.js';
import { beyondBound, corruptInput, lengthMismatch } from './body-compression.js';
import { withHeadroom } from './byte-copies.js';
import { lz4CompressBound, lz4CompressInto, lz4DecompressInto } from './lz4-raw.js';

/** The part of the `lz4-napi` API used here (LZ4 blocks with a little-endian size prefix). */
export interface Lz4Library {
  compressSync(data: Buffer): Buffer;
  uncompressSync(data: Uint8Array): Buffer;
}

const SIZE_PREFIX = 4;

/**
 * Up to these sizes the TypeScript codec (lz4-raw.ts) is faster than a call into the library,
 * whose fixed cost is about 1 µs (`npx tsx bench/compression-small-bodies.ts`: at 64 bytes it is
 * 7x faster both ways; at 4 KiB compressing is still 1.2x faster, while decompressing is 1.2x
 * faster only up to 512 bytes).
 */
export const LZ4_COMPRESS_IN_TYPESCRIPT_UP_TO = 4096;
export const LZ4_DECOMPRESS_IN_TYPESCRIPT_UP_TO = 512;

/**
 * Raw LZ4 blocks (the LZ4 block format, no frame): small ones in TypeScript, large ones through the
 * native library. The library puts the decompressed size in a little-endian prefix; the protocol
 * carries it elsewhere, so the prefix is removed after compressing and rebuilt from the caller's
 * length before decompressing. The caller has checked that length against its limit, and either
 * codec must produce exactly that many bytes.
 */
export class Lz4Block implements BlockCompressor {
  /** Without a library (it did not load on this platform), every size goes through TypeScript. */
  constructor(private readonly library: Lz4Library | null) {}

  compress(data: Buffer): Buffer {
    if (this.library === null || data.length <= LZ4_COMPRESS_IN_TYPESCRIPT_UP_TO) {
      const out = Buffer.allocUnsafe(lz4CompressBound(data.length));
      return out.subarray(0, lz4CompressInto(data, 0, out, 0));
    }
    return this.#libraryCompress(data).subarray(SIZE_PREFIX);
  }

  compressBound(length: number): number {
    return lz4CompressBound(length);
  }

  compressInto(source: Buffer, from: number, out: Buffer, at: number): number {
    const length = source.length - from;
    if (this.library === null || length <= LZ4_COMPRESS_IN_TYPESCRIPT_UP_TO)
      return lz4CompressInto(source, from, out, at);
    const block = this.#libraryCompress(source.subarray(from)).subarray(SIZE_PREFIX);
    const bound = lz4CompressBound(length);
    if (block.length > bound) throw beyondBound('lz4', block.length, bound);
    return at + block.copy(out, at);
  }

  #libraryCompress(data: Buffer): Buffer {
    const prefixed = this.library!.compressSync(data);
    if (prefixed.length < SIZE_PREFIX || prefixed.readUInt32LE(0) !== data.length) {
      throw new CodecError('the lz4 library output does not start with the size prefix it should write', {
        field: 'lz4 block',
      });
    }
    return prefixed;
  }

  decompress(source: Buffer, decompressedLength: number, headroom = 0, blockStart = 0): Buffer {
    if (this.library === null || decompressedLength <= LZ4_DECOMPRESS_IN_TYPESCRIPT_UP_TO) {
      const out = Buffer.allocUnsafe(headroom + decompressedLength);
      lz4DecompressInto(source, blockStart, out, headroom, decompressedLength);
      return out;
    }
    const block = source.subarray(blockStart);
    const prefixed = Buffer.allocUnsafe(SIZE_PREFIX + block.length);
    prefixed.writeUInt32LE(decompressedLength, 0);
    block.copy(prefixed, SIZE_PREFIX);
    let out: Buffer;
    try {
      out = this.library!.uncompressSync(prefixed);
    } catch (error) {
      throw corruptInput('lz4', error);
    }
    // The library stops at the end of the block, so a block shorter than announced is not an error to it.
    if (out.length !== decompressedLength) throw lengthMismatch('lz4', out.length, decompressedLength);
    return withHeadroom(out, headroom);
  }
}
