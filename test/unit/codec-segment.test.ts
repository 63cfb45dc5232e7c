import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CodecError,
  crc24,
  crc32,
  decodeSegmentHeader,
  encodeFrame,
  encodeSegment,
  Framer,
  MAX_SEGMENT_PAYLOAD,
  Opcode,
  type RawFrame,
  type Segment,
  SegmentChecksumError,
  SegmentReader,
  segmentsForFrames,
} from '../../src/proxy/codec/index.js';

const hex = (...fields: string[]): Buffer => Buffer.from(fields.join(''), 'hex');

/** `len` little-endian bytes of a 64-bit value, as the CRC-24 reads them. */
function littleEndian(value: bigint, len: number): Buffer {
  const out = Buffer.alloc(len);
  for (let i = 0; i < len; i++) out[i] = Number((value >> BigInt(8 * i)) & 0xffn);
  return out;
}

describe('segment checksums (spec v5 §2)', () => {
  test('CRC-24 reference values', () => {
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

  test('CRC-32 reference values (seeded with FA 2D 55 CA)', () => {
    const query = Buffer.from([
      6, 16, 0, 0, 7, 0, 0, 0, 47, 0, 0, 0, 37, 83, 69, 76, 69, 67, 84, 32, 99, 108, 117, 115, 116, 101, 114,
      95, 110, 97, 109, 101, 32, 70, 82, 79, 77, 32, 115, 121, 115, 116, 101, 109, 46, 108, 111, 99, 97, 108,
      0, 1, 0, 0, 0, 0,
    ]);
    assert.equal(crc32(query), 37932456);
    const two = Buffer.from([
      6, 16, 0, 0, 7, 0, 0, 0, 36, 0, 0, 0, 26, 83, 69, 76, 69, 67, 84, 32, 42, 32, 70, 82, 79, 77, 32, 115,
      121, 115, 116, 101, 109, 46, 108, 111, 99, 97, 108, 0, 1, 0, 0, 0, 0, 6, 16, 0, 1, 7, 0, 0, 0, 39, 0, 0,
      0, 29, 83, 69, 76, 69, 67, 84, 32, 42, 32, 70, 82, 79, 77, 32, 115, 121, 115, 116, 101, 109, 46, 112,
      101, 101, 114, 115, 95, 118, 50, 0, 1, 0, 0, 0, 0,
    ]);
    assert.equal(crc32(two), -642004664 >>> 0);
  });
});

describe('segment encoding', () => {
  test('uncompressed header: 17-bit length and the self-contained bit, little-endian', () => {
    const segment = encodeSegment(hex('aabb'), { selfContained: true });
    assert.deepEqual(segment.subarray(0, 3), hex('020002')); // length 2 | self-contained bit 17
    assert.equal(segment.readUIntLE(3, 3), crc24(hex('020002'))); // header CRC-24, little-endian
    assert.deepEqual(segment.subarray(6, 8), hex('aabb')); // payload
    assert.equal(segment.readUInt32LE(8), crc32(hex('aabb'))); // payload CRC-32, little-endian
    assert.deepEqual(decodeSegmentHeader(hex('020002')), {
      payloadLength: 2,
      uncompressedLength: 0,
      selfContained: true,
    });
  });

  test('compressed header: compressed length, uncompressed length, self-contained bit', () => {
    const segment = encodeSegment(hex('01'), {
      selfContained: true,
      compressedHeader: true,
      uncompressedLength: 0x1ffff,
    });
    const header = segment.subarray(0, 5);
    assert.deepEqual(decodeSegmentHeader(header), {
      payloadLength: 1,
      uncompressedLength: 0x1ffff,
      selfContained: true,
    });
    assert.throws(
      () => encodeSegment(Buffer.alloc(MAX_SEGMENT_PAYLOAD + 1), { selfContained: true }),
      CodecError,
    );
  });
});

function frames(): Buffer[] {
  return [
    encodeFrame(
      { version: 5, isResponse: false, flags: 0, streamId: 1, opcode: Opcode.OPTIONS },
      Buffer.alloc(0),
    ),
    encodeFrame(
      { version: 5, isResponse: false, flags: 0, streamId: 2, opcode: Opcode.QUERY },
      Buffer.alloc(40, 1),
    ),
  ];
}

/** Segments → payloads → Framer, the way a v5 connection reads. */
function readAll(
  reader: SegmentReader,
  framer: Framer,
  chunks: Buffer[],
): { segments: Segment[]; frames: RawFrame[] } {
  const segments: Segment[] = [];
  const out: RawFrame[] = [];
  for (const chunk of chunks) {
    const result = reader.push(chunk);
    assert.equal(result.error, null);
    for (const segment of result.segments) {
      segments.push(segment);
      const framed = framer.push(segment.payload);
      assert.equal(framed.error, null);
      out.push(...framed.frames);
    }
  }
  return { segments, frames: out };
}

describe('segment reader', () => {
  test('self-contained segment of two frames, cut at every offset', () => {
    const [segment] = segmentsForFrames(Buffer.concat(frames()));
    assert.ok(segment);
    for (let cut = 0; cut <= segment.length; cut++) {
      const got = readAll(new SegmentReader(), new Framer({ supportedVersions: [5] }), [
        segment.subarray(0, cut),
        segment.subarray(cut),
      ]);
      assert.equal(got.segments.length, 1, `cut at ${cut}`);
      assert.deepEqual(
        got.frames.map((f) => f.raw),
        frames(),
      );
    }
  });

  test('a frame larger than a segment is split over segments that are not self-contained', () => {
    const big = encodeFrame(
      { version: 5, isResponse: true, flags: 0, streamId: 3, opcode: Opcode.RESULT },
      Buffer.alloc(MAX_SEGMENT_PAYLOAD * 2, 9),
    );
    const segments = segmentsForFrames(big);
    assert.equal(segments.length, 3);
    const got = readAll(new SegmentReader(), new Framer({ supportedVersions: [5] }), segments);
    assert.deepEqual(
      got.segments.map((s) => s.header.selfContained),
      [false, false, false],
    );
    assert.equal(got.frames.length, 1);
    assert.deepEqual(got.frames[0]!.raw, big);
  });

  test('corrupt header or payload gives a SegmentChecksumError and stops', () => {
    const [segment] = segmentsForFrames(Buffer.concat(frames()));
    assert.ok(segment);
    const badHeader = Buffer.from(segment);
    badHeader[0] = badHeader[0]! ^ 1;
    const headerResult = new SegmentReader().push(badHeader);
    assert.ok(headerResult.error instanceof SegmentChecksumError);
    assert.equal(headerResult.error.part, 'header');
    const badPayload = Buffer.from(segment);
    badPayload[8] = badPayload[8]! ^ 1;
    const reader = new SegmentReader();
    const payloadResult = reader.push(badPayload);
    assert.ok(payloadResult.error instanceof SegmentChecksumError);
    assert.equal(payloadResult.error.part, 'payload');
    assert.equal(reader.push(segment).error, payloadResult.error);
  });

  test('garbage gives segments or checksum errors only', () => {
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (let round = 0; round < 300; round++) {
      const reader = new SegmentReader({ compressedHeader: round % 2 === 0 });
      const garbage = Buffer.from(Array.from({ length: random() % 40 }, () => random() & 0xff));
      const result = reader.push(garbage);
      if (result.error !== null) assert.ok(result.error instanceof CodecError);
    }
  });
});
