import { CodecError } from '../codec-error.js';
import {
  type BodyCompression,
  checkDecompressedLength,
  corruptInput,
  lengthMismatch,
} from './body-compression.js';

/** The part of the `snappy` package API used here (raw Snappy, not the framing format). */
export interface SnappyLibrary {
  compressSync(data: Uint8Array): Buffer;
  uncompressSync(data: Uint8Array, options: { asBuffer: true }): string | Buffer;
}

/**
 * The decompressed length a raw Snappy block starts with: a little-endian base-128 varint of at
 * most 32 bits (5 bytes). Read here, before the library sees the block, so that the limit applies
 * first.
 */
export function readSnappyLength(block: Buffer): number {
  let length = 0;
  for (let i = 0; i < 5; i++) {
    if (i >= block.length) break;
    const byte = block[i]!;
    length += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) {
      if (length > 0xffffffff) break;
      return length;
    }
  }
  throw new CodecError('snappy body does not start with a valid decompressed length', {
    field: 'snappy decompressed length',
    offset: 0,
  });
}

/** Snappy frame bodies of v3/v4 (spec v4 §5): one raw Snappy block, which announces its own length. */
export class SnappyBodyCompression implements BodyCompression {
  readonly algorithm = 'snappy';
  constructor(private readonly library: SnappyLibrary) {}

  compress(body: Buffer): Buffer {
    return this.library.compressSync(body);
  }

  decompress(body: Buffer, maxDecompressedBytes: number): Buffer {
    const length = readSnappyLength(body);
    checkDecompressedLength('snappy', length, maxDecompressedBytes);
    let out: string | Buffer;
    try {
      out = this.library.uncompressSync(body, { asBuffer: true });
    } catch (error) {
      throw corruptInput('snappy', error);
    }
    if (!Buffer.isBuffer(out)) throw corruptInput('snappy', 'the library returned a string');
    if (out.length !== length) throw lengthMismatch('snappy', out.length, length);
    return out;
  }
}
