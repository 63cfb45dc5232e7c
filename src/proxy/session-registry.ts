/** What the registry needs of a session. */
export interface Drainable {
  /** Stops reading the client, resolves once its requests in flight are answered (then closes). */
  drain(): Promise<void>;
  close(): void;
}

/**
 * The proxy's open client sessions, for a graceful stop: once draining, new sessions are refused
 * and every open one finishes what it has in flight, within a bound.
 */
export class SessionRegistry {
  readonly #sessions = new Set<Drainable>();
  #draining = false;

  get draining(): boolean {
    return this.#draining;
  }

  get size(): number {
    return this.#sessions.size;
  }

  add(session: Drainable): void {
    this.#sessions.add(session);
  }

  delete(session: Drainable): void {
    this.#sessions.delete(session);
  }

  /**
   * Drains every session; those not done within `timeoutMs` are closed. Resolves with how many
   * had to be closed that way.
   */
  async drain(timeoutMs: number): Promise<number> {
    this.#draining = true;
    const pending = new Set(this.#sessions);
    let timer: NodeJS.Timeout | undefined;
    const all = Promise.all([...pending].map((s) => s.drain().finally(() => pending.delete(s)))).then(
      () => undefined,
    );
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([all, late]);
    clearTimeout(timer);
    const unfinished = pending.size;
    for (const session of pending) session.close();
    return unfinished;
  }
}
