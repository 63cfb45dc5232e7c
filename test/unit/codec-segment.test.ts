import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  CodecError,
  crc24,
  crc32,
  DEFAULT_MAX_FRAME_LENGTH,
  decodeSegmentHeader,
  encodeFrame,
  encodeSegment,
  encodeSegmentHeader,
  encodeSegments,
  FrameTooLargeError,
  loadCompression,
  MAX_SEGMENT_PAYLOAD,
  MalformedSegmentError,
  NegativeFrameLengthError,
  Opcode,
  type RawFrame,
  SegmentChecksumError,
  SegmentFramer,
  type SegmentFramerOptions,
  UnsupportedVersionError,
} from '../../src/proxy/codec/index.js';
import { tableCrc32 } from '../../src/proxy/codec/segment/crc.js';

const hex = (...fields: string[]): Buffer => Buffer.from(fields.join(''), 'hex');

const lz4 = loadCompression().lz4Block;
assert.ok(lz4, 'the lz4-napi library must load on this machine');

/** `len` little-endian bytes of a 64-bit value, as the CRC-24 reads them. */
function littleEndian(value: bigint, len: number): Buffer {
  const out = Buffer.alloc(len);
  for (let i = 0; i < len; i++) out[i] = Number((value >> BigInt(8 * i)) & 0xffn);
  return out;
}

// Reference bytes below were produced by the Python driver's segment codec (cassandra/segment.py,
// with lz4 for compression) from the same frames, so they check us against another implementation.

/** OPTIONS, v5 request, stream 1, empty body. */
const OPTIONS_FRAME = hex('05', '00', '0001', '05', '00000000');
/** QUERY, v5 request, stream 2: "SELECT now()", consistency ONE, no flags. */
const QUERY_FRAME = hex(
  '05', // version 5, request
  '00', // flags
  '0002', // stream 2
  '07', // QUERY
  '00000016', // body length 22
  '0000000c', // [long string] length 12
  '53454c454354206e6f772829', // SELECT now()
  '0001', // consistency ONE
  '00000000', // flags (v5: [int])
);
/** RESULT, v5 response, stream 3: a body that compresses well. */
const RESULT_FRAME = Buffer.concat([
  hex('85', '00', '0003', '08', '00000104', '00000001'),
  Buffer.from('abcd'.repeat(64)),
]);

describe('segment checksums (spec v5 §2)', () => {
  test('CRC-24 reference values (initial 0x875060, polynomial 0x1974F0B)', () => {
    const max = 2n ** 63n - 1n;
    for (const [data, len, expected] of [
      [0n, 0, 8867936],
      [0n, 1, 59277],
      [0n, 3, 8251255],
      [0n, 5, 11185162],
      [0n, 8, 9640737],
      [max, 1, 1294145],
      [max, 3, 8029951],
      [max, 5, 9326200],
      [max, 8, 5032370],
      [131077n, 3, 10131737],
      [17181442053n, 5, 3672222],
      [34359607301n, 5, 14445742],
    ] as const) {
      assert.equal(crc24(littleEndian(data, len)), expected, `${data} over ${len} bytes`);
    }
  });

  test('CRC-32 reference values (IEEE, seeded with FA 2D 55 CA)', () => {
    assert.equal(crc32(Buffer.alloc(0)), 1148681939);
    assert.equal(crc32(Buffer.from('abc')), 3308681736);
    const query = Buffer.from([
      6, 16, 0, 0, 7, 0, 0, 0, 47, 0, 0, 0, 37, 83, 69, 76, 69, 67, 84, 32, 99, 108, 117, 115, 116, 101, 114,
      95, 110, 97, 109, 101, 32, 70, 82, 79, 77, 32, 115, 121, 115, 116, 101, 109, 46, 108, 111, 99, 97, 108,
      0, 1, 0, 0, 0, 0,
    ]);
    assert.equal(crc32(query), 37932456);
    // The plain JavaScript fallback (Node 20 before zlib.crc32) agrees with what runs here.
    const seeded = tableCrc32(0, hex('fa2d55ca'));
    for (const bytes of [Buffer.alloc(0), Buffer.from('abc'), query, Buffer.alloc(70_000, 0xa5)]) {
      assert.equal(tableCrc32(seeded, bytes), crc32(bytes));
    }
  });
});

