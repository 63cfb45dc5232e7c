const HASH_BITS = 12;
/** Entries are int32: start over before a base would pass this. */
const LARGEST_ENTRY = 0x7fffffff;
/** Both formats copy from at most 65,535 bytes back (LZ4's 2-byte offset; Snappy's 2-byte copies). */
const MAX_OFFSET = 0xffff;
/** After 2^SKIP_TRIGGER positions without a match, look at every other one, then every third... */
const SKIP_TRIGGER = 4;

/** The slot of a 4-byte sequence read as a little-endian int32 (Knuth's multiplicative hash). */
function slotOf(sequence: number): number {
  return Math.imul(sequence, 2654435761) >>> (32 - HASH_BITS);
}

/** Reads 4 bytes as a little-endian 32-bit integer (the unit both LZ4 and Snappy match on). */
function read32(data: Uint8Array, at: number): number {
  return data[at]! | (data[at + 1]! << 8) | (data[at + 2]! << 16) | (data[at + 3]! << 24);
}

/**
 * The match finder of the greedy LZ4 and Snappy compressors: where each 4-byte sequence of the
 * input being compressed was last seen, by hash. A slot holds `base + position + 1`, and each input
 * gets a base above every earlier entry, so the table is never cleared between inputs: an entry at
 * or below the current base belongs to an earlier input and reads as "not seen".
 */
export class SequenceTable {
  readonly #slots = new Int32Array(1 << HASH_BITS);
  #base = 0;
  #next = 0;
  /** After nextMatch found one: where the matching 4 bytes were seen before. */
  earlier = -1;

  /** `restartAbove`: the largest entry before the table starts over (a test makes it small). */
  constructor(private readonly restartAbove = LARGEST_ENTRY) {}

  /** Starts a new input, whose positions are below `end` (it may start above 0). */
  start(end: number): void {
    if (this.#next + end + 1 > this.restartAbove) {
      this.#slots.fill(0);
      this.#next = 0;
    }
    this.#base = this.#next;
    this.#next += end + 1;
  }

  /**
   * The first position from `from` up to `lastStart` whose 4 bytes the input already had within
   * reach, recording each position looked at; -1 when there is none. `earlier` then says where.
   * Runs once per input byte, so it reads the table and the input directly.
   */
  nextMatch(data: Uint8Array, from: number, lastStart: number): number {
    const slots = this.#slots;
    const base = this.#base;
    let misses = 1 << SKIP_TRIGGER;
    let at = from;
    while (at <= lastStart) {
      const sequence = read32(data, at);
      const slot = slotOf(sequence);
      const seen = slots[slot]! - base - 1;
      slots[slot] = base + at + 1;
      if (seen >= 0 && at - seen <= MAX_OFFSET && read32(data, seen) === sequence) {
        this.earlier = seen;
        return at;
      }
      at += misses++ >> SKIP_TRIGGER;
    }
    return -1;
  }
}
