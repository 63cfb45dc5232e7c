import { CodecError } from '../codec-error.js';
import type { BlockCompressor } from '../compression/block-compressor.js';
import { decodeHeader, type FrameHeader, HEADER_LENGTH } from '../frame/frame-header.js';
import type { RawFrame } from '../frame/framer.js';
import {
  FrameTooLargeError,
  NegativeFrameLengthError,
  UnsupportedVersionError,
} from '../frame/framing-errors.js';
import { MalformedSegmentError, type SegmentFramingError } from './segment-errors.js';
import { type Segment, SegmentReader } from './segment-reader.js';

/** Cassandra's default `native_transport_max_frame_size`. */
export const DEFAULT_MAX_FRAME_LENGTH = 16 * 1024 * 1024;

export interface SegmentFramerOptions {
  /** LZ4 blocks when compression was negotiated in STARTUP (5-byte segment headers); default none. */
  readonly compressor?: BlockCompressor | null;
  /**
   * Largest frame accepted, header and body, checked as soon as a frame header is read (for a frame
   * split over segments: in its first segment, before any more of it is kept). Default 16 MiB.
   */
  readonly maxFrameLength?: number;
  /** Frame versions accepted inside segments; default [5]. */
  readonly supportedVersions?: readonly number[];
}

/** What one push produced: the complete frames, then the error that stopped framing, if any. */
export interface SegmentFramerResult {
  readonly frames: RawFrame[];
  readonly error: SegmentFramingError | null;
}

/**
 * The v5 read path after the handshake (spec v5 §2): bytes → segments → frames. A self-contained
 * segment holds one or more whole frames; a frame larger than a segment arrives in consecutive
 * segments that are not self-contained and hold nothing else. Like the v4 Framer it decodes only
 * frame headers, and stops for good at the first error.
 *
 * A v5 connection starts with unsegmented frames (OPTIONS, STARTUP and its answer, read with the
 * Framer); segments start once the server has answered STARTUP with READY or AUTHENTICATE, in
 * both directions, so bytes that follow that answer belong to this framer.
 */
export class SegmentFramer {
  readonly #reader: SegmentReader;
  #maxFrameLength: number;
  readonly #supported: ReadonlySet<number>;
  /** Parts of the frame being reassembled from segments that are not self-contained. */
  #parts: Buffer[] = [];
  #partsLength = 0;
  /** Header of that frame once its first 9 bytes are in. */
  #partHeader: FrameHeader | null = null;
  #error: SegmentFramingError | null = null;

  constructor(options: SegmentFramerOptions = {}) {
    this.#reader = new SegmentReader(options.compressor ?? null);
    this.#maxFrameLength = options.maxFrameLength ?? DEFAULT_MAX_FRAME_LENGTH;
    this.#supported = new Set(options.supportedVersions ?? [5]);
  }

  /** Changes the frame limit for frames whose header is not read yet (e.g. after authentication). */
  setMaxFrameLength(maxFrameLength: number): void {
    this.#maxFrameLength = maxFrameLength;
  }

  /** Bytes held: an incomplete segment plus the parts of an incomplete large frame. */
  get bufferedLength(): number {
    return this.#reader.bufferedLength + this.#partsLength;
  }

  get error(): SegmentFramingError | null {
    return this.#error;
  }

  push(chunk: Buffer): SegmentFramerResult {
    if (this.#error !== null) return { frames: [], error: this.#error };
    this.#reader.push(chunk);
    const frames: RawFrame[] = [];
    try {
      for (let segment = this.#reader.next(); segment !== null; segment = this.#reader.next()) {
        if (segment.header.selfContained) this.#wholeFrames(segment, frames);
        else this.#framePart(segment, frames);
      }
    } catch (error) {
      if (!(error instanceof CodecError)) throw error;
      this.#error = error as SegmentFramingError;
      this.#parts = [];
      this.#partsLength = 0;
      this.#partHeader = null;
    }
    return { frames, error: this.#error };
  }

  #wholeFrames(segment: Segment, frames: RawFrame[]): void {
    if (this.#partsLength > 0) {
      throw new MalformedSegmentError(
        'a self-contained segment arrived before the end of a frame split over segments',
        segment.offset,
      );
    }
    const payload = segment.payload;
    let at = 0;
    while (at < payload.length) {
      if (payload.length - at < HEADER_LENGTH) {
        throw new MalformedSegmentError(
          'a self-contained segment ends inside a frame header',
          segment.offset,
        );
      }
      const header = this.#checkedHeader(payload.subarray(at, at + HEADER_LENGTH), segment.offset);
      const end = at + HEADER_LENGTH + header.length;
      if (end > payload.length) {
        throw new MalformedSegmentError(
          `a self-contained segment ends inside a frame (${header.length}-byte body, ` +
            `${payload.length - at - HEADER_LENGTH} bytes present)`,
          segment.offset,
        );
      }
      const raw = payload.subarray(at, end);
      frames.push({ header, body: raw.subarray(HEADER_LENGTH), raw });
      at = end;
    }
  }

  #framePart(segment: Segment, frames: RawFrame[]): void {
    this.#parts.push(segment.payload);
    this.#partsLength += segment.payload.length;
    if (this.#partHeader === null && this.#partsLength >= HEADER_LENGTH) {
      const first = this.#parts[0]!;
      const head = first.length >= HEADER_LENGTH ? first : Buffer.concat(this.#parts, this.#partsLength);
      this.#partHeader = this.#checkedHeader(head.subarray(0, HEADER_LENGTH), segment.offset);
    }
    if (this.#partHeader === null) return;
    const total = HEADER_LENGTH + this.#partHeader.length;
    if (this.#partsLength > total) {
      throw new MalformedSegmentError(
        'a segment that is not self-contained holds bytes past the end of its frame',
        segment.offset,
      );
    }
    if (this.#partsLength < total) return;
    const raw = this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts, total);
    frames.push({ header: this.#partHeader, body: raw.subarray(HEADER_LENGTH), raw });
    this.#parts = [];
    this.#partsLength = 0;
    this.#partHeader = null;
  }

  /** Decodes a frame header and applies the version and size limits. */
  #checkedHeader(bytes: Buffer, offset: number): FrameHeader {
    const header = decodeHeader(bytes);
    if (!this.#supported.has(header.version)) throw new UnsupportedVersionError(header.version, offset);
    if (header.length < 0) throw new NegativeFrameLengthError(header, offset);
    if (HEADER_LENGTH + header.length > this.#maxFrameLength) {
      throw new FrameTooLargeError(header, this.#maxFrameLength - HEADER_LENGTH, offset);
    }
    return header;
  }
}
