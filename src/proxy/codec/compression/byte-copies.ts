/**
 * Copies a match that starts `offset` bytes back. A match may overlap the bytes it produces
 * (offset < length repeats them), so that case goes byte by byte; a long separate one in one call.
 */
export function copyMatch(out: Uint8Array, at: number, offset: number, matchLength: number): number {
  let from = at - offset;
  if (offset >= matchLength && matchLength > 32) {
    out.copyWithin(at, from, from + matchLength);
    return at + matchLength;
  }
  let pos = at;
  for (let i = 0; i < matchLength; i++) out[pos++] = out[from++]!;
  return pos;
}

/** Copies `source[from..to)` to `out` at `at`; returns the end. Short runs by hand, which beats a subarray. */
export function copyBytes(source: Uint8Array, from: number, to: number, out: Uint8Array, at: number): number {
  if (to - from > 32) {
    out.set(source.subarray(from, to), at);
    return at + to - from;
  }
  let pos = at;
  for (let i = from; i < to; i++) out[pos++] = source[i]!;
  return pos;
}

/** `data` after `headroom` free bytes (a copy, unless there is no headroom to make). */
export function withHeadroom(data: Buffer, headroom: number): Buffer {
  if (headroom === 0) return data;
  const out = Buffer.allocUnsafe(headroom + data.length);
  data.copy(out, headroom);
  return out;
}
