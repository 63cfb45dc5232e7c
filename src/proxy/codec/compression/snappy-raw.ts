import { CodecError } from '../codec-error.js';
import { copyBytes, copyLiterals, copyMatch, stageInput } from './byte-copies.js';
import { SequenceTable } from './sequence-table.js';

/**
 * Raw Snappy (google/snappy `format_description.txt`) in plain TypeScript, for small bodies, where
 * a call into the native library costs more than the work (see lz4-raw.ts).
 *
 * After the decompressed length (a varint, read by readSnappyPreamble), a block is a run of
 * elements whose tag's low 2 bits say what follows: 00 literals (length - 1 in the upper 6 bits, or
 * 60-63 for 1-4 length bytes), 01 a copy of 4-11 bytes within 2047 back, 10 a copy of 1-64 bytes
 * with a 2-byte offset, 11 the same with a 4-byte offset.
 */

const MIN_MATCH = 4;
/** As the reference compressor does, no match starts in the last 15 bytes (kInputMarginBytes). */
const INPUT_MARGIN = 15;
const LITERAL = 0b00;
const COPY_1 = 0b01;
const COPY_2 = 0b10;

/** The largest block `snappyCompressInto` can write for `length` input bytes (MaxCompressedLength). */
export function snappyCompressBound(length: number): number {
  return 32 + length + Math.floor(length / 6);
}

/** One table per codec serves every call: a call runs to its end before the next starts. */
const sharedSequences = new SequenceTable();

/**
 * Compresses `data` from `dataStart` to its end into `out` from `outOffset`, which must have
 * `snappyCompressBound(data.length - dataStart)` bytes free, length varint included; returns the
 * end of the block. Greedy matching, and literals copied from a staged copy, as in lz4-raw.ts.
 */
export function snappyCompressInto(
  data: Uint8Array,
  dataStart: number,
  out: Uint8Array,
  outOffset: number,
  recentSequences = sharedSequences,
): number {
  const end = data.length;
  // The block never reaches the part of the staged copy still to be read: the copies for a match
  // are at least 1 byte shorter than it, and a run of literals adds a tag byte and, past 60
  // literals, 1 to 4 length bytes; so after p input bytes the block has at most 5 (the varint) +
  // p + p/61 + 5 bytes, and the copy of input byte p sits at p + 32 + length/6 (the bound's slack).
  const staged = stageInput(
    data,
    dataStart,
    out,
    outOffset,
    outOffset + snappyCompressBound(end - dataStart),
  );
  let pos = writeVarint(out, outOffset, end - dataStart);
  recentSequences.start(end);
  const lastMatchStart = end - INPUT_MARGIN;
  let anchor = dataStart;
  for (;;) {
    const at = recentSequences.nextMatch(data, anchor, lastMatchStart);
    if (at < 0) break;
    const seen = recentSequences.earlier;
    let matchLength = MIN_MATCH;
    while (at + matchLength < end && data[at + matchLength] === data[seen + matchLength]) matchLength++;
    pos = copyLiterals(data, anchor, at, out, writeLiteralTag(out, pos, at - anchor), staged);
    pos = writeCopy(out, pos, at - seen, matchLength);
    anchor = at + matchLength;
  }
  return copyLiterals(data, anchor, end, out, writeLiteralTag(out, pos, end - anchor), staged);
}

function writeVarint(out: Uint8Array, at: number, value: number): number {
  let pos = at;
  let rest = value;
  while (rest >= 0x80) {
    out[pos++] = (rest & 0x7f) | 0x80;
    rest = Math.floor(rest / 0x80);
  }
  out[pos++] = rest;
  return pos;
}

/** Writes the tag (and length bytes) of a run of `count` literals, none for an empty run. */
function writeLiteralTag(out: Uint8Array, at: number, count: number): number {
  if (count === 0) return at;
  let pos = at;
  const stored = count - 1;
  if (stored < 60) {
    out[pos++] = (stored << 2) | LITERAL;
  } else {
    const lengthBytes = stored < 0x100 ? 1 : stored < 0x10000 ? 2 : stored < 0x1000000 ? 3 : 4;
    out[pos++] = ((59 + lengthBytes) << 2) | LITERAL;
    for (let i = 0; i < lengthBytes; i++) out[pos++] = (stored >>> (8 * i)) & 0xff;
  }
  return pos;
}

