import { CodecError } from '../codec-error.js';
import { copyBytes, copyLiterals, copyMatch, stageInput } from './byte-copies.js';
import { SequenceTable } from './sequence-table.js';

/**
 * The LZ4 block format (lz4 `doc/lz4_Block_format.md`) in plain TypeScript, for the small bodies
 * most CQL messages have. A call into the native library costs more than compressing or
 * decompressing a hundred bytes here (bench/compression-small-bodies.ts), so small bodies stay in
 * JavaScript and large ones go to the library.
 *
 * A block is a run of sequences: a token (high nibble: literal count, low nibble: match length
 * minus 4, 15 meaning "more length bytes follow"), the literals, then a 2-byte little-endian offset
 * back into the output and the match length's extra bytes. The last sequence has literals only.
 */

const MIN_MATCH = 4;
/** The format's end rules: the last 5 bytes are literals, and no match starts in the last 12. */
const LAST_LITERALS = 5;
const MATCH_SEARCH_LIMIT = 12;

/** The largest block `lz4CompressInto` can write for `length` input bytes (LZ4_COMPRESSBOUND). */
export function lz4CompressBound(length: number): number {
  return length + Math.floor(length / 255) + 16;
}

/** One table per codec serves every call: a call runs to its end before the next starts. */
const sharedSequences = new SequenceTable();

/** Writes a length's continuation bytes (255 each, then the rest) after a nibble of 15. */
function writeLengthTail(out: Uint8Array, at: number, rest: number): number {
  let pos = at;
  while (rest >= 255) {
    out[pos++] = 255;
    rest -= 255;
  }
  out[pos++] = rest;
  return pos;
}

/**
 * Compresses `data` from `dataStart` to its end into `out` from `outOffset`, which must have
 * `lz4CompressBound(data.length - dataStart)` bytes free; returns the end of the block. Greedy
 * matching over a hash of 4-byte sequences, like the reference's fast mode (about the library's
 * ratio on CQL bodies), at a fraction of its call cost.
 *
 * No views: making one costs about as much as compressing a short body. So the input is read from
 * `dataStart` on, and literals are copied from a copy of the input staged at the end of the room
 * `out` has (byte-copies.ts). The room past the returned end is left with bytes of that copy.
 */
export function lz4CompressInto(
  data: Uint8Array,
  dataStart: number,
  out: Uint8Array,
  outOffset: number,
  recentSequences = sharedSequences,
): number {
  const end = data.length;
  // The block never reaches the part of the staged copy still to be read: a sequence with a match
  // writes at most the input it covers plus 1 byte per 255 literals, a run of literals adds a
  // token and 1 byte per 255, so after p input bytes the block has at most p + p/255 + 2 bytes,
  // and the copy of input byte p sits at p + 16 + length/255 (the bound's slack).
  const staged = stageInput(data, dataStart, out, outOffset, outOffset + lz4CompressBound(end - dataStart));
  recentSequences.start(end);
  let pos = outOffset;
  let anchor = dataStart;
  const lastMatchStart = end - MATCH_SEARCH_LIMIT;
  const matchEndLimit = end - LAST_LITERALS;
  for (;;) {
    const at = recentSequences.nextMatch(data, anchor, lastMatchStart);
    if (at < 0) break;
    const seen = recentSequences.earlier;
    let matchLength = MIN_MATCH;
    while (at + matchLength < matchEndLimit && data[at + matchLength] === data[seen + matchLength])
      matchLength++;
    const literals = at - anchor;
    const extraMatch = matchLength - MIN_MATCH;
    out[pos++] = (Math.min(literals, 15) << 4) | Math.min(extraMatch, 15);
    if (literals >= 15) pos = writeLengthTail(out, pos, literals - 15);
    pos = copyLiterals(data, anchor, at, out, pos, staged);
    const offset = at - seen;
    out[pos++] = offset & 0xff;
    out[pos++] = offset >>> 8;
    if (extraMatch >= 15) pos = writeLengthTail(out, pos, extraMatch - 15);
    anchor = at + matchLength;
  }
  const literals = end - anchor;
  out[pos++] = Math.min(literals, 15) << 4;
  if (literals >= 15) pos = writeLengthTail(out, pos, literals - 15);
  return copyLiterals(data, anchor, end, out, pos, staged);
}

function corrupt(reason: string, offset: number): CodecError {
  return new CodecError(`corrupt lz4 data: ${reason}`, { field: 'lz4 data', offset });
}

/** Reads a length's continuation bytes; returns [added length, next input position]. */
function readLengthTail(block: Uint8Array, at: number): [number, number] {
  let added = 0;
  let pos = at;
  for (;;) {
    if (pos >= block.length) throw corrupt('the block ends inside a length', pos);
    const byte = block[pos++]!;
    added += byte;
    if (byte !== 255) return [added, pos];
  }
}

/**
 * Decompresses `block` from `blockStart` to its end into `out` at `outOffset`, producing exactly `length` bytes, which the caller
 * has checked against its limit and made room for. Every read and write is bounds-checked against
 * the block and the announced length, so hostile input ends in a CodecError, never in bytes outside
 * the output or a result of another size.
 */
export function lz4DecompressInto(
  block: Uint8Array,
  blockStart: number,
  out: Uint8Array,
  outOffset: number,
  length: number,
): void {
  const end = outOffset + length;
  let pos = outOffset;
  let at = blockStart;
  if (block.length <= blockStart) throw corrupt('the block is empty', blockStart);
  while (at < block.length) {
    const token = block[at++]!;
    let literals = token >>> 4;
    if (literals === 15) {
      const [added, next] = readLengthTail(block, at);
      literals += added;
      at = next;
    }
    if (at + literals > block.length) throw corrupt('literals run past the end of the block', at);
    if (pos + literals > end) throw corrupt(`the block holds more than the announced ${length} bytes`, at);
    pos = copyBytes(block, at, at + literals, out, pos);
    at += literals;
    // The last sequence ends after its literals.
    if (at === block.length) break;
    if (at + 2 > block.length) throw corrupt('the block ends inside a match offset', at);
    const offset = block[at]! | (block[at + 1]! << 8);
    at += 2;
    if (offset === 0 || offset > pos - outOffset)
      throw corrupt(`match offset ${offset} points before the output`, at - 2);
    let matchLength = (token & 0x0f) + MIN_MATCH;
    if ((token & 0x0f) === 15) {
      const [added, next] = readLengthTail(block, at);
      matchLength += added;
      at = next;
    }
    if (pos + matchLength > end) throw corrupt(`the block holds more than the announced ${length} bytes`, at);
    pos = copyMatch(out, pos, offset, matchLength);
  }
  if (pos !== end) throw corrupt(`the block holds ${pos - outOffset} bytes, not the announced ${length}`, at);
}
