/**
 * When a worker process dies outside a shutdown, the pool starts another, but not forever: a
 * worker that keeps dying (a bug on every request of some client, memory exhausted, a cluster it
 * can no longer reach at start) would otherwise crash and restart in a loop while the proxy looks
 * alive. Past the bound the proxy exits non-zero, so the operator's supervisor sees it.
 */
export interface RestartPolicy {
  /** Crashes tolerated within `windowMs`; one more and the proxy gives up. */
  readonly maxRestarts: number;
  readonly windowMs: number;
  /** Delay before the second restart within the window, doubled for each further one. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = Object.freeze({
  maxRestarts: 5,
  windowMs: 5 * 60_000,
  baseDelayMs: 1000,
  maxDelayMs: 10_000,
});

export type RestartDecision =
  | { readonly kind: 'restart'; readonly delayMs: number }
  | { readonly kind: 'give-up'; readonly crashes: number };

/**
 * What to do about a crash at `now`, given the times of the crashes before it (any order). The
 * first crash in a window restarts at once (a single fault should cost its clients nothing more);
 * repeated ones back off, so a worker that cannot start does not spin.
 */
export function restartDecision(
  earlierCrashes: readonly number[],
  now: number,
  policy: RestartPolicy = DEFAULT_RESTART_POLICY,
): RestartDecision {
  const recent = earlierCrashes.filter((at) => now - at < policy.windowMs).length;
  const crashes = recent + 1;
  if (crashes > policy.maxRestarts) return { kind: 'give-up', crashes };
  const delayMs = recent === 0 ? 0 : Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (recent - 1));
  return { kind: 'restart', delayMs };
}
