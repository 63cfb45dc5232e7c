/**
 * A token bucket: `acquire(n)` resolves once n units fit under `perSecond`. Bursts up to one
 * second's worth. A limit of 0 or less means unlimited.
 */
export class RateLimiter {
  private available: number;
  private last: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private perSecond: number,
    private readonly now: () => number = () => performance.now(),
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    this.available = perSecond;
    this.last = now();
  }

  /** The current limit per second (0: unlimited). */
  get rate(): number {
    return this.perSecond;
  }

  get unlimited(): boolean {
    return this.perSecond <= 0;
  }

  /**
   * Changes the limit from now on (a worker's share of a run-wide limit, as workers come and go).
   * The bucket keeps what it holds, capped at the new second's worth.
   */
  setRate(perSecond: number): void {
    if (perSecond === this.perSecond) return;
    if (this.perSecond <= 0) this.last = this.now();
    this.perSecond = perSecond;
    this.available = Math.min(this.available, perSecond);
  }

  acquire(units: number): Promise<void> {
    if (this.unlimited || units <= 0) return Promise.resolve();
    // Callers queue in order, so one large request cannot starve behind a stream of small ones.
    const turn = this.queue.then(() => this.take(units));
    this.queue = turn;
    return turn;
  }

  private async take(units: number): Promise<void> {
    for (;;) {
      const now = this.now();
      this.available = Math.min(this.perSecond, this.available + ((now - this.last) / 1000) * this.perSecond);
      this.last = now;
      // A request larger than the bucket is let through once the bucket is full, going into debt.
      const need = Math.min(units, this.perSecond);
      if (this.available >= need) {
        this.available -= units;
        return;
      }
      await this.sleep(((need - this.available) / this.perSecond) * 1000);
    }
  }
}