describe('segment headers (spec v5 §2)', () => {
  test('uncompressed: 17-bit length, self-contained bit, padding, CRC-24, little-endian', () => {
    const bytes = hex(
      '280002', // 0x020028: payload length 40 (bits 0-16) | self-contained (bit 17)
      'ef9c88', // CRC-24 of the 3 header bytes
    );
    const header = { payloadLength: 40, uncompressedLength: 0, selfContained: true };
    assert.deepEqual(encodeSegmentHeader(header, false), bytes);
    assert.deepEqual(decodeSegmentHeader(bytes.subarray(0, 3)), header);
    assert.deepEqual(decodeSegmentHeader(hex('ffff01')), {
      payloadLength: MAX_SEGMENT_PAYLOAD,
      uncompressedLength: 0,
      selfContained: false,
    });
  });

  test('compressed: compressed length, uncompressed length, self-contained bit, CRC-24', () => {
    const compressed = hex(
      '1c001a0204', // 0x04021a001c: compressed 28 | uncompressed 269 << 17 | self-contained << 34
      '6a09c5', // CRC-24 of the 5 header bytes
    );
    const header = { payloadLength: 28, uncompressedLength: 269, selfContained: true };
    assert.deepEqual(encodeSegmentHeader(header, true), compressed);
    assert.deepEqual(decodeSegmentHeader(compressed.subarray(0, 5)), header);
    const stored = hex(
      '0900000004', // payload 9 | uncompressed length 0 (sent as is) | self-contained << 34
      'c2b895', // CRC-24
    );
    const storedHeader = { payloadLength: 9, uncompressedLength: 0, selfContained: true };
    assert.deepEqual(encodeSegmentHeader(storedHeader, true), stored);
  });

  test('lengths outside 17 bits are refused', () => {
    const base = { payloadLength: 0, uncompressedLength: 0, selfContained: true };
    assert.throws(
      () => encodeSegmentHeader({ ...base, payloadLength: MAX_SEGMENT_PAYLOAD + 1 }, false),
      CodecError,
    );
    assert.throws(() => encodeSegmentHeader({ ...base, uncompressedLength: 1 << 17 }, true), CodecError);
    assert.throws(() => encodeSegmentHeader({ ...base, uncompressedLength: 1 }, false), CodecError);
    assert.throws(() => encodeSegment(Buffer.alloc(MAX_SEGMENT_PAYLOAD + 1), true), CodecError);
    assert.equal(MAX_SEGMENT_PAYLOAD, 128 * 1024 - 1);
  });
});

describe('segment encoding', () => {
  test('two small frames in one self-contained segment, as the Python driver encodes them', () => {
    assert.deepEqual(encodeSegments([OPTIONS_FRAME, QUERY_FRAME]), [
      hex(
        '280002', // payload length 40, self-contained
        'ef9c88', // header CRC-24
        OPTIONS_FRAME.toString('hex'),
        QUERY_FRAME.toString('hex'),
        '1d509ff8', // payload CRC-32, little-endian
      ),
    ]);
  });

  test('LZ4: a payload that does not shrink is sent as is with uncompressed length 0', () => {
    assert.deepEqual(
      encodeSegment(OPTIONS_FRAME, true, lz4),
      hex(
        '0900000004', // compressed length 9, uncompressed length 0, self-contained
        'c2b895', // header CRC-24
        OPTIONS_FRAME.toString('hex'),
        'b5557486', // payload CRC-32
      ),
    );
  });

  test('LZ4: a payload that shrinks is compressed, the CRC-32 covers the compressed bytes', () => {
    const [segment] = encodeSegments([RESULT_FRAME], lz4);
    assert.ok(segment);
    const header = decodeSegmentHeader(segment.subarray(0, 5));
    assert.equal(header.uncompressedLength, RESULT_FRAME.length);
    assert.equal(header.selfContained, true);
    assert.ok(header.payloadLength < RESULT_FRAME.length);
    assert.equal(segment.length, 5 + 3 + header.payloadLength + 4);
    const wire = segment.subarray(8, 8 + header.payloadLength);
    assert.deepEqual(lz4.decompress(wire, header.uncompressedLength), RESULT_FRAME);
    assert.equal(segment.readUInt32LE(8 + header.payloadLength), crc32(wire));
  });

  test('a frame larger than a segment is split into slices that are not self-contained', () => {
    const big = largeFrame(300_000);
    const segments = encodeSegments([big]);
    // Headers, CRC-24s and CRC-32s of the Python driver's encoding of the same frame.
    assert.deepEqual(
      segments.map((s) => [s.subarray(0, 6).toString('hex'), s.subarray(-4).toString('hex')]),
      [
        ['ffff01' + '3891fe', '1bbfb072'], // 131071 bytes, not self-contained
        ['ffff01' + '3891fe', 'feb960ea'], // 131071 bytes, not self-contained
        ['eb9300' + '52e0c6', '11ec6989'], // 37867 bytes, not self-contained
      ],
    );
    assert.deepEqual(Buffer.concat(segments.map((s) => s.subarray(6, -4))), big);
  });

  test('small frames are packed up to the payload limit, a large frame goes alone', () => {
    const small = Array.from({ length: 30 }, (_, i) => frame(i, 5000));
    const big = largeFrame(200_000);
    const segments = encodeSegments([...small, big, OPTIONS_FRAME]);
    const headers = segments.map((s) => decodeSegmentHeader(s.subarray(0, 3)));
    assert.deepEqual(
      headers.map((h) => [h.payloadLength, h.selfContained]),
      [
        [26 * 5000, true], // as many 5000-byte frames as fit in 131071 bytes
        [4 * 5000, true], // the rest of them, flushed before the large frame
        [MAX_SEGMENT_PAYLOAD, false],
        [big.length - MAX_SEGMENT_PAYLOAD, false],
        [OPTIONS_FRAME.length, true],
      ],
    );
    assert.deepEqual(decodeAll(segments).map(rawOf), [...small, big, OPTIONS_FRAME]);
    assert.deepEqual(encodeSegments([]), []);
  });
});

