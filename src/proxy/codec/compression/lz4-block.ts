import { CodecError } from '../codec-error.js';
import type { BlockCompressor } from './block-compressor.js';
import { corruptInput, lengthMismatch } from './body-compression.js';

/** The part of the `lz4-napi` API used here (LZ4 blocks with a little-endian size prefix). */
export interface Lz4Library {
  compressSync(data: Buffer): Buffer;
  uncompressSync(data: Uint8Array): Buffer;
}

const SIZE_PREFIX = 4;

/**
 * Raw LZ4 blocks (the LZ4 block format, no frame). The library puts the decompressed size in a
 * little-endian prefix; the protocol carries it elsewhere, so the prefix is removed after compressing
 * and rebuilt from the caller's length before decompressing. The caller has checked that length
 * against its limit, and the library must produce exactly that many bytes.
 */
export class Lz4Block implements BlockCompressor {
  constructor(private readonly library: Lz4Library) {}

  compress(data: Buffer): Buffer {
    const prefixed = this.library.compressSync(data);
    if (prefixed.length < SIZE_PREFIX || prefixed.readUInt32LE(0) !== data.length) {
      throw new CodecError('the lz4 library output does not start with the size prefix it should write', {
        field: 'lz4 block',
      });
    }
    return prefixed.subarray(SIZE_PREFIX);
  }

  decompress(block: Buffer, decompressedLength: number): Buffer {
    const prefixed = Buffer.allocUnsafe(SIZE_PREFIX + block.length);
    prefixed.writeUInt32LE(decompressedLength, 0);
    block.copy(prefixed, SIZE_PREFIX);
    let out: Buffer;
    try {
      out = this.library.uncompressSync(prefixed);
    } catch (error) {
      throw corruptInput('lz4', error);
    }
    // The library stops at the end of the block, so a block shorter than announced is not an error to it.
    if (out.length !== decompressedLength) throw lengthMismatch('lz4', out.length, decompressedLength);
    return out;
  }
}
