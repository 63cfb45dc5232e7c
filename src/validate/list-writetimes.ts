import type { CellValue } from './diff-entry.js';

/**
 * Migrate's documented list limitation (README, "What `zdm migrate` preserves"): list elements are
 * keyed by time UUIDs the server makes and CQL cannot write, so when Target holds list elements
 * Origin does not, migrate writes Origin's list whole (src/write/list-merge.ts), at its newest
 * element's writetime (or just above Target's newest element), with the longest TTL if every
 * element expires and none otherwise. Diff reports such a list as this kind,
 * not as a mismatch: equal elements, Origin's metadata mixed, Target's exactly what migrate writes.
 */

const isNull = (v: unknown): boolean => v === null || v === undefined;
const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : isNull(v) ? [] : [v]);
const asBig = (v: unknown): bigint | undefined => (isNull(v) ? undefined : BigInt(String(v)));
const asNumber = (v: unknown): number | undefined => (isNull(v) ? undefined : Number(v));

/**
 * Whether equal list values differ in per-element writetimes/TTLs only as migrate documents: a
 * leading run of Target's elements shares one writetime, at or above the newest of the same
 * Origin elements (which are mixed), with the TTL rule above; the elements after that run (appended
 * later, through the proxy, to both clusters) carry exactly Origin's writetimes and TTLs.
 */
export function isListWritetimeLimitation(
  origin: CellValue,
  target: CellValue,
  ttlToleranceS: number,
): boolean {
  const ow = asList(origin.writetime).map(asBig);
  const ot = asList(origin.ttl).map(asNumber);
  const tw = asList(target.writetime).map(asBig);
  const tt = asList(target.ttl).map(asNumber);
  if (ow.length < 2 || tw.length !== ow.length || tt.length !== tw.length || ot.length !== ow.length)
    return false;
  if (ow.some((w) => w === undefined) || tw[0] === undefined) return false;
  const written = tw[0];
  let run = 1;
  while (run < tw.length && tw[run] === written) run++;
  const prefixWt = ow.slice(0, run) as bigint[];
  const prefixTtl = ot.slice(0, run);
  const mixed = prefixWt.some((w, i) => w !== prefixWt[0] || prefixTtl[i] !== prefixTtl[0]);
  if (!mixed) return false;
  const newest = prefixWt.reduce((a, b) => (b > a ? b : a));
  const expires = prefixTtl.every((t) => t !== undefined);
  const longest = expires ? Math.max(...(prefixTtl as number[])) : undefined;
  // The whole-list write: at Origin's newest, or just above Target's newest element when Target
  // held newer ones (content wins over the exact writetime, see src/write/list-merge.ts).
  const wholeWrite = written >= newest && tt.slice(0, run).every((t) => sameTtl(t, longest, ttlToleranceS));
  const appendedAfter = tw
    .slice(run)
    .every((w, i) => w === ow[run + i] && sameTtl(tt[run + i], ot[run + i], ttlToleranceS));
  return wholeWrite && appendedAfter;
}

function sameTtl(a: number | undefined, b: number | undefined, tolerance: number): boolean {
  if (a === undefined || b === undefined) return a === b;
  return Math.abs(a - b) <= tolerance;
}
