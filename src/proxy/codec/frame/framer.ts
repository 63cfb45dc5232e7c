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

/**
 * A frame as the framer cuts it: the view of its body is made when first asked for. Many frames
 * never need it (an answer forwarded whole, a compressed request decompressed from `raw`), and
 * making a view costs about as much as handling a short frame. (`{ ...frame }` copies `header` and
 * `raw`, not the cache, so a spread must give its own `body`, as every one does.)
 */
class CutFrame implements RawFrame {
  #body: Buffer | null = null;

  constructor(
    readonly header: FrameHeader,
    readonly raw: Buffer,
  ) {}

  get body(): Buffer {
    if (this.#body === null) this.#body = this.raw.subarray(HEADER_LENGTH);
    return this.#body;
  }
}

export interface FramerOptions {
  /** Versions accepted in the header (without the direction bit); others give UnsupportedVersionError. */
  readonly supportedVersions: readonly number[];
  /**
   * Largest accepted body; defaults to MAX_BODY_LENGTH (256 MB, the protocol's own bound). A server
   * side sets a tighter one (Cassandra's native_transport_max_frame_size is 16 MiB), and a tighter
   * one still before the peer has authenticated; see `setMaxBodyLength`.
   */
  readonly maxBodyLength?: number;
  /**
   * A frame after which the framer pauses: bytes that follow are kept, not framed, until `resume`
   * or `takeBuffered`. A v5 connection switches to segments after the answer to STARTUP (spec v5
   * §2.3), so what follows that frame may not be a frame at all.
   */
  readonly pauseAfter?: (header: FrameHeader) => boolean;
}

/** What one push produced: the complete frames, then the error that stopped framing, if any. */
export interface FramerResult {
  readonly frames: RawFrame[];
  readonly error: FramingError | null;
}

/**
 * Cuts a byte stream into v3/v4 frames (spec v4 §1-2; also v5 before its segment layer starts).
 * It decodes nothing but the header. The body length is judged from the header alone, before any
 * of the body is kept, so an oversized frame costs nine bytes of memory, not its announced size.
 * After a framing error the stream cannot be resynchronised, so the framer stops: it drops what it
 * buffered, and every later push returns the same error and no frames (the bytes are not kept).
 */
export class Framer {
  readonly #supported: ReadonlySet<number>;
  #maxBodyLength: number;
  #queue = new ByteQueue();
  #error: FramingError | null = null;
  readonly #pauseAfter: ((header: FrameHeader) => boolean) | null;
  #paused = false;

  constructor(options: FramerOptions) {
    this.#supported = new Set(options.supportedVersions);
    this.#maxBodyLength = checkedLimit(options.maxBodyLength ?? MAX_BODY_LENGTH);
    this.#pauseAfter = options.pauseAfter ?? null;
  }

  /** A frame matched `pauseAfter`: later bytes are held until `resume` or `takeBuffered`. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Frames the bytes held since the pause, and those pushed from now on. */
  resume(): FramerResult {
    this.#paused = false;
    return this.push(Buffer.alloc(0));
  }

  /** Hands over the bytes held (to another framer, e.g. the v5 segment framer); the framer is empty after. */
  takeBuffered(): Buffer {
    const rest = this.#queue.length === 0 ? Buffer.alloc(0) : this.#queue.take(this.#queue.length);
    this.#queue = new ByteQueue();
    return rest;
  }

  get maxBodyLength(): number {
    return this.#maxBodyLength;
  }

  /**
   * Changes the body limit for the frames not yet cut, e.g. from the pre-authentication limit to
   * the normal one once the handshake is done. A frame whose header is already buffered is judged
   * again at the next push.
   */
  setMaxBodyLength(maxBodyLength: number): void {
    this.#maxBodyLength = checkedLimit(maxBodyLength);
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
    if (chunk.length > 0) queue.push(chunk);
    const frames: RawFrame[] = [];
    for (;;) {
      if (queue.length === 0 || this.#paused) break;
      // The version byte alone decides support, so a v1/v2 peer (8-byte header) is still reported.
      const version = queue.firstByte() & ~RESPONSE_BIT;
      if (!this.#supported.has(version)) {
        this.#error = new UnsupportedVersionError(version, queue.consumed);
        break;
      }
      if (queue.length < HEADER_LENGTH) break;
      const chunk = queue.chunkHolding(HEADER_LENGTH);
      const header =
        chunk !== null ? decodeHeader(chunk, queue.headOffset) : decodeHeader(queue.peek(HEADER_LENGTH));
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
      frames.push(new CutFrame(header, raw));
      if (this.#pauseAfter?.(header) === true) this.#paused = true;
    }
    if (this.#error !== null) this.#queue = new ByteQueue();
    return { frames, error: this.#error };
  }
}

function checkedLimit(maxBodyLength: number): number {
  if (!Number.isInteger(maxBodyLength) || maxBodyLength < 0 || maxBodyLength > MAX_BODY_LENGTH)
    throw new RangeError(`bad maximum frame body length ${maxBodyLength} (0..${MAX_BODY_LENGTH})`);
  return maxBodyLength;
}
