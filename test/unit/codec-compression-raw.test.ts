import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  lz4CompressBound,
  lz4CompressInto,
  lz4DecompressInto,
} from '../../src/proxy/codec/compression/lz4-raw.js';
import { SequenceTable } from '../../src/proxy/codec/compression/sequence-table.js';
import { readSnappyPreamble } from '../../src/proxy/codec/compression/snappy-body-compression.js';
import {
  snappyCompressBound,
  snappyCompressInto,
  snappyDecompressInto,
} from '../../src/proxy/codec/compression/snappy-raw.js';
import { CodecError, type Lz4Library, type SnappyLibrary } from '../../src/proxy/codec/index.js';
import { randomOrDamaged } from '../helpers/damaged-bytes.js';

// The TypeScript LZ4 and Snappy codecs the proxy uses for small bodies, checked against the native
// libraries it uses for large ones (and which the drivers' own C, Java and Go codecs agree with).

const hex = (...fields: string[]): Buffer => Buffer.from(fields.join(''), 'hex');
const require = createRequire(import.meta.url);
const lz4Library = require('lz4-napi') as Lz4Library;
const snappyLibrary = require('snappy') as SnappyLibrary;

const HELLO = Buffer.from('hello hello hello hello hello'); // 29 bytes

function lz4Compress(data: Buffer, table?: SequenceTable): Buffer {
  const out = Buffer.alloc(lz4CompressBound(data.length));
  return out.subarray(0, lz4CompressInto(data, 0, out, 0, table));
}

function lz4Decompress(block: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  lz4DecompressInto(block, 0, out, 0, length);
  return out;
}

function snappyCompress(data: Buffer, table?: SequenceTable): Buffer {
  const out = Buffer.alloc(snappyCompressBound(data.length));
  return out.subarray(0, snappyCompressInto(data, 0, out, 0, table));
}

function snappyDecompress(block: Buffer): Buffer {
  const { length, elementsStart } = readSnappyPreamble(block);
  const out = Buffer.alloc(length);
  snappyDecompressInto(block, elementsStart, out, 0, length);
  return out;
}

/** The library's LZ4 input: the block after a little-endian size prefix. */
function withLibraryPrefix(block: Buffer, length: number): Buffer {
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32LE(length, 0);
  return Buffer.concat([prefix, block]);
}

/**
 * Bytes shaped like CQL bodies and long enough to reach every length encoding: runs of a small
 * alphabet (short matches), repeats of earlier chunks (long matches, far offsets), random stretches.
 */
const compressible = fc
  .array(
    fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
      fc
        .tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 2000 }))
        .map(([alphabet, length]) => Buffer.from(Array.from({ length }, (_, i) => (i * 7) % alphabet))),
      fc
        .tuple(fc.string({ maxLength: 40 }), fc.integer({ min: 1, max: 400 }))
        .map(([text, times]) => Buffer.from(text.repeat(times))),
    ),
    { maxLength: 8 },
  )
  .map((parts) => Buffer.concat(parts));

/**
 * Random, damaged and cut blocks, decoded from a start of 0-3 into a buffer with guard bytes on
 * both sides: each ends in a CodecError or the announced bytes, and the guards stay untouched.
 */
function checkHostileInput(
  valid: Buffer,
  decompressInto: (block: Buffer, start: number, out: Buffer, outOffset: number, length: number) => void,
): void {
  fc.assert(
    fc.property(
      randomOrDamaged(valid),
      fc.integer({ min: 0, max: 1000 }),
      fc.integer({ min: 0, max: 3 }),
      (block, length, start) => {
        const out = Buffer.alloc(8 + length + 8, 0xee);
        try {
          decompressInto(block, Math.min(start, block.length), out, 8, length);
        } catch (error) {
          assert.ok(error instanceof CodecError, String(error));
        }
        assert.deepEqual(out.subarray(0, 8), Buffer.alloc(8, 0xee));
        assert.deepEqual(out.subarray(8 + length), Buffer.alloc(8, 0xee));
      },
    ),
    { numRuns: 2000 },
  );
}