/** A copy of any length, as copies of at most 64 bytes, none shorter than 4 (the reference's EmitCopy). */
function writeCopy(out: Uint8Array, at: number, offset: number, matchLength: number): number {
  let pos = at;
  let rest = matchLength;
  while (rest >= 68) {
    pos = writeCopy2(out, pos, offset, 64);
    rest -= 64;
  }
  if (rest > 64) {
    pos = writeCopy2(out, pos, offset, 60);
    rest -= 60;
  }
  if (rest < 12 && offset < 2048) {
    out[pos++] = ((offset >>> 8) << 5) | ((rest - 4) << 2) | COPY_1;
    out[pos++] = offset & 0xff;
    return pos;
  }
  return writeCopy2(out, pos, offset, rest);
}

function writeCopy2(out: Uint8Array, at: number, offset: number, length: number): number {
  out[at] = ((length - 1) << 2) | COPY_2;
  out[at + 1] = offset & 0xff;
  out[at + 2] = offset >>> 8;
  return at + 3;
}

function corrupt(reason: string, offset: number): CodecError {
  return new CodecError(`corrupt snappy data: ${reason}`, { field: 'snappy data', offset });
}

/** Reads `count` little-endian bytes at `at`, which the caller has checked are in the block. */
function readLittleEndian(block: Uint8Array, at: number, count: number): number {
  let value = 0;
  for (let i = count - 1; i >= 0; i--) value = value * 0x100 + block[at + i]!;
  return value;
}

/**
 * Decompresses the elements of `block` from `elementsStart` (just after its length varint) into
 * `out` at `outOffset`, producing exactly `length` bytes, which the caller has read from the varint,
 * checked against its limit and made room for. Bounds-checked like lz4DecompressInto.
 */
export function snappyDecompressInto(
  block: Uint8Array,
  elementsStart: number,
  out: Uint8Array,
  outOffset: number,
  length: number,
): void {
  const end = outOffset + length;
  let pos = outOffset;
  let at = elementsStart;
  while (at < block.length) {
    const tag = block[at++]!;
    const kind = tag & 0b11;
    if (kind === LITERAL) {
      let count = (tag >>> 2) + 1;
      if (count > 60) {
        const lengthBytes = count - 60;
        if (at + lengthBytes > block.length) throw corrupt('the block ends inside a literal length', at);
        count = readLittleEndian(block, at, lengthBytes) + 1;
        at += lengthBytes;
      }
      if (at + count > block.length) throw corrupt('literals run past the end of the block', at);
      if (pos + count > end) throw corrupt(`the block holds more than the announced ${length} bytes`, at);
      pos = copyBytes(block, at, at + count, out, pos);
      at += count;
      continue;
    }
    let copyLength: number;
    let offset: number;
    // 0b11: a copy with a 4-byte offset.
    const offsetBytes = kind === COPY_1 ? 1 : kind === COPY_2 ? 2 : 4;
    if (at + offsetBytes > block.length) throw corrupt('the block ends inside a copy offset', at);
    if (kind === COPY_1) {
      copyLength = ((tag >>> 2) & 0b111) + 4;
      offset = ((tag >>> 5) << 8) | block[at]!;
    } else {
      copyLength = (tag >>> 2) + 1;
      offset = readLittleEndian(block, at, offsetBytes);
    }
    at += offsetBytes;
    if (offset === 0 || offset > pos - outOffset)
      throw corrupt(`copy offset ${offset} points before the output`, at);
    if (pos + copyLength > end) throw corrupt(`the block holds more than the announced ${length} bytes`, at);
    pos = copyMatch(out, pos, offset, copyLength);
  }
  if (pos !== end) throw corrupt(`the block holds ${pos - outOffset} bytes, not the announced ${length}`, at);
}
