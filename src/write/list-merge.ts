/**
 * How a non-frozen list is brought from Target's state to Origin's: exact per element, never
 * duplicated, and safe against appends sent to both clusters (through the proxy) meanwhile.
 *
 * List elements are keyed by time UUIDs the coordinator makes when the write runs, never from
 * USING TIMESTAMP (checked on Cassandra 5.0):
 * - an append (`l = l + [..]`) is keyed from the coordinator's clock, so it sorts after every
 *   element already there;
 * - a prepend (`l = [..] + l`) is keyed from a clock mirrored around 2010-01-01 that runs
 *   backwards, so it sorts before every appended element and before every earlier prepend,
 *   including the prepends of one batch, applied in order;
 * - `SET l = [..] USING TIMESTAMP t` deletes the list at `t - 1`, then adds the elements at `t`.
 * Neither append nor prepend deletes anything, and both take the statement's writetime and TTL.
 *
 * So when Target holds the tail of Origin's list (a rerun, a resume, or appends the proxy sent to
 * both clusters since it went in front, maybe followed by newer appends that reached Target first),
 * Origin's head is *prepended* group by group, each group with its own writetime and TTL: exact,
 * and an append arriving on Target meanwhile still follows. When Target holds its head (appends
 * that reached Origin only, or are still on their way to Target), the rest is appended once Target
 * had a moment to receive it. Anything else (elements Origin does not hold, in another order) is
 * first given to Origin to catch up with, then replaced by Origin's list written whole, above every
 * Target element: Origin's content, where writetimes must give way.
 */

/** Origin's list as read: its elements with each one's writetime and TTL (0: none). */
export interface OriginList {
  readonly elements: readonly unknown[];
  readonly writetimes: readonly bigint[];
  readonly ttls: readonly number[];
}

/** Target's list as read: elements and their writetimes. */
export interface TargetList {
  readonly elements: readonly unknown[];
  readonly writetimes: readonly (bigint | undefined)[];
}

export type ListStep =
  /** Target already holds Origin's elements in Origin's order: nothing to write. */
  | { readonly kind: 'equal' }
  /** Target holds Origin's list from `count` on (then maybe newer appends): prepend the first `count`. */
  | { readonly kind: 'prepend'; readonly count: number }
  /** Target holds Origin's first `from` elements, nothing else: the rest is appended, once Target had a moment to receive it. */
  | { readonly kind: 'append'; readonly from: number }
  /** Target holds Origin's list followed by newer elements: appends on their way to Origin, or strays. */
  | { readonly kind: 'ahead' }
  /** Target holds elements Origin's list does not explain: see `replacement`. */
  | { readonly kind: 'unexplained' };

/** Equality of two list elements as Cassandra decides it (the element type's value model). */
export type SameElement = (a: unknown, b: unknown) => boolean;

/** The next step for one list (see the module comment). */
export function nextListStep(origin: OriginList, target: TargetList, same: SameElement): ListStep {
  const o = origin.elements;
  const t = target.elements;
  if (o.length === t.length && o.every((e, i) => same(e, t[i]))) return { kind: 'equal' };
  const held = heldTail(o, t, same);
  // Elements only Target holds after Origin's tail may be appends that reached Target first: they
  // are newer than every element Origin holds. Older ones (an older copy of the list, a stray
  // write) are not, and the list as a whole is unexplained.
  const newest = newestOf(origin.writetimes);
  const extrasNewer = target.writetimes
    .slice(held)
    .every((w) => w !== undefined && newest !== undefined && w > newest);
  if (extrasNewer && held < o.length) return { kind: 'prepend', count: o.length - held };
  if (extrasNewer && held === o.length) return { kind: 'ahead' };
  if (t.length > 0 && t.length < o.length && t.every((e, i) => same(e, o[i])))
    return { kind: 'append', from: t.length };
  return { kind: 'unexplained' };
}

/**
 * The length of the longest tail of Origin's list that Target's list starts with. Quadratic at
 * worst, on lists whose repeated values keep almost matching: lists are read whole, so they are
 * short enough for that.
 */
function heldTail(o: readonly unknown[], t: readonly unknown[], same: SameElement): number {
  for (let k = Math.min(o.length, t.length); k > 0; k--) {
    const start = o.length - k;
    let i = 0;
    while (i < k && same(o[start + i], t[i])) i++;
    if (i === k) return k;
  }
  return 0;
}

/** One statement's worth of consecutive elements sharing a writetime and TTL. */
export interface ElementGroup {
  readonly elements: readonly unknown[];
  readonly timestamp: bigint;
  readonly ttl: number;
}

/** Origin's elements `from` to `to` cut into runs of one writetime and TTL, in list order. */
export function elementGroups(origin: OriginList, from: number, to: number): ElementGroup[] {
  const groups: { elements: unknown[]; timestamp: bigint; ttl: number }[] = [];
  for (let i = from; i < to; i++) {
    const timestamp = origin.writetimes[i]!;
    const ttl = origin.ttls[i] ?? 0;
    const last = groups.at(-1);
    if (last !== undefined && last.timestamp === timestamp && last.ttl === ttl)
      last.elements.push(origin.elements[i]);
    else groups.push({ elements: [origin.elements[i]], timestamp, ttl });
  }
  return groups;
}

/** The newest of some writetimes (undefined when none is known). */
export function newestOf(writetimes: readonly (bigint | undefined)[]): bigint | undefined {
  let newest: bigint | undefined;
  for (const w of writetimes) if (w !== undefined && (newest === undefined || w > newest)) newest = w;
  return newest;
}

/**
 * The writetime and TTL of Origin's list written whole over an unexplained Target list: its newest
 * element's writetime, or one above Target's newest element when that is later (the SET deletes at
 * `timestamp - 1`, which must reach every Target element); the longest TTL when every element
 * expires, none otherwise (a cell without TTL must not gain one).
 */
export function replacement(origin: OriginList, target: TargetList): { timestamp: bigint; ttl: number } {
  const originNewest = newestOf(origin.writetimes) ?? 0n;
  const targetNewest = newestOf(target.writetimes);
  const timestamp =
    targetNewest !== undefined && targetNewest >= originNewest ? targetNewest + 1n : originNewest;
  const { ttls } = origin;
  const ttl = ttls.length > 0 && ttls.every((t) => t > 0) ? Math.max(...ttls) : 0;
  return { timestamp, ttl };
}
