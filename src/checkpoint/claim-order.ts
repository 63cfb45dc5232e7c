import { seededRandom, shuffled } from '../ranges/token-ring.js';

/**
 * The order ranges are claimed in: shuffled with a seed fixed by the run, so consecutive claims go to
 * different parts of the ring (different replicas) and a resumed run keeps its order.
 */
export function claimOrder(rangeCount: number, startedAt: number): Map<number, number> {
  const ids = Array.from({ length: rangeCount }, (_, i) => i + 1);
  const order = shuffled(ids, seededRandom(Number(startedAt % 2 ** 31)));
  return new Map(order.map((id, position) => [id, position]));
}
