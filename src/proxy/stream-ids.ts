import type { RawFrame } from './codec/index.js';

/**
 * Stream ids of one cluster connection (spec v4 §2.3: 0..32767 for client requests). Every request
 * the proxy sends on a cluster connection, the client's and its own, takes an id from here, so
 * they can never collide; at most `size` are in flight. `first` offsets the range, so one
 * connection can hold several pools (the main lane and the secondary-read lane).
 */
export class StreamIdPool {
  /** Released ids, reused first; ids never handed out yet come from `#fresh`, so an idle pool costs little. */
  readonly #free: number[] = [];
  readonly #used: Uint8Array;
  #fresh = 0;
  #inUse = 0;

  constructor(
    readonly size: number,
    readonly first = 0,
  ) {
    if (!Number.isInteger(size) || size < 1 || first < 0 || first + size > 32768)
      throw new RangeError(`bad stream id pool size ${size} from ${first}`);
    this.#used = new Uint8Array(size);
  }

  get inUse(): number {
    return this.#inUse;
  }

  /** A free id, or undefined when all are in flight. */
  acquire(): number | undefined {
    let at = this.#free.pop();
    if (at === undefined) {
      if (this.#fresh === this.size) return undefined;
      at = this.#fresh++;
    }
    this.#used[at] = 1;
    this.#inUse++;
    return this.first + at;
  }

  /** Returns an id; releasing one that is not in use is ignored (a late or duplicate response). */
  release(id: number): boolean {
    const at = id - this.first;
    if (at < 0 || at >= this.size || this.#used[at] === 0) return false;
    this.#used[at] = 0;
    this.#inUse--;
    this.#free.push(at);
    return true;
  }
}

/** A cluster did not answer a request before its deadline. */
export class RequestTimeoutError extends Error {
  override readonly name = 'RequestTimeoutError';
}

/** Every stream id of the lane is in flight: the link is saturated (the client gets OVERLOADED). */
export class StreamIdsExhaustedError extends Error {
  override readonly name = 'StreamIdsExhaustedError';
}

export type Waiter = (result: RawFrame | Error) => void;

const WAITING = 1;
const ORPHANED = 2;

/**
 * The requests in flight on one lane of a cluster connection: a stream id each, its waiter and
 * its deadline. Every id comes back: on the answer, or at the deadline, when the waiter gets a
 * RequestTimeoutError. A timed-out id is held back for one more timeout period first, so a late
 * answer is recognised and dropped instead of being taken for the answer to a newer request that
 * reused its id; a late answer, or the end of that grace period, frees it.
 *
 * All requests of a lane share one timeout, so deadlines arrive in order: one FIFO and one timer
 * per lane, instead of a timer per request.
 */
export class InFlightRequests {
  readonly #pool: StreamIdPool;
  readonly #waiters: (Waiter | undefined)[];
  readonly #state: Uint8Array;
  /** Bumped on every acquire, so a deadline entry names one use of an id. */
  readonly #generation: number[];
  /** Deadline entries [id, generation, time] flattened; `#head` is the first live one. */
  #queue: number[] = [];
  #head = 0;
  #timer: NodeJS.Timeout | undefined;
  #orphans = 0;
  #closed = false;

  constructor(
    size: number,
    first: number,
    readonly timeoutMs: number,
    private readonly describe: () => string,
  ) {
    this.#pool = new StreamIdPool(size, first);
    // Grown as ids are first used: thousands of idle sessions should not each hold full tables.
    this.#waiters = [];
    this.#state = new Uint8Array(size);
    this.#generation = [];
  }

  get size(): number {
    return this.#pool.size;
  }

  /** Ids not free: waiting for an answer, or timed out and in their grace period. */
  get inUse(): number {
    return this.#pool.inUse;
  }

  /** Ids whose request timed out and whose answer has not come yet. */
  get orphans(): number {
    return this.#orphans;
  }

  /** Takes an id for a request; undefined (and `waiter` untouched) when the lane is full. */
  add(waiter: Waiter): number | undefined {
    if (this.#closed) return undefined;
    const id = this.#pool.acquire();
    if (id === undefined) return undefined;
    const at = id - this.#pool.first;
    this.#waiters[at] = waiter;
    this.#state[at] = WAITING;
    const generation = (this.#generation[at] ?? 0) + 1;
    this.#generation[at] = generation;
    this.#queue.push(id, generation, Date.now() + this.timeoutMs);
    if (this.#timer === undefined) this.#arm(this.timeoutMs);
    return id;
  }

  /** An answer arrived on `id`: its waiter, or undefined for a late or unknown answer (dropped). */
  settle(id: number): Waiter | undefined {
    const at = id - this.#pool.first;
    if (at < 0 || at >= this.#pool.size) return undefined;
    const state = this.#state[at];
    if (state === WAITING) {
      const waiter = this.#waiters[at];
      this.#free(at, id);
      return waiter;
    }
    if (state === ORPHANED) {
      this.#orphans--;
      this.#free(at, id);
    }
    return undefined;
  }

  /** True when `id` belongs to this lane's range. */
  owns(id: number): boolean {
    return id >= this.#pool.first && id < this.#pool.first + this.#pool.size;
  }

  /** The connection is gone: every waiter gets `error`, and the lane takes no more requests. */
  close(error: Error): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#queue = [];
    this.#head = 0;
    for (let at = 0; at < this.#waiters.length; at++) {
      const waiter = this.#waiters[at];
      if (this.#state[at] !== 0) this.#free(at, at + this.#pool.first);
      waiter?.(error);
    }
    this.#orphans = 0;
  }

  #free(at: number, id: number): void {
    this.#waiters[at] = undefined;
    this.#state[at] = 0;
    this.#pool.release(id);
  }

  #arm(delayMs: number): void {
    this.#timer = setTimeout(() => this.#expire(), Math.max(1, delayMs));
  }

  /** Times out the requests whose deadline has passed and frees ids whose grace period ended. */
  #expire(): void {
    this.#timer = undefined;
    const now = Date.now();
    const queue = this.#queue;
    let head = this.#head;
    const expired: Waiter[] = [];
    while (head < queue.length && queue[head + 2]! <= now) {
      const id = queue[head]!;
      const generation = queue[head + 1]!;
      head += 3;
      const at = id - this.#pool.first;
      if (this.#generation[at] !== generation) continue; // answered, id since reused
      if (this.#state[at] === WAITING) {
        expired.push(this.#waiters[at]!);
        this.#waiters[at] = undefined;
        this.#state[at] = ORPHANED;
        this.#orphans++;
        // The grace period: the same id and generation come due once more.
        queue.push(id, generation, now + this.timeoutMs);
      } else if (this.#state[at] === ORPHANED) {
        this.#orphans--;
        this.#free(at, id);
      }
    }
    if (head === queue.length) {
      this.#queue = [];
      head = 0;
    } else if (head > 3000 && head * 2 > queue.length) {
      this.#queue = queue.slice(head);
      head = 0;
    }
    this.#head = head;
    if (head < this.#queue.length) this.#arm(this.#queue[head + 2]! - now);
    const error = new RequestTimeoutError(`${this.describe()} did not answer within ${this.timeoutMs} ms`);
    for (const waiter of expired) waiter(error);
  }
}
