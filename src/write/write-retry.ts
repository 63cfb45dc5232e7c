/**
 * Whether a failed Target write may be sent again: the request timed out or the cluster could not
 * take it right now. Writes carrying their own timestamps are idempotent, so sending one twice
 * leaves the same cells. Anything else (a bad statement, a rejected batch) fails at once.
 */
export function isRetryableWriteError(error: unknown): boolean {
  const e = error as { name?: string; code?: number } | null;
  if (e === null || typeof e !== 'object') return false;
  if (e.name === 'OperationTimedOutError' || e.name === 'NoHostAvailableError') return true;
  // Native protocol spec v4, section 9: Unavailable, Overloaded, Is_bootstrapping, Write_timeout.
  return e.name === 'ResponseError' && [0x1000, 0x1001, 0x1002, 0x1100].includes(e.code ?? -1);
}

export interface RetryOptions {
  readonly attempts: number;
  /** Delay before the second attempt; doubles on each further one. */
  readonly delayMs: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export const WRITE_RETRY: RetryOptions = { attempts: 3, delayMs: 500 };

/**
 * Runs `attempt` until it succeeds, a non-retryable error, or the attempts run out. Each attempt
 * builds its own request, so what depends on the time of sending (aged TTLs) is computed again.
 */
export async function withWriteRetries<T>(
  attempt: () => Promise<T>,
  options: RetryOptions = WRITE_RETRY,
): Promise<T> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      if (n >= options.attempts || !isRetryableWriteError(error)) throw error;
      await sleep(options.delayMs * 2 ** (n - 1));
    }
  }
}
