/**
 * A compressor of raw blocks whose decompressed length travels outside the block: in the 4-byte
 * prefix of a v4 LZ4 body (spec v4 §5) or in the header of a v5 segment (spec v5 §2).
 *
 * Both directions take a `headroom`: the result starts with that many bytes left free for the
 * caller (a length prefix, a frame header), so that the caller need not copy the result once more.
 */
export interface BlockCompressor {
  compress(data: Buffer, headroom?: number): Buffer;
  /**
   * Decompresses the block that fills `source` from `blockStart` to its end (the whole of it by
   * default), to exactly `decompressedLength` bytes after the headroom, or throws CodecError.
   */
  decompress(source: Buffer, decompressedLength: number, headroom?: number, blockStart?: number): Buffer;
}
