import type { BlockCompressor } from '../compression/block-compressor.js';
import type { FrameHeader } from '../frame/frame-header.js';
import { HEADER_LENGTH } from '../frame/frame-header.js';
import { Framer, type RawFrame } from '../frame/framer.js';
import type { FramingError } from '../frame/framing-errors.js';
import type { SegmentFramingError } from './segment-errors.js';
import { SegmentFramer } from './segment-framer.js';

export interface ConnectionFramerOptions {
  /** Frame versions accepted before segments start (and, for 5, inside them). */
  readonly supportedVersions: readonly number[];
  /** Largest frame body accepted (for a v5 frame inside segments: its body too). */
  readonly maxBodyLength?: number;
  /**
   * The frame after which segments may start: the client's v5 STARTUP on the server side, the
   * server's READY or AUTHENTICATE on the client side. The framer holds what follows it until
   * `startSegments` or `continueFrames` says how to read it.
   */
  readonly switchAfter: (header: FrameHeader) => boolean;
}

export interface ConnectionFramerResult {
  readonly frames: RawFrame[];
  readonly error: FramingError | SegmentFramingError | null;
}

/**
 * The read side of one connection, whatever its version (spec v5 §2.3): plain frames first
 * (OPTIONS, STARTUP and its answer, and everything for v3/v4), then, on a v5 connection once the
 * handshake has been answered with READY or AUTHENTICATE, segments holding frames.
 */
export class ConnectionFramer {
  readonly #frames: Framer;
  #segments: SegmentFramer | null = null;
  readonly #supported: readonly number[];

  constructor(options: ConnectionFramerOptions) {
    this.#supported = options.supportedVersions;
    this.#frames = new Framer({
      supportedVersions: options.supportedVersions,
      maxBodyLength: options.maxBodyLength,
      pauseAfter: options.switchAfter,
    });
  }

  /** Segments have started. */
  get segmented(): boolean {
    return this.#segments !== null;
  }

  /** The switch frame arrived: what follows waits for `startSegments` or `continueFrames`. */
  get waiting(): boolean {
    return this.#segments === null && this.#frames.paused;
  }

  get maxBodyLength(): number {
    return this.#frames.maxBodyLength;
  }

  setMaxBodyLength(maxBodyLength: number): void {
    this.#frames.setMaxBodyLength(maxBodyLength);
    this.#segments?.setMaxFrameLength(HEADER_LENGTH + maxBodyLength);
  }

  push(chunk: Buffer): ConnectionFramerResult {
    return this.#segments === null ? this.#frames.push(chunk) : this.#segments.push(chunk);
  }

  /** From now on bytes are v5 segments (LZ4-compressed ones with a compressor); frames the held bytes. */
  startSegments(compressor: BlockCompressor | null): ConnectionFramerResult {
    this.#segments = new SegmentFramer({
      compressor,
      maxFrameLength: HEADER_LENGTH + this.#frames.maxBodyLength,
      supportedVersions: this.#supported.filter((v) => v >= 5),
    });
    return this.#segments.push(this.#frames.takeBuffered());
  }

  /** The switch frame did not switch (STARTUP was refused): keep reading plain frames. */
  continueFrames(): ConnectionFramerResult {
    return this.#frames.resume();
  }
}