/** The sequences of an LZ4 block: where each match starts and ends in the output. */
function lz4Matches(block: Buffer): { start: number; end: number }[] {
  const matches: { start: number; end: number }[] = [];
  let at = 0;
  let pos = 0;
  const readTail = (): number => {
    let added = 0;
    for (;;) {
      const byte = block[at++]!;
      added += byte;
      if (byte !== 255) return added;
    }
  };
  while (at < block.length) {
    const token = block[at++]!;
    let literals = token >>> 4;
    if (literals === 15) literals += readTail();
    at += literals;
    pos += literals;
    if (at === block.length) break;
    at += 2;
    let length = (token & 0x0f) + 4;
    if ((token & 0x0f) === 15) length += readTail();
    matches.push({ start: pos, end: pos + length });
    pos += length;
  }
  return matches;
}

describe('LZ4 blocks in TypeScript', () => {
  test('byte vector: literals, an overlapping match, the last literals', () => {
    const block = lz4Compress(HELLO);
    assert.deepEqual(
      block,
      hex(
        '6e', // token: 6 literals, match length 14 + 4 (15 would mean more bytes)
        '68656c6c6f20', // "hello "
        '0600', // offset 6, little-endian: the match repeats the 6 bytes it is producing
        '50', // token: 5 literals, no match (the last sequence)
        '68656c6c6f', // "hello"
      ),
    );
    // The same block the Python driver's liblz4 sends for this text (codec-compression.test.ts).
    assert.deepEqual(lz4Decompress(block, 29), HELLO);
  });

  test('an empty input is one zero token, as the library writes it', () => {
    assert.deepEqual(lz4Compress(Buffer.alloc(0)), hex('00'));
    assert.deepEqual(lz4Decompress(hex('00'), 0), Buffer.alloc(0));
  });

  test('lengths of 15 and more take continuation bytes', () => {
    // 15 + 255 + 10 = 280 literals, then a match of 4 + 15 + 255 + 1 = 275 bytes at offset 280, then 5 literals.
    const literals = Buffer.from(Array.from({ length: 280 }, (_, i) => (i * 151) % 256));
    const block = hex(
      'ff',
      'ff0a',
      literals.toString('hex'),
      '1801', // offset 280
      'ff01',
      '50',
      '0102030405',
    );
    const out = lz4Decompress(block, 280 + 275 + 5);
    assert.deepEqual(out.subarray(0, 280), literals);
    assert.deepEqual(out.subarray(280, 555), literals.subarray(0, 275));
    assert.deepEqual(out.subarray(555), hex('0102030405'));
  });

  test('what we compress, the library decompresses; what it compresses, we decompress', () => {
    fc.assert(
      fc.property(compressible, (data) => {
        const ours = lz4Compress(data);
        assert.ok(ours.length <= lz4CompressBound(data.length));
        assert.deepEqual(lz4Library.uncompressSync(withLibraryPrefix(ours, data.length)), data);
        const theirs = lz4Library.compressSync(data).subarray(4);
        assert.deepEqual(lz4Decompress(theirs, data.length), data);
      }),
      { numRuns: 300 },
    );
  });

  test('a match reaches back up to 65535 bytes, never further', () => {
    const chunk = Buffer.from('a chunk that will repeat far away, 40 b');
    const noise = Buffer.from(
      Array.from({ length: 65535 - chunk.length }, (_, i) => (i * 2654435761) >>> 24),
    );
    for (const gap of [noise, Buffer.concat([noise, hex('00')])]) {
      const data = Buffer.concat([chunk, gap, chunk, Buffer.alloc(16, 1)]);
      const block = lz4Compress(data);
      assert.deepEqual(lz4Library.uncompressSync(withLibraryPrefix(block, data.length)), data);
      assert.deepEqual(lz4Decompress(block, data.length), data);
    }
  });

  test('the end rules of the format hold: no match in the last 12 bytes, the last 5 are literals', () => {
    // The reference's safe decoder (liblz4, used by the Python and Java drivers) refuses blocks that break them.
    fc.assert(
      fc.property(compressible, (data) => {
        for (const { start, end } of lz4Matches(lz4Compress(data))) {
          assert.ok(start <= data.length - 12, `a match starts at ${start} of ${data.length}`);
          assert.ok(end <= data.length - 5, `a match ends at ${end} of ${data.length}`);
        }
      }),
      { numRuns: 300 },
    );
  });

  test('the output is placed at the offset asked, and nothing around it is touched', () => {
    const block = lz4Compress(HELLO);
    const out = Buffer.alloc(9 + 29 + 3, 0xee);
    lz4DecompressInto(block, 0, out, 9, 29);
    assert.deepEqual(out.subarray(9, 38), HELLO);
    assert.deepEqual(out.subarray(0, 9), Buffer.alloc(9, 0xee));
    assert.deepEqual(out.subarray(38), Buffer.alloc(3, 0xee));
    const compressed = Buffer.alloc(13 + lz4CompressBound(29), 0xee);
    const end = lz4CompressInto(HELLO, 0, compressed, 13);
    assert.deepEqual(compressed.subarray(0, 13), Buffer.alloc(13, 0xee));
    assert.deepEqual(compressed.subarray(13, end), block);
  });

  test('compressing from a start offset reads nothing before it (a body after its frame header)', () => {
    const body = Buffer.from('the quick brown fox '.repeat(6));
    // The bytes before the start repeat the body, so a matcher that looked at them would use them.
    const frame = Buffer.concat([body.subarray(0, 9), body]);
    const out = Buffer.alloc(lz4CompressBound(body.length));
    assert.deepEqual(lz4Decompress(out.subarray(0, lz4CompressInto(frame, 9, out, 0)), body.length), body);
    assert.deepEqual(out.subarray(0, lz4CompressInto(frame, 9, out, 0)), lz4Compress(body));
    const snappyOut = Buffer.alloc(snappyCompressBound(body.length));
    const snappyEnd = snappyCompressInto(frame, 9, snappyOut, 0);
    assert.deepEqual(snappyOut.subarray(0, snappyEnd), snappyCompress(body));
  });

  test('corrupt blocks give a CodecError', () => {
    for (const [block, length] of [
      [Buffer.alloc(0), 0], // no token at all
      [hex('50', '6865'), 5], // literals run past the end of the block
      [hex('f0'), 20], // the block ends inside a literal length
      [hex('40', '61626364', '05'), 8], // the block ends inside an offset
      [hex('40', '61626364', '0500', '00'), 8], // offset 5 points before the output (4 bytes so far)
      [hex('40', '61626364', '0000', '00'), 8], // offset 0
      [hex('40', '61626364', '0400', '00'), 9], // holds 8 bytes, announced 9
      [hex('40', '61626364', '0400', '00'), 7], // holds more than announced
      [hex('4f', '61626364', '0400'), 8], // a match length that never ends
    ] as const) {
      assert.throws(() => lz4Decompress(block, length), CodecError, block.toString('hex'));
    }
  });

  test('hostile input: a CodecError or exactly the announced bytes, never a write outside them', () => {
    checkHostileInput(lz4Compress(Buffer.from('the quick brown fox '.repeat(20))), lz4DecompressInto);
  });
});

