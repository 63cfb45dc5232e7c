/**
 * A compressor of raw blocks whose decompressed length travels outside the block: in the 4-byte
 * prefix of a v4 LZ4 body (spec v4 §5) or in the header of a v5 segment (spec v5 §2).
 */
export interface BlockCompressor {
  compress(data: Buffer): Buffer;
  /** Decompresses to exactly `decompressedLength` bytes, or throws CodecError. */
  decompress(block: Buffer, decompressedLength: number): Buffer;
}
