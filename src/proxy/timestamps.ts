/**
 * Microsecond timestamps for writes, strictly increasing even when the clock stalls or steps back
 * (as the drivers' monotonic generators do), so two writes through one proxy never tie.
 */
export function monotonicMicros(now: () => number = Date.now): () => bigint {
  let last = 0n;
  return () => {
    const candidate = BigInt(now()) * 1000n;
    last = candidate > last ? candidate : last + 1n;
    return last;
  };
}
