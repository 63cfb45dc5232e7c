/**
 * Bytes received in chunks, consumed from the front. Reads that lie within one chunk return
 * views of it; only reads spanning chunks copy. Used by the framer and the segment reader.
 */
export class ByteQueue {
  #chunks: Buffer[] = [];
  /** Read position in the first chunk. */
  #headOffset = 0;
  #length = 0;
  /** Bytes consumed since the start, for error offsets. */
  #consumed = 0;

  get length(): number {
    return this.#length;
  }

  get consumed(): number {
    return this.#consumed;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  /** The next byte, without consuming it; the caller checks `length > 0` first. */
  firstByte(): number {
    return this.#chunks[0]![this.#headOffset]!;
  }

  /**
   * The chunk holding the next `n` bytes whole, from `headOffset`, or null when they span chunks;
   * the caller checks `length >= n` first. Reading in place costs no view (peek makes one).
   */
  chunkHolding(n: number): Buffer | null {
    const first = this.#chunks[0]!;
    return first.length - this.#headOffset >= n ? first : null;
  }

  /** Where the next byte is in the first chunk. */
  get headOffset(): number {
    return this.#headOffset;
  }

  /** The next `n` bytes without consuming them; the caller checks `length >= n` first. */
  peek(n: number): Buffer {
    const first = this.#chunks[0]!;
    if (first.length - this.#headOffset >= n) return first.subarray(this.#headOffset, this.#headOffset + n);
    return this.#gather(n, false);
  }

  /** Consumes and returns the next `n` bytes; the caller checks `length >= n` first. */
  take(n: number): Buffer {
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
    this.#length -= n;
    this.#consumed += n;
    return out;
  }

  /** Copies `n` bytes spanning several chunks, dropping the consumed chunks if asked. */
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
