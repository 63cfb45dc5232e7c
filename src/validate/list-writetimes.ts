import type { CellValue } from './diff-entry.js';

/**
 * Migrate's documented list limitation (README, "What `zdm migrate` preserves"): list elements are
 * keyed by time UUIDs the server makes and CQL cannot write, so a non-frozen list whose elements
 * do not share one writetime and TTL is written whole, at its newest element's writetime (or just
 * above Target's newest element, when Target held newer ones), with the longest TTL if every
 * element expires and none otherwise. Diff reports such a list as this kind,
 * not as a mismatch: equal elements, Origin's metadata mixed, Target's exactly what migrate writes.
 */

const isNull = (v: unknown): boolean => v === null || v === undefined;
const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : isNull(v) ? [] : [v]);
const asBig = (v: unknown): bigint | undefined => (isNull(v) ? undefined : BigInt(String(v)));
const asNumber = (v: unknown): number | undefined => (isNull(v) ? undefined : Number(v));

/** Whether equal list values differ in per-element writetimes/TTLs only as migrate documents. */
export function isListWritetimeLimitation(
  origin: CellValue,
  target: CellValue,
  ttlToleranceS: number,
): boolean {
  const ow = asList(origin.writetime).map(asBig);
  const ot = asList(origin.ttl).map(asNumber);
  const tw = asList(target.writetime).map(asBig);
  const tt = asList(target.ttl).map(asNumber);
  if (ow.length < 2 || tw.length !== ow.length || tt.length !== tw.length) return false;
  const mixed = ow.some((w, i) => w !== ow[0] || ot[i] !== ot[0]);
  if (!mixed || ow.some((w) => w === undefined)) return false;
  const newest = ow.reduce((a, b) => (b! > a! ? b : a));
  const expires = ot.every((t) => t !== undefined);
  const longest = expires ? Math.max(...(ot as number[])) : undefined;
  // One whole-list write: at Origin's newest writetime, or just above Target's newest element when
  // Target held newer ones (content wins over the exact writetime, see src/write/list-merge.ts).
  const written = tw[0];
  return (
    written !== undefined &&
    written >= newest! &&
    tw.every((w) => w === written) &&
    tt.every((t) => sameTtl(t, longest, ttlToleranceS))
  );
}

function sameTtl(a: number | undefined, b: number | undefined, tolerance: number): boolean {
  if (a === undefined || b === undefined) return a === b;
  return Math.abs(a - b) <= tolerance;
}
