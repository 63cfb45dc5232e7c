export type { BlockCompressor } from './block-compressor.js';
export {
  type BodyCompression,
  COMPRESSION_ALGORITHMS,
  type CompressionAlgorithm,
  DecompressedTooLargeError,
  isCompressionAlgorithm,
} from './body-compression.js';
export { type LoadedCompression, loadCompression, type PackageLoader } from './load-compression.js';
export { Lz4Block, type Lz4Library } from './lz4-block.js';
export { Lz4BodyCompression } from './lz4-body-compression.js';
export { readSnappyPreamble, SnappyBodyCompression, type SnappyLibrary } from './snappy-body-compression.js';
export { type CompressionCheck, workingCompressions } from './working-compressions.js';
