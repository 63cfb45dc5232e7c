import { CodecError } from '../codec-error.js';

/**
 * Values of the STARTUP `COMPRESSION` option this codec implements (spec v4 §4.1.1 and §5), in the
 * order the proxy prefers them. v5 compresses segments, and only with LZ4 (spec v5 §2).
 */
export const COMPRESSION_ALGORITHMS = ['lz4', 'snappy'] as const;

export type CompressionAlgorithm = (typeof COMPRESSION_ALGORITHMS)[number];

export function isCompressionAlgorithm(name: string): name is CompressionAlgorithm {
  return (COMPRESSION_ALGORITHMS as readonly string[]).includes(name);
}

/**
 * Compression of v3/v4 frame bodies (spec v4 §5): with the header's compression flag set, the whole
 * body is compressed with the algorithm agreed in STARTUP.
 */
export interface BodyCompression {
  readonly algorithm: CompressionAlgorithm;
  compress(body: Buffer): Buffer;
  /** The most bytes compressInto can write for a body of `length` bytes. */
  compressBound(length: number): number;
  /**
   * Compresses the body that fills `source` from `from` to its end (a frame after its header) into
   * `out` at `at`, which has compressBound bytes free; returns the end.
   */
  compressInto(source: Buffer, from: number, out: Buffer, at: number): number;
  /**
   * Decompresses the body that fills `source` from `from` (0 by default) to its end. Reads the
   * decompressed size the format announces, refuses it if it exceeds `maxDecompressedBytes` before
   * allocating anything, then decompresses, after `headroom` free bytes. Throws CodecError on
   * corrupt input.
   */
  decompress(source: Buffer, maxDecompressedBytes: number, headroom?: number, from?: number): Buffer;
}

/** A compressed body announces a decompressed size above the limit: refused before decompressing. */
export class DecompressedTooLargeError extends CodecError {
  override readonly name = 'DecompressedTooLargeError';
  constructor(
    readonly algorithm: string,
    readonly announcedLength: number,
    readonly maxDecompressedBytes: number,
  ) {
    super(
      `${algorithm} body announces ${announcedLength} decompressed bytes, more than the maximum of ${maxDecompressedBytes}`,
      { field: `${algorithm} decompressed length`, offset: 0 },
    );
  }
}

export function checkDecompressedLength(algorithm: string, announced: number, max: number): void {
  if (announced > max) throw new DecompressedTooLargeError(algorithm, announced, max);
}

/** Wraps a library failure on corrupt input in a CodecError that names the algorithm. */
export function corruptInput(algorithm: string, cause: unknown): CodecError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new CodecError(`corrupt ${algorithm} data: ${detail}`, { field: `${algorithm} data`, cause });
}

/** A library wrote more than the bound it documents: refused rather than written past the room. */
export function beyondBound(algorithm: string, written: number, bound: number): CodecError {
  return new CodecError(`the ${algorithm} library wrote ${written} bytes, more than its bound of ${bound}`, {
    field: `${algorithm} compressed length`,
  });
}

/** The library produced a different size than announced: the input lied about its length. */
export function lengthMismatch(algorithm: string, got: number, announced: number): CodecError {
  return new CodecError(`${algorithm} data decompressed to ${got} bytes but announced ${announced}`, {
    field: `${algorithm} decompressed length`,
  });
}
