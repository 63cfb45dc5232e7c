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
  /** Unconsumed chunks; the first one is consumed from #headOffset. */
  #chunks: Buffer[] = [];
  #headOffset = 0;
  #buffered = 0;
  /** Bytes consumed since the start of the stream, for error offsets. */
  #consumed = 0;
  #error: FramingError | null = null;

  constructor(options: FramerOptions) {
    this.#supported = new Set(options.supportedVersions);
    this.#maxBodyLength = options.maxBodyLength ?? MAX_BODY_LENGTH;
  }

  /** Bytes received but not yet part of a complete frame. */
  get bufferedLength(): number {
    return this.#buffered;
  }

  get error(): FramingError | null {
    return this.#error;
  }

  push(chunk: Buffer): FramerResult {
    if (this.#error !== null) return { frames: [], error: this.#error };
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
    }
    const frames: RawFrame[] = [];
    for (;;) {
      if (this.#buffered === 0) break;
      // The version byte alone decides support, so a v1/v2 peer (8-byte header) is still reported.
      const version = this.#peek(1).readUInt8(0) & ~RESPONSE_BIT;
      if (!this.#supported.has(version)) {
        this.#error = new UnsupportedVersionError(version, this.#consumed);
        break;
      }
      if (this.#buffered < HEADER_LENGTH) break;
      const header = decodeHeader(this.#peek(HEADER_LENGTH));
      if (header.length < 0) {
        this.#error = new NegativeFrameLengthError(header, this.#consumed);
        break;
      }
      if (header.length > this.#maxBodyLength) {
        this.#error = new FrameTooLargeError(header, this.#maxBodyLength, this.#consumed);
        break;
      }
      const total = HEADER_LENGTH + header.length;
      if (this.#buffered < total) break;
      const raw = this.#take(total);
      frames.push({ header, body: raw.subarray(HEADER_LENGTH), raw });
    }
    return { frames, error: this.#error };
  }

  /** The next `n` buffered bytes without consuming them (copied only when they span chunks). */
  #peek(n: number): Buffer {
    const first = this.#chunks[0]!;
    if (first.length - this.#headOffset >= n) return first.subarray(this.#headOffset, this.#headOffset + n);
    return this.#gather(n, false);
  }

  #take(n: number): Buffer {
    const first = this.#chunks[0]!;
    let out: Buffer;
    if (first.length - this.#headOffset >= n) {
      out = first.subarray(this.#headOffset, this.#headOffset + n);
      this.#headOffset += n;
      if (this.#headOffset === first.length) {
        this.#chunks.shift();
        this.#headOffset = 0;
      }
    } else {
      out = this.#gather(n, true);
    }
    this.#buffered -= n;
    this.#consumed += n;
    return out;
  }

  /** Copies `n` bytes that span several chunks, dropping the consumed chunks if asked. */
  #gather(n: number, consume: boolean): Buffer {
    const out = Buffer.allocUnsafe(n);
    let written = 0;
    let index = 0;
    let offset = this.#headOffset;
    while (written < n) {
      const chunk = this.#chunks[index]!;
      const count = Math.min(chunk.length - offset, n - written);
      chunk.copy(out, written, offset, offset + count);
      written += count;
      offset += count;
      if (offset === chunk.length) {
        index++;
        offset = 0;
      }
    }
    if (consume) {
      this.#chunks.splice(0, index);
      this.#headOffset = offset;
    }
    return out;
  }
}
