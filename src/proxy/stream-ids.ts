/**
 * Stream ids of one cluster connection (spec v4 §2.3: 0..32767 for client requests). Every request
 * the proxy sends on a cluster connection, the client's and its own, takes an id from here, so
 * they can never collide; at most `size` are in flight.
 */
export class StreamIdPool {
  readonly #free: number[];
  readonly #used: Uint8Array;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1 || size > 32768)
      throw new RangeError(`bad stream id pool size ${size}`);
    // Lowest ids first: a stack popped from the end.
    this.#free = Array.from({ length: size }, (_, i) => size - 1 - i);
    this.#used = new Uint8Array(size);
  }

  get inUse(): number {
    return this.size - this.#free.length;
  }

  /** A free id, or undefined when all are in flight. */
  acquire(): number | undefined {
    const id = this.#free.pop();
    if (id !== undefined) this.#used[id] = 1;
    return id;
  }

  /** Returns an id; releasing one that is not in use is ignored (a late or duplicate response). */
  release(id: number): boolean {
    if (id < 0 || id >= this.size || this.#used[id] === 0) return false;
    this.#used[id] = 0;
    this.#free.push(id);
    return true;
  }
}
