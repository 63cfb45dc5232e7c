import {
  type BlockCompressor,
  type BodyCompression,
  CodecError,
  encodeSegments,
  FrameFlag,
  HEADER_LENGTH,
  isCompressed,
  type RawFrame,
} from './codec/index.js';
import type { WriteBatch } from './write-batch.js';

/**
 * How frames travel between the proxy and one client once STARTUP has settled it: as they are,
 * with compressed bodies (v3/v4 with LZ4 or Snappy, spec v4 §5), or inside v5 segments (spec v5
 * §2, LZ4-compressed segments when negotiated). Cluster connections are never compressed, so
 * request bodies are decompressed here and response bodies compressed here.
 */
export class ClientWire {
  /** v3/v4: the algorithm agreed in STARTUP; request bodies flagged compressed use it. */
  #bodies: BodyCompression | null = null;
  /** Responses are compressed too (set once the handshake is done, when the driver expects it). */
  #compressResponses = false;
  /** v5 after the answer to STARTUP: every frame goes out in a segment. */
  #segments: { readonly compressor: BlockCompressor | null } | null = null;

  /** v3/v4 compression agreed in STARTUP: compressed request bodies are accepted from now on. */
  useBodyCompression(compression: BodyCompression): void {
    this.#bodies = compression;
  }

  /** The handshake is done: responses are compressed from now on (when compression was agreed). */
  compressResponses(): void {
    this.#compressResponses = this.#bodies !== null;
  }

  /** v5: frames go out in segments from now on. */
  useSegments(compressor: BlockCompressor | null): void {
    this.#segments = { compressor };
  }

  get segmented(): boolean {
    return this.#segments !== null;
  }

  /**
   * A request as the proxy handles it: a compressed body is decompressed (the decompressed size
   * comes from the body's own length prefix and must not exceed `maxBodyLength`, the same limit
   * as an uncompressed body); other frames are returned as they are.
   */
  decodeRequest(frame: RawFrame, maxBodyLength: number): RawFrame {
    if (!isCompressed(frame.header)) return frame;
    if (this.#segments !== null) {
      // v5 compresses segments, not frames: the frame flag is obsolete there and ignored (spec v5
      // §2.2), yet some drivers (the Java driver with LZ4) still set it.
      const header = { ...frame.header, flags: frame.header.flags & ~FrameFlag.COMPRESSION };
      const raw = Buffer.from(frame.raw);
      raw.writeUInt8(header.flags, 1);
      return { header, body: raw.subarray(HEADER_LENGTH), raw };
    }
    if (this.#bodies === null) {
      throw new CodecError('compressed frame, but no frame compression was negotiated', {
        field: 'frame flags',
      });
    }
    // Decompressed after room for the header, which is copied in front: the frame is built in place.
    // From `raw` rather than `body`, whose view the framer makes only when asked.
    const raw = this.#bodies.decompress(frame.raw, maxBodyLength, HEADER_LENGTH, HEADER_LENGTH);
    const header = {
      ...frame.header,
      flags: frame.header.flags & ~FrameFlag.COMPRESSION,
      length: raw.length - HEADER_LENGTH,
    };
    writeHeaderInto(raw, 0, frame.raw, header.flags, header.length);
    return { header, body: raw.subarray(HEADER_LENGTH), raw };
  }

  /**
   * Adds a whole frame (header and body) to `batch` in the form this client reads. A compressed
   * body is written straight into the batch, after its header.
   */
  encodeInto(frame: Buffer, batch: WriteBatch): void {
    if (this.#segments !== null) {
      for (const segment of encodeSegments([frame], this.#segments.compressor)) batch.append(segment);
      return;
    }
    const flags = frame[FLAGS_AT]!;
    if (!this.#compressResponses || frame.length === HEADER_LENGTH || (flags & FrameFlag.COMPRESSION) !== 0) {
      batch.append(frame);
      return;
    }
    const compression = this.#bodies!;
    const at = batch.reserve(HEADER_LENGTH + compression.compressBound(frame.length - HEADER_LENGTH));
    const out = batch.buffer;
    const end = compression.compressInto(frame, HEADER_LENGTH, out, at + HEADER_LENGTH);
    writeHeaderInto(out, at, frame, flags | FrameFlag.COMPRESSION, end - at - HEADER_LENGTH);
    batch.commit(end);
  }
}

/** Where a v3+ header holds its flags and its body length (spec v4 §2). */
const FLAGS_AT = 1;
const LENGTH_AT = 5;

/** Writes `source`'s header into `out` at `at`, with `flags` and `bodyLength` instead of its own. */
function writeHeaderInto(out: Buffer, at: number, source: Buffer, flags: number, bodyLength: number): void {
  // By hand: for 9 bytes, Buffer#copy and #writeInt32BE cost more in checks than the copy itself.
  for (let i = 0; i < LENGTH_AT; i++) out[at + i] = source[i]!;
  out[at + FLAGS_AT] = flags;
  out[at + LENGTH_AT] = bodyLength >>> 24;
  out[at + LENGTH_AT + 1] = (bodyLength >>> 16) & 0xff;
  out[at + LENGTH_AT + 2] = (bodyLength >>> 8) & 0xff;
  out[at + LENGTH_AT + 3] = bodyLength & 0xff;
}
