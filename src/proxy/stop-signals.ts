/** Resolves with the first SIGINT or SIGTERM the process receives. */
export function firstStopSignal(): Promise<string> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}

/**
 * Once a drain has begun, the exit is certain: a second signal, or the drain still running
 * `boundMs` plus a margin later, calls `now`.
 */
export function stopNowOnSecondSignalOrLate(boundMs: number, now: () => void): void {
  process.once('SIGINT', now);
  process.once('SIGTERM', now);
  setTimeout(now, boundMs + 10_000).unref();
}