describe('Snappy blocks in TypeScript', () => {
  test('byte vector: the length, literals, a 2-byte-offset copy', () => {
    const block = snappyCompress(HELLO);
    assert.deepEqual(
      block,
      hex(
        '1d', // decompressed length 29 (varint)
        '14', // literal, 5 + 1 = 6 bytes
        '68656c6c6f20', // "hello "
        '5a', // copy with a 2-byte offset, length 22 + 1 = 23
        '0600', // offset 6, little-endian
      ),
    );
    assert.deepEqual(block, snappyLibrary.compressSync(HELLO)); // the library writes the same here
    assert.deepEqual(snappyDecompress(block), HELLO);
  });

  test('every element kind decodes: long literals, 1-, 2- and 4-byte-offset copies', () => {
    const literals = Buffer.from(Array.from({ length: 61 }, (_, i) => 97 + (i % 26)));
    const block = hex(
      '8d01', // length 141 (varint)
      'f03c', // literal with a 1-byte length: 60 + 1 = 61 bytes
      literals.toString('hex'),
      '0d3d', // copy, 1-byte offset: length 3 + 4 = 7, offset 61
      '0e4400', // copy, 2-byte offset: length 3 + 1 = 4, offset 68
      'f3', // copy, 4-byte offset: length 60 + 1 = 61, offset 72
      '48000000',
      '1c', // literal, 7 + 1 = 8 bytes
      '3031323334353637',
    );
    const out = snappyDecompress(block);
    assert.equal(out.length, 141);
    assert.deepEqual(out.subarray(0, 61), literals);
    assert.deepEqual(out.subarray(61, 68), literals.subarray(0, 7));
    assert.deepEqual(out.subarray(68, 72), literals.subarray(0, 4));
    assert.deepEqual(out.subarray(72, 133), out.subarray(0, 61));
    assert.deepEqual(out.subarray(133), Buffer.from('01234567'));
    assert.deepEqual(snappyLibrary.uncompressSync(block, { asBuffer: true }), out);
  });

  test('what we compress, the library decompresses; what it compresses, we decompress', () => {
    fc.assert(
      fc.property(compressible, (data) => {
        const ours = snappyCompress(data);
        assert.ok(ours.length <= snappyCompressBound(data.length));
        assert.deepEqual(snappyLibrary.uncompressSync(ours, { asBuffer: true }), data);
        assert.deepEqual(snappyDecompress(snappyLibrary.compressSync(data)), data);
      }),
      { numRuns: 300 },
    );
  });

  test('corrupt blocks give a CodecError', () => {
    for (const block of [
      hex('05', '0c', '6162'), // literals run past the end of the block
      hex('05', 'f0'), // the block ends inside a literal length
      hex('08', '0c', '61626364', '02'), // the block ends inside a copy offset
      hex('08', '0c', '61626364', '0105'), // offset 5 points before the output
      hex('08', '0c', '61626364', '0100'), // offset 0
      hex('09', '0c', '61626364', '0e0400'), // holds 8 bytes, announced 9
      hex('07', '0c', '61626364', '0e0400'), // holds more than announced
    ]) {
      assert.throws(() => snappyDecompress(block), CodecError, block.toString('hex'));
    }
  });

  test('hostile input: a CodecError or exactly the announced bytes, never a write outside them', () => {
    checkHostileInput(snappyCompress(Buffer.from('the quick brown fox '.repeat(20))), snappyDecompressInto);
  });
});