/** A v5 response frame with a body of `bodyLength` bytes of a fixed pattern (i % 251). */
function largeFrame(bodyLength: number): Buffer {
  const body = Buffer.from(Array.from({ length: bodyLength }, (_, i) => i % 251));
  return encodeFrame({ version: 5, isResponse: true, flags: 0, streamId: 7, opcode: Opcode.RESULT }, body);
}

/** A v5 QUERY frame of `length` bytes in all, on `stream`. */
function frame(stream: number, length: number): Buffer {
  return encodeFrame(
    { version: 5, isResponse: false, flags: 0, streamId: stream, opcode: Opcode.QUERY },
    Buffer.alloc(length - 9, stream),
  );
}

const rawOf = (f: RawFrame): Buffer => Buffer.from(f.raw);

/** Feeds chunks to a fresh SegmentFramer, asserting no error; returns the frames. */
function decodeAll(chunks: readonly Buffer[], options: SegmentFramerOptions = {}): RawFrame[] {
  const framer = new SegmentFramer(options);
  const frames: RawFrame[] = [];
  for (const chunk of chunks) {
    const result = framer.push(chunk);
    assert.equal(result.error, null);
    frames.push(...result.frames);
  }
  assert.equal(framer.bufferedLength, 0);
  return frames;
}

/** Feeds chunks and returns the frames delivered and the error that stopped the framer. */
function decodeUntilError(chunks: readonly Buffer[], options: SegmentFramerOptions = {}) {
  const framer = new SegmentFramer(options);
  const frames: RawFrame[] = [];
  for (const chunk of chunks) {
    const result = framer.push(chunk);
    frames.push(...result.frames);
    if (result.error !== null) return { frames, error: result.error, framer };
  }
  return { frames, error: null, framer };
}

/** Slices a frame over segments that are not self-contained, cut at the given sizes. */
function partSegments(whole: Buffer, sizes: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (const size of sizes) {
    out.push(encodeSegment(whole.subarray(at, at + size), false));
    at += size;
  }
  assert.equal(at, whole.length);
  return out;
}

