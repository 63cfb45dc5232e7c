/**
 * How a non-frozen list is brought from Target's state to Origin's, without ever duplicating it.
 *
 * List elements are keyed by time UUIDs the coordinator makes from its own clock when the write
 * runs (not from USING TIMESTAMP), and `SET l = [...] USING TIMESTAMP t` deletes the list at `t - 1`
 * before adding the new elements at `t` (checked on Cassandra 5.0):
 * - an element at a writetime >= t survives such a write, and the new elements follow it, so
 *   writing a list Target already holds at the same writetime doubles it;
 * - an append at a writetime below the list's last SET is shadowed;
 * - elements are ordered by the time their write ran, whatever their writetimes.
 * Hence: a list Target already holds is left alone; a different one is written whole at a writetime
 * above every element Target holds, so nothing of Target's survives and the content is Origin's,
 * in Origin's order. Where that needs a writetime later than Origin's (Target holds newer elements),
 * content wins over the exact writetime.
 */

/** Origin's list as it is to be written: elements, writetime, TTL (see `wholeListMeta`). */
export interface OriginList {
  readonly elements: readonly unknown[];
  readonly timestamp: bigint;
  readonly ttl: number;
}

/** Target's list as read: elements and the newest writetime among them. */
export interface TargetList {
  readonly elements: readonly unknown[];
  readonly newest: bigint | undefined;
}

export type ListStep =
  /** Target already holds Origin's list: nothing to write. */
  | { readonly kind: 'equal' }
  /** Target holds writes newer than Origin's list as read: read Origin again before deciding. */
  | { readonly kind: 'reread-origin' }
  /** Write Origin's list whole at this writetime. */
  | { readonly kind: 'write'; readonly timestamp: bigint };

/** Equality of two whole lists as Cassandra decides it (the column's value model: equal bytes). */
export type SameList = (a: readonly unknown[], b: readonly unknown[]) => boolean;

/** The newest of some writetimes (undefined when none is known). */
export function newestOf(writetimes: readonly (bigint | undefined)[]): bigint | undefined {
  let newest: bigint | undefined;
  for (const w of writetimes) if (w !== undefined && (newest === undefined || w > newest)) newest = w;
  return newest;
}

/**
 * The writetime and TTL of a list written whole: its newest element's writetime, and the longest
 * TTL when every element expires (none otherwise: a cell without TTL must not gain one). For a list
 * whose elements share one writetime and TTL, that is exactly Origin's.
 */
export function wholeListMeta(
  writetimes: readonly (bigint | undefined)[],
  ttls: readonly number[],
): { timestamp: bigint | undefined; ttl: number } {
  const ttl = ttls.length > 0 && ttls.every((t) => t > 0) ? Math.max(...ttls) : 0;
  return { timestamp: newestOf(writetimes), ttl };
}

/**
 * The next step for one list. `originFresh`: Origin's list was read after Target's, so a Target
 * element newer than Origin's is a write Origin never got, not one an older Origin read missed.
 */
export function nextListStep(
  origin: OriginList,
  target: TargetList,
  originFresh: boolean,
  sameList: SameList,
): ListStep {
  if (sameList(origin.elements, target.elements)) return { kind: 'equal' };
  const { newest } = target;
  if (newest === undefined || newest < origin.timestamp)
    return { kind: 'write', timestamp: origin.timestamp };
  if (newest > origin.timestamp && !originFresh) return { kind: 'reread-origin' };
  // The SET deletes at `timestamp - 1`: every element Target holds must be at or below that.
  return { kind: 'write', timestamp: newest + 1n };
}
