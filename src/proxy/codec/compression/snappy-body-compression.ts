import { CodecError } from '../codec-error.js';
import {
  type BodyCompression,
  beyondBound,
  checkDecompressedLength,
  corruptInput,
  lengthMismatch,
} from './body-compression.js';
import { withHeadroom } from './byte-copies.js';
import { snappyCompressBound, snappyCompressInto, snappyDecompressInto } from './snappy-raw.js';

/** The part of the `snappy` package API used here (raw Snappy, not the framing format). */
export interface SnappyLibrary {
  compressSync(data: Uint8Array): Buffer;
  uncompressSync(data: Uint8Array, options: { asBuffer: true }): string | Buffer;
}

/**
 * Up to these sizes the TypeScript codec (snappy-raw.ts) is faster than a call into the library
 * (`npx tsx bench/compression-small-bodies.ts`: at 64 bytes 5x faster compressing and 9x
 * decompressing; compressing is 1.16x faster up to 2 KiB, decompressing 1.2x faster up to 16 KiB).
 */
export const SNAPPY_COMPRESS_IN_TYPESCRIPT_UP_TO = 2048;
export const SNAPPY_DECOMPRESS_IN_TYPESCRIPT_UP_TO = 16384;

/** A raw Snappy block's decompressed length and where its elements start, after that varint. */
export interface SnappyPreamble {
  readonly length: number;
  readonly elementsStart: number;
}

/**
 * The decompressed length a raw Snappy block (in `block` from `start`) starts with: a
 * little-endian base-128 varint of at most 32 bits (5 bytes). Read here, before any decompression,
 * so that the limit applies first.
 */
export function readSnappyPreamble(block: Buffer, start = 0): SnappyPreamble {
  let length = 0;
  for (let i = 0; i < 5; i++) {
    if (start + i >= block.length) break;
    const byte = block[start + i]!;
    length += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) {
      if (length > 0xffffffff) break;
      return { length, elementsStart: start + i + 1 };
    }
  }
  throw new CodecError('snappy body does not start with a valid decompressed length', {
    field: 'snappy decompressed length',
    offset: start,
  });
}

/**
 * Snappy frame bodies of v3/v4 (spec v4 §5): one raw Snappy block, which announces its own length.
 * Small bodies in TypeScript, large ones through the native library.
 */
export class SnappyBodyCompression implements BodyCompression {
  readonly algorithm = 'snappy';
  /** Without a library (it did not load on this platform), every size goes through TypeScript. */
  constructor(private readonly library: SnappyLibrary | null) {}

  compress(body: Buffer): Buffer {
    if (this.library === null || body.length <= SNAPPY_COMPRESS_IN_TYPESCRIPT_UP_TO) {
      const out = Buffer.allocUnsafe(snappyCompressBound(body.length));
      return out.subarray(0, snappyCompressInto(body, 0, out, 0));
    }
    return this.library!.compressSync(body);
  }

  compressBound(length: number): number {
    return snappyCompressBound(length);
  }

  compressInto(source: Buffer, from: number, out: Buffer, at: number): number {
    const length = source.length - from;
    if (this.library === null || length <= SNAPPY_COMPRESS_IN_TYPESCRIPT_UP_TO)
      return snappyCompressInto(source, from, out, at);
    const block = this.library!.compressSync(source.subarray(from));
    const bound = snappyCompressBound(length);
    if (block.length > bound) throw beyondBound('snappy', block.length, bound);
    return at + block.copy(out, at);
  }

  decompress(source: Buffer, maxDecompressedBytes: number, headroom = 0, from = 0): Buffer {
    const { length, elementsStart } = readSnappyPreamble(source, from);
    checkDecompressedLength('snappy', length, maxDecompressedBytes);
    if (this.library === null || length <= SNAPPY_DECOMPRESS_IN_TYPESCRIPT_UP_TO) {
      const out = Buffer.allocUnsafe(headroom + length);
      snappyDecompressInto(source, elementsStart, out, headroom, length);
      return out;
    }
    let out: string | Buffer;
    try {
      out = this.library!.uncompressSync(from === 0 ? source : source.subarray(from), { asBuffer: true });
    } catch (error) {
      throw corruptInput('snappy', error);
    }
    if (!Buffer.isBuffer(out)) throw corruptInput('snappy', 'the library returned a string');
    if (out.length !== length) throw lengthMismatch('snappy', out.length, length);
    return withHeadroom(out, headroom);
  }
}
