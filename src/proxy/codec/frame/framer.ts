import { ByteQueue } from '../primitives/byte-queue.js';
import {
  decodeHeader,
  type FrameHeader,
  HEADER_LENGTH,
  MAX_BODY_LENGTH,
  RESPONSE_BIT,
} from './frame-header.js';
import {
  FrameTooLargeError,
  type FramingError,
  NegativeFrameLengthError,
  UnsupportedVersionError,
} from './framing-errors.js';

/** One complete frame cut from the byte stream. */
export interface RawFrame {
  readonly header: FrameHeader;
  /** The body: a view of `raw`, not a copy. */
  readonly body: Buffer;
  /** Header and body; a view of the input chunk when the frame lay in one chunk. */
  readonly raw: Buffer;
}

export interface FramerOptions {
  /** Versions accepted in the header (without the direction bit); others give UnsupportedVersionError. */
  readonly supportedVersions: readonly number[];
  /** Largest accepted body; defaults to MAX_BODY_LENGTH (256 MB). */
  readonly maxBodyLength?: number;
}

/** What one push produced: the complete frames, then the error that stopped framing, if any. */
export interface FramerResult {
  readonly frames: RawFrame[];
  readonly error: FramingError | null;
}

/**
 * Cuts a byte stream into v3/v4 frames (spec v4 §1-2; also v5 before its segment layer starts).
 * It decodes nothing but the header. After a framing error the stream cannot be resynchronised,
 * so the framer stops: every later push returns the same error and no frames.
 */
export class Framer {
  readonly #supported: ReadonlySet<number>;
  readonly #maxBodyLength: number;
  readonly #queue = new ByteQueue();
  #error: FramingError | null = null;

  constructor(options: FramerOptions) {
    this.#supported = new Set(options.supportedVersions);
    this.#maxBodyLength = options.maxBodyLength ?? MAX_BODY_LENGTH;
  }

  /** Bytes received but not yet part of a complete frame. */
  get bufferedLength(): number {
    return this.#queue.length;
  }

  get error(): FramingError | null {
    return this.#error;
  }

  push(chunk: Buffer): FramerResult {
    if (this.#error !== null) return { frames: [], error: this.#error };
    const queue = this.#queue;
    queue.push(chunk);
    const frames: RawFrame[] = [];
    for (;;) {
      if (queue.length === 0) break;
      // The version byte alone decides support, so a v1/v2 peer (8-byte header) is still reported.
      const version = queue.peek(1).readUInt8(0) & ~RESPONSE_BIT;
      if (!this.#supported.has(version)) {
        this.#error = new UnsupportedVersionError(version, queue.consumed);
        break;
      }
      if (queue.length < HEADER_LENGTH) break;
      const header = decodeHeader(queue.peek(HEADER_LENGTH));
      if (header.length < 0) {
        this.#error = new NegativeFrameLengthError(header, queue.consumed);
        break;
      }
      if (header.length > this.#maxBodyLength) {
        this.#error = new FrameTooLargeError(header, this.#maxBodyLength, queue.consumed);
        break;
      }
      const total = HEADER_LENGTH + header.length;
      if (queue.length < total) break;
      const raw = queue.take(total);
      frames.push({ header, body: raw.subarray(HEADER_LENGTH), raw });
    }
    return { frames, error: this.#error };
  }
}
