export {
  ConnectionFramer,
  type ConnectionFramerOptions,
  type ConnectionFramerResult,
} from './connection-framer.js';
export { crc24, crc32 } from './crc.js';
export { encodeSegment } from './segment-codec.js';
export { encodeSegments } from './segment-encoder.js';
export { MalformedSegmentError, SegmentChecksumError, type SegmentFramingError } from './segment-errors.js';
export {
  DEFAULT_MAX_FRAME_LENGTH,
  SegmentFramer,
  type SegmentFramerOptions,
  type SegmentFramerResult,
} from './segment-framer.js';
export {
  COMPRESSED_SEGMENT_HEADER,
  decodeSegmentHeader,
  encodeSegmentHeader,
  MAX_SEGMENT_PAYLOAD,
  SEGMENT_CRC24_LENGTH,
  SEGMENT_CRC32_LENGTH,
  type SegmentHeader,
  segmentHeaderLength,
  UNCOMPRESSED_SEGMENT_HEADER,
} from './segment-header.js';
export { type Segment, SegmentReader } from './segment-reader.js';
