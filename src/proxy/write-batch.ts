/** Answers up to this size are copied into a slab; larger ones are written as they are. */
const COPY_UP_TO = 8 * 1024;
const SLAB_BYTES = 64 * 1024;

/**
 * Memory that answers are encoded into, shared by every client of the process. JavaScript runs one
 * piece of work at a time, so a reservation is filled and committed before any other is made, and
 * bytes are never written twice: a full slab is left to the sockets still writing from it, and
 * replaced. An idle client holds no slab of its own.
 */
export class Slab {
  buffer: Buffer;
  /** End of the bytes committed so far: the next reservation starts here. */
  end = 0;

  constructor(readonly bytes = SLAB_BYTES) {
    this.buffer = Buffer.allocUnsafe(bytes);
  }

  /** Room for `length` bytes at `end`: a new slab when this one has not enough left. */
  makeRoom(length: number): void {
    if (this.end + length <= this.buffer.length) return;
    this.buffer = Buffer.allocUnsafe(Math.max(this.bytes, length));
    this.end = 0;
  }
}

const processSlab = new Slab();

/**
 * The bytes one client is sent during one tick, so that they leave in one write. Answers are
 * encoded (compressed, framed) straight into the shared slab instead of a buffer each: with small
 * answers, a buffer and a stream write per answer cost more than the answer (bench/proxy-results.md).
 * Consecutive answers to one client are consecutive in the slab and leave as one buffer.
 */
export class WriteBatch {
  /** Parts ready to write, in order, before the part being written. */
  #ready: Buffer[] = [];
  /** The part being written: `#buffer` from `#start` to `#end`. */
  #buffer: Buffer | null = null;
  #start = 0;
  #end = 0;

  constructor(private readonly slab: Slab = processSlab) {}

  /**
   * Makes room for up to `length` bytes; returns where to write them in `buffer`. They join the
   * batch when `commit` is called with their end, before any other reservation.
   */
  reserve(length: number): number {
    const slab = this.slab;
    slab.makeRoom(length);
    // Another client wrote in between, or the slab was replaced: this part ends and a new one starts.
    if (this.#buffer !== slab.buffer || this.#end !== slab.end) {
      this.#keepPart();
      this.#buffer = slab.buffer;
      this.#start = slab.end;
      this.#end = slab.end;
    }
    return slab.end;
  }

  /** The buffer `reserve` made room in. */
  get buffer(): Buffer {
    return this.#buffer!;
  }

  /** The bytes reserved are written up to `end`. */
  commit(end: number): void {
    this.#end = end;
    this.slab.end = end;
  }

  /** Adds bytes: small ones are copied, large ones join as they are (after what came before). */
  append(bytes: Buffer): void {
    if (bytes.length > COPY_UP_TO) {
      this.#keepPart();
      this.#ready.push(bytes);
      return;
    }
    const at = this.reserve(bytes.length);
    bytes.copy(this.#buffer!, at);
    this.commit(at + bytes.length);
  }

  get empty(): boolean {
    return this.#ready.length === 0 && this.#end === this.#start;
  }

  /** Everything added since the last take, in order. */
  take(): Buffer[] {
    this.#keepPart();
    const parts = this.#ready;
    this.#ready = [];
    return parts;
  }

  #keepPart(): void {
    if (this.#end > this.#start) this.#ready.push(this.#buffer!.subarray(this.#start, this.#end));
    this.#start = this.#end;
  }
}
