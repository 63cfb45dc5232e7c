const HASH_BITS = 12;
/** Entries are int32: start over before a base would pass this. */
const LARGEST_ENTRY = 0x7fffffff;

/** The slot of a 4-byte sequence read as a little-endian int32 (Knuth's multiplicative hash). */
export function slotOf(sequence: number): number {
  return Math.imul(sequence, 2654435761) >>> (32 - HASH_BITS);
}

/**
 * Where each 4-byte sequence of the input being compressed was last seen, by hash, as the greedy
 * matchers of LZ4 and Snappy use it. A slot holds `base + position + 1`, and each input gets a base
 * above every earlier entry, so the table is never cleared between inputs: an entry at or below
 * the current base belongs to an earlier input and reads as "not seen". The matchers read and
 * write `slots` directly, because this runs once per input byte.
 */
export class SequenceTable {
  readonly slots = new Int32Array(1 << HASH_BITS);
  #next = 0;

  /** `restartAbove`: the largest entry before the table starts over (a test makes it small). */
  constructor(private readonly restartAbove = LARGEST_ENTRY) {}

  /** Starts a new input of `length` bytes; returns its base. */
  start(length: number): number {
    if (this.#next + length + 1 > this.restartAbove) {
      this.slots.fill(0);
      this.#next = 0;
    }
    const base = this.#next;
    this.#next += length + 1;
    return base;
  }
}

/** Reads 4 bytes as a little-endian 32-bit integer (the unit both LZ4 and Snappy match on). */
export function read32(data: Uint8Array, at: number): number {
  return data[at]! | (data[at + 1]! << 8) | (data[at + 2]! << 16) | (data[at + 3]! << 24);
}
