import type { Counts } from '../checkpoint/checkpoint-store.js';

/**
 * Differences a diff found and did not correct, from its checkpoint counters: what decides its exit
 * code (1 when above 0) and what `zdm status` shows for it.
 */
export function differencesRemaining(counts: Counts): number {
  const n = (key: string) => counts[key] ?? 0;
  return n('missing') + n('extra') + n('mismatched') - n('corrected');
}