describe('segment framer: bytes → segments → frames', () => {
  /** A self-contained segment of two frames, a frame over three segments, another segment. */
  const splitFrame = frame(9, 60);
  const stream = Buffer.concat([
    ...encodeSegments([OPTIONS_FRAME, QUERY_FRAME]),
    ...partSegments(splitFrame, [4, 30, 26]), // the header itself is cut between segments
    ...encodeSegments([RESULT_FRAME]),
  ]);
  const expected = [OPTIONS_FRAME, QUERY_FRAME, splitFrame, RESULT_FRAME];

  test('the Python driver segment decodes to its frames', () => {
    const python = hex(
      '280002ef9c88',
      OPTIONS_FRAME.toString('hex'),
      QUERY_FRAME.toString('hex'),
      '1d509ff8',
    );
    assert.deepEqual(decodeAll([python]).map(rawOf), [OPTIONS_FRAME, QUERY_FRAME]);
  });

  test('the Python driver LZ4 segment decodes to its frame', () => {
    const python = hex(
      '1c001a0204', // compressed 28, uncompressed 269, self-contained
      '6a09c5', // header CRC-24
      'ff0285000003080000010400000001616263640400e4506461626364', // LZ4 block from liblz4
      '65e92436', // CRC-32 of the compressed bytes
    );
    assert.deepEqual(decodeAll([python], { compressor: lz4 }).map(rawOf), [RESULT_FRAME]);
  });

  test('input cut at every byte offset', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const frames = decodeAll([stream.subarray(0, cut), stream.subarray(cut)]);
      assert.deepEqual(frames.map(rawOf), expected, `cut at ${cut}`);
    }
  });

  test('input one byte at a time', () => {
    const bytes = Array.from({ length: stream.length }, (_, i) => stream.subarray(i, i + 1));
    assert.deepEqual(decodeAll(bytes).map(rawOf), expected);
  });

  test('LZ4 segments cut at every byte offset', () => {
    const compressed = Buffer.concat(encodeSegments([OPTIONS_FRAME, RESULT_FRAME, QUERY_FRAME], lz4));
    for (let cut = 0; cut <= compressed.length; cut++) {
      const frames = decodeAll([compressed.subarray(0, cut), compressed.subarray(cut)], { compressor: lz4 });
      assert.deepEqual(frames.map(rawOf), [OPTIONS_FRAME, RESULT_FRAME, QUERY_FRAME], `cut at ${cut}`);
    }
  });

  test('a large frame over segments, uncompressed and LZ4, in chunks of every size class', () => {
    const big = largeFrame(300_000);
    for (const compressor of [null, lz4]) {
      const bytes = Buffer.concat(encodeSegments([QUERY_FRAME, big, OPTIONS_FRAME], compressor));
      for (const size of [1000, 65_536, 131_082, bytes.length]) {
        const chunks: Buffer[] = [];
        for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
        assert.deepEqual(decodeAll(chunks, { compressor }).map(rawOf), [QUERY_FRAME, big, OPTIONS_FRAME]);
      }
    }
  });

  test('any frames, any chunking: what is encoded decodes to the same frames', () => {
    const frameArb = fc
      .record({
        stream: fc.integer({ min: 0, max: 0x7fff }),
        bodyLength: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 131_000, max: 270_000 })),
      })
      .map(({ stream: s, bodyLength }) => frame(s & 0x7fff, bodyLength + 9));
    fc.assert(
      fc.property(
        fc.array(frameArb, { maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.boolean(),
        (frames, cuts, compress) => {
          const compressor = compress ? lz4 : null;
          const bytes = Buffer.concat(encodeSegments(frames, compressor));
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
          const chunks = [0, ...points].map((from, i) => bytes.subarray(from, [...points, bytes.length][i]));
          assert.deepEqual(decodeAll(chunks, { compressor }).map(rawOf), frames);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('segment framer: corrupt input', () => {
  const first = encodeSegments([OPTIONS_FRAME])[0]!;
  const second = encodeSegments([QUERY_FRAME])[0]!;

  test('a bad header CRC is reported as soon as the header is in, with its offset', () => {
    const bad = Buffer.from(second);
    bad[0] = bad[0]! ^ 0x01;
    // Only the header and its CRC of the bad segment are sent: no need to wait for the payload.
    const { frames, error } = decodeUntilError([first, bad.subarray(0, 6)]);
    assert.deepEqual(frames.map(rawOf), [OPTIONS_FRAME]);
    assert.ok(error instanceof SegmentChecksumError);
    assert.equal(error.part, 'header');
    assert.equal(error.offset, first.length);
    assert.match(error.message, /segment header checksum mismatch.*at offset 19/);
  });

  test('a bad payload CRC, in the payload or in the CRC bytes, stops the framer for good', () => {
    for (const index of [6, second.length - 1]) {
      const bad = Buffer.from(second);
      bad[index] = bad[index]! ^ 0x80;
      const { frames, error, framer } = decodeUntilError([first, bad]);
      assert.deepEqual(frames.map(rawOf), [OPTIONS_FRAME]);
      assert.ok(error instanceof SegmentChecksumError);
      assert.equal(error.part, 'payload');
      assert.equal(error.expected, bad.readUInt32LE(bad.length - 4));
      assert.equal(error.actual, crc32(bad.subarray(6, -4)));
      assert.deepEqual(framer.push(first), { frames: [], error });
    }
  });

  test('an LZ4 payload with a valid CRC that does not decompress', () => {
    const block = hex('ff0102'); // a token announcing more literals than follow
    const segment = Buffer.concat([
      encodeSegmentHeader({ payloadLength: 3, uncompressedLength: 100, selfContained: true }, true),
      block,
      Buffer.from(Uint32Array.of(crc32(block)).buffer),
    ]);
    const { error } = decodeUntilError([segment], { compressor: lz4 });
    assert.ok(error instanceof MalformedSegmentError);
    assert.match(error.message, /segment payload does not decompress: corrupt lz4 data/);
    assert.ok(error.cause instanceof CodecError);
  });

  test('framing rules: whole frames in self-contained segments, one frame over the others', () => {
    const partial = frame(4, 40);
    for (const [name, chunks] of [
      ['ends inside a frame header', [encodeSegment(QUERY_FRAME.subarray(0, 5), true)]],
      ['ends inside a frame', [encodeSegment(QUERY_FRAME.subarray(0, 20), true)]],
      [
        'a self-contained segment arrived before the end',
        [encodeSegment(partial.subarray(0, 20), false), first],
      ],
      [
        'holds bytes past the end of its frame',
        [encodeSegment(Buffer.concat([partial, OPTIONS_FRAME]), false)],
      ],
    ] as const) {
      const { error } = decodeUntilError(chunks);
      assert.ok(error instanceof MalformedSegmentError, name);
      assert.ok(error.message.includes(name), `${name}: ${error.message}`);
    }
  });

  test('frame headers inside segments: version and negative length', () => {
    const v4 = encodeFrame(
      { version: 4, isResponse: false, flags: 0, streamId: 1, opcode: 5 },
      Buffer.alloc(0),
    );
    const version = decodeUntilError(encodeSegments([v4])).error;
    assert.ok(version instanceof UnsupportedVersionError);
    assert.equal(version.version, 4);
    const negative = decodeUntilError([encodeSegment(hex('05', '00', '0001', '05', 'ffffffff'), true)]).error;
    assert.ok(negative instanceof NegativeFrameLengthError);
  });

  test('random bytes give frames or a CodecError, never an exception', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, compress) => {
        const result = new SegmentFramer({ compressor: compress ? lz4 : null }).push(Buffer.from(bytes));
        if (result.error !== null) assert.ok(result.error instanceof CodecError);
      }),
      { numRuns: 500 },
    );
  });
});

describe('segment framer: limits', () => {
  test('a split frame over the limit is refused at its first segment, nothing more is kept', () => {
    const big = frame(1, 2000);
    const [head, ...rest] = partSegments(big, [700, 700, 600]);
    const { error, framer } = decodeUntilError([head!], { maxFrameLength: 1000 });
    assert.ok(error instanceof FrameTooLargeError);
    assert.equal(error.header.length, 1991);
    assert.equal(error.maxBodyLength, 1000 - 9);
    assert.equal(framer.bufferedLength, 0);
    assert.equal(framer.push(Buffer.concat(rest)).error, error);
    assert.equal(framer.bufferedLength, 0);
  });

  test('the default limit is 16 MiB for the whole frame, checked from the header alone', () => {
    assert.equal(DEFAULT_MAX_FRAME_LENGTH, 16 * 1024 * 1024);
    const header = (bodyLength: number): Buffer =>
      encodeSegment(hex('85', '00', '0001', '08', bodyLength.toString(16).padStart(8, '0')), false);
    const fits = new SegmentFramer();
    assert.deepEqual(fits.push(header(DEFAULT_MAX_FRAME_LENGTH - 9)), { frames: [], error: null });
    assert.equal(fits.bufferedLength, 9);
    const over = new SegmentFramer().push(header(DEFAULT_MAX_FRAME_LENGTH - 8)).error;
    assert.ok(over instanceof FrameTooLargeError);
    const huge = new SegmentFramer().push(header(0x7fffffff)).error;
    assert.ok(huge instanceof FrameTooLargeError);
  });

  test('a frame inside a self-contained segment is held to the same limit', () => {
    const { error } = decodeUntilError(encodeSegments([frame(1, 500)]), { maxFrameLength: 499 });
    assert.ok(error instanceof FrameTooLargeError);
    assert.equal(decodeAll(encodeSegments([frame(1, 500)]), { maxFrameLength: 500 }).length, 1);
  });

  test('what is buffered between pushes never exceeds one segment plus the frame being assembled', () => {
    const big = largeFrame(300_000);
    const bytes = Buffer.concat(encodeSegments([big]));
    const framer = new SegmentFramer({ maxFrameLength: big.length });
    let peak = 0;
    for (let at = 0; at < bytes.length; at += 4096) {
      assert.equal(framer.push(bytes.subarray(at, at + 4096)).error, null);
      peak = Math.max(peak, framer.bufferedLength);
    }
    assert.ok(peak <= big.length + MAX_SEGMENT_PAYLOAD, `peak ${peak}`);
    assert.equal(framer.bufferedLength, 0);
  });
});