describe('the table of recent sequences', () => {
  test('positions from an earlier input are never taken for matches, across restarts too', () => {
    // A tiny restart point makes the table start over every few inputs; compression stays exact.
    const table = new SequenceTable(600);
    const inputs = [HELLO, Buffer.from('abcdefgh'.repeat(40)), HELLO, Buffer.alloc(300, 7), HELLO];
    for (let round = 0; round < 5; round++) {
      for (const data of inputs) {
        assert.deepEqual(lz4Decompress(lz4Compress(data, table), data.length), data);
        assert.deepEqual(snappyDecompress(snappyCompress(data, table)), data);
      }
    }
    // A fresh input whose 4-byte sequences all appeared in earlier inputs but not in itself: all literals.
    const distinct = Buffer.from('abcdefgh');
    assert.deepEqual(
      lz4Compress(Buffer.concat([distinct, Buffer.from('hello')]), table),
      hex('d0', '6162636465666768', '68656c6c6f'),
    );
  });
});

describe('compressing a body after its header, into a room inside a larger buffer', () => {
  const codecs = [
    { name: 'lz4', bound: lz4CompressBound, into: lz4CompressInto, whole: lz4Compress },
    { name: 'snappy', bound: snappyCompressBound, into: snappyCompressInto, whole: snappyCompress },
  ];
  // The compressors stage a copy of the input at the end of their room and copy literals from it,
  // so this checks that the block never overwrites a part of that copy still to be read, and that
  // nothing outside the room is written, whatever the header's length (up to 16 bytes the staged
  // copy takes the header along) and the room's place.
  for (const codec of codecs) {
    test(`${codec.name}: the same block as the body alone, and nothing written outside the room`, () => {
      fc.assert(
        fc.property(
          compressible,
          fc.integer({ min: 0, max: 40 }),
          fc.integer({ min: 0, max: 20 }),
          (body, headerLength, roomAt) => {
            const frame = Buffer.concat([Buffer.alloc(headerLength, 0xab), body]);
            const room = codec.bound(body.length);
            const out = Buffer.alloc(roomAt + room + 8, 0xee);
            const end = codec.into(frame, headerLength, out, roomAt);
            assert.deepEqual(out.subarray(roomAt, end), codec.whole(body));
            assert.deepEqual(out.subarray(0, roomAt), Buffer.alloc(roomAt, 0xee));
            assert.deepEqual(out.subarray(roomAt + room), Buffer.alloc(8, 0xee));
          },
        ),
        { numRuns: 300 },
      );
    });
  }
});
