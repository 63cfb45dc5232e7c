const HASH_BITS = 12;

/** Reads 4 bytes as a little-endian 32-bit integer (the unit both LZ4 and Snappy match on). */
export function read32(data: Uint8Array, at: number): number {
  return data[at]! | (data[at + 1]! << 8) | (data[at + 2]! << 16) | (data[at + 3]! << 24);
}

/**
 * Where each 4-byte sequence of the input being compressed was last seen, by hash, as the
 * greedy matchers of LZ4 and Snappy use it. Entries hold `base + position + 1`, and each input
 * gets a base above every earlier entry, so the table is never cleared between inputs: an entry
 * below the current base belongs to an earlier input and reads as "not seen".
 */
export class SequenceTable {
  readonly #slots = new Float64Array(1 << HASH_BITS);
  #base = 0;
  #next = 0;

  /** `restartAbove`: where entries start over; Float64 holds integers exactly up to 2^53. */
  constructor(private readonly restartAbove = 2 ** 50) {}

  /** Starts a new input of `length` bytes. */
  start(length: number): void {
    if (this.#next + length + 1 > this.restartAbove) {
      this.#slots.fill(0);
      this.#next = 0;
    }
    this.#base = this.#next;
    this.#next += length + 1;
  }

  /** Records `sequence` at `at`; returns where this input last had a sequence of the same hash, or -1. */
  swap(sequence: number, at: number): number {
    const slot = Math.imul(sequence, 2654435761) >>> (32 - HASH_BITS);
    const seen = this.#slots[slot]! - this.#base - 1;
    this.#slots[slot] = this.#base + at + 1;
    return seen < 0 ? -1 : seen;
  }
}
