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

/**
 * Copies the input from `dataStart` to the end of the room a compressor writes into (`out` from
 * `roomStart` to `roomEnd`); returns what to add to an input position to find its copy there. A compressor then
 * copies literals within `out` (copyLiterals), which costs no view, where copying from the input
 * would make one per run. The copy is made in one call, without a view when the bytes before
 * `dataStart` (a frame header) fit in the room's slack. Each compressor says why its block never
 * reaches the part of the copy it has still to read.
 */
export function stageInput(
  data: Uint8Array,
  dataStart: number,
  out: Uint8Array,
  roomStart: number,
  roomEnd: number,
): number {
  const stagedAt = roomEnd - (data.length - dataStart);
  if (stagedAt - dataStart >= roomStart) out.set(data, stagedAt - dataStart);
  else out.set(data.subarray(dataStart), stagedAt);
  return stagedAt - dataStart;
}

/**
 * Copies the literals `data[from..to)` to `out` at `at`: short runs by hand, longer ones from the
 * copy stageInput made, `staged` further on. copyWithin copies as if through a temporary, so the
 * run may overlap the place it goes to.
 */
export function copyLiterals(
  data: Uint8Array,
  from: number,
  to: number,
  out: Uint8Array,
  at: number,
  staged: number,
): number {
  if (to - from > 16) {
    out.copyWithin(at, from + staged, to + staged);
    return at + to - from;
  }
  let pos = at;
  for (let i = from; i < to; i++) out[pos++] = data[i]!;
  return pos;
}
