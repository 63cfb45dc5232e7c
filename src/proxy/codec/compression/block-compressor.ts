/**
 * A compressor of raw blocks whose decompressed length travels outside the block: in the 4-byte
 * prefix of a v4 LZ4 body (spec v4 §5) or in the header of a v5 segment (spec v5 §2).
 *
 * Decompressing takes a `headroom`: the result starts with that many bytes left free for the
 * caller (a frame header), so that the caller need not copy the result once more. Compressing can
 * write into the caller's buffer (compressInto), for the same reason.
 */
export interface BlockCompressor {
  compress(data: Buffer): Buffer;
  /** The most bytes compressInto can write for `length` bytes of input. */
  compressBound(length: number): number;
  /**
   * Compresses `source` from `from` to its end into `out` at `at`, which has compressBound bytes
   * free; returns the end. (An offset rather than a view: a view costs as much as a short body.)
   */
  compressInto(source: Buffer, from: number, out: Buffer, at: number): number;
  /**
   * Decompresses the block that fills `source` from `blockStart` to its end (the whole of it by
   * default), to exactly `decompressedLength` bytes after the headroom, or throws CodecError.
   */
  decompress(source: Buffer, decompressedLength: number, headroom?: number, blockStart?: number): Buffer;
}
