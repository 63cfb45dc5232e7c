/**
 * Keeps a link honest: when nothing has arrived on it for an interval, it sends OPTIONS and
 * expects SUPPORTED within the request timeout (spec v4 §4.1.3). A link that misses `misses` in a
 * row is reported dead (a half-open TCP connection looks healthy to the socket, never to this).
 */
export class Heartbeat {
  #lastInput = Date.now();
  #missed = 0;
  #waiting = false;
  readonly #timer: NodeJS.Timeout;

  constructor(
    intervalMs: number,
    private readonly misses: number,
    /** Sends one OPTIONS; `done(true)` when it was answered in time. */
    private readonly ping: (done: (answered: boolean) => void) => void,
    private readonly onDead: (missed: number) => void,
  ) {
    this.#timer = setInterval(() => this.#tick(intervalMs), intervalMs);
    this.#timer.unref();
  }

  /** Something arrived on the link: it is alive. */
  input(): void {
    this.#lastInput = Date.now();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #tick(intervalMs: number): void {
    if (this.#waiting || Date.now() - this.#lastInput < intervalMs) return;
    this.#waiting = true;
    this.ping((answered) => {
      this.#waiting = false;
      if (answered) {
        this.#missed = 0;
        return;
      }
      if (++this.#missed >= this.misses) {
        this.stop();
        this.onDead(this.#missed);
      }
    });
  }
}
