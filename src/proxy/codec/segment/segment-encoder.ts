import type { BlockCompressor } from '../compression/block-compressor.js';
import { encodeSegment } from './segment-codec.js';
import { MAX_SEGMENT_PAYLOAD } from './segment-header.js';

/**
 * Wraps encoded v5 frames (header and body each) in segments, in order (spec v5 §2): consecutive
 * frames that fit together share one self-contained segment; a frame larger than a segment payload
 * goes alone into slices of MAX_SEGMENT_PAYLOAD bytes, in segments that are not self-contained.
 */
export function encodeSegments(
  frames: readonly Buffer[],
  compressor: BlockCompressor | null = null,
): Buffer[] {
  const segments: Buffer[] = [];
  let pending: Buffer[] = [];
  let pendingLength = 0;
  const flush = (): void => {
    if (pending.length === 0) return;
    const payload = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingLength);
    segments.push(encodeSegment(payload, true, compressor));
    pending = [];
    pendingLength = 0;
  };
  for (const frame of frames) {
    if (frame.length > MAX_SEGMENT_PAYLOAD) {
      flush();
      for (let at = 0; at < frame.length; at += MAX_SEGMENT_PAYLOAD) {
        segments.push(encodeSegment(frame.subarray(at, at + MAX_SEGMENT_PAYLOAD), false, compressor));
      }
      continue;
    }
    if (pendingLength + frame.length > MAX_SEGMENT_PAYLOAD) flush();
    pending.push(frame);
    pendingLength += frame.length;
  }
  flush();
  return segments;
}
