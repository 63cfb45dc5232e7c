/**
 * Cassandra keeps a set's elements and a map's keys sorted by their type's comparator and unique,
 * and serializes them in that order, so two sets that a client built in different insertion orders
 * are the same value. These give that canonical order; values read from Cassandra usually come
 * sorted already, which costs one pass to confirm.
 */

type Compare = (a: unknown, b: unknown) => number;

function isCanonical<T>(items: readonly T[], compare: (a: T, b: T) => number): boolean {
  for (let i = 1; i < items.length; i++) if (compare(items[i - 1]!, items[i]!) >= 0) return false;
  return true;
}

function canonical<T>(items: readonly T[], compare: (a: T, b: T) => number): readonly T[] {
  if (isCanonical(items, compare)) return items;
  const sorted = [...items].sort(compare);
  return sorted.filter((x, i) => i === 0 || compare(sorted[i - 1]!, x) !== 0);
}

/** Set elements sorted and without duplicates. */
export const canonicalItems = (items: readonly unknown[], compare: Compare): readonly unknown[] =>
  canonical(items, compare);

/** Map entries sorted by key, one entry per key (the last one given wins, as in a CQL map literal). */
export function canonicalEntries(
  entries: readonly (readonly [unknown, unknown])[],
  compareKeys: Compare,
): readonly (readonly [unknown, unknown])[] {
  const byKey = (x: readonly [unknown, unknown], y: readonly [unknown, unknown]) => compareKeys(x[0], y[0]);
  if (isCanonical(entries, byKey)) return entries;
  const sorted = entries.map((e, i) => ({ e, i })).sort((x, y) => byKey(x.e, y.e) || y.i - x.i);
  return sorted.filter((x, i) => i === 0 || byKey(sorted[i - 1]!.e, x.e) !== 0).map((x) => x.e);
}
