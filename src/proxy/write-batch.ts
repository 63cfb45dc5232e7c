/** Answers up to this size are copied into the batch; larger ones are written as they are. */
const COPY_UP_TO = 8 * 1024;
const SLAB_BYTES = 64 * 1024;

/**
 * The bytes one client is sent during one tick, gathered into few buffers so that they leave in
 * one write. Answers are encoded (compressed, framed) straight into a shared slab instead of a
 * buffer each: with small answers, a buffer and a stream write per answer cost more than the
 * answer (bench/proxy-results.md). A slab is never written over: once its bytes are taken, the
 * next answers go after them, and a full slab is left to the socket and replaced.
 */
export class WriteBatch {
  #slab: Buffer;
  /** Start of the bytes not taken yet, and end of the bytes written. */
  #start = 0;
  #end = 0;
  /** Parts ready to write, in order, before the slab's own part. */
  #ready: Buffer[] = [];

  constructor(private readonly slabBytes = SLAB_BYTES) {
    this.#slab = Buffer.allocUnsafe(slabBytes);
  }

  /**
   * Makes room for up to `length` bytes; returns where to write them in `buffer`. They join the
   * batch when `commit` is called with their end.
   */
  reserve(length: number): number {
    if (this.#end + length > this.#slab.length) {
      this.#keepSlabPart();
      this.#slab = Buffer.allocUnsafe(Math.max(this.slabBytes, length));
      this.#start = 0;
      this.#end = 0;
    }
    return this.#end;
  }

  /** The buffer `reserve` made room in. */
  get buffer(): Buffer {
    return this.#slab;
  }

  /** The bytes reserved up to `end` are written. */
  commit(end: number): void {
    this.#end = end;
  }

  /** Adds bytes: small ones are copied, large ones join as they are (after what came before). */
  append(bytes: Buffer): void {
    if (bytes.length > COPY_UP_TO) {
      this.#keepSlabPart();
      this.#ready.push(bytes);
      return;
    }
    const at = this.reserve(bytes.length);
    bytes.copy(this.#slab, at);
    this.#end = at + bytes.length;
  }

  get empty(): boolean {
    return this.#ready.length === 0 && this.#end === this.#start;
  }

  /** Everything added since the last take, in order. */
  take(): Buffer[] {
    this.#keepSlabPart();
    const parts = this.#ready;
    this.#ready = [];
    return parts;
  }

  #keepSlabPart(): void {
    if (this.#end === this.#start) return;
    this.#ready.push(this.#slab.subarray(this.#start, this.#end));
    this.#start = this.#end;
  }
}
