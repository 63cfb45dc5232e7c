import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CodecError,
  closeBody,
  decodeHeader,
  encodeFrame,
  encodeHeader,
  FrameFlag,
  Framer,
  FrameTooLargeError,
  HEADER_LENGTH,
  isCompressed,
  MAX_BODY_LENGTH,
  NegativeFrameLengthError,
  Opcode,
  openBody,
  type RawFrame,
  UnsupportedVersionError,
} from '../../src/proxy/codec/index.js';

const hex = (...fields: string[]): Buffer => Buffer.from(fields.join(''), 'hex');

describe('frame header (spec v4 §2)', () => {
  test('v4 request header', () => {
    const bytes = hex(
      '04', // version 4, request (direction bit 0)
      '02', // flags: tracing
      '0005', // stream 5
      '07', // opcode QUERY
      '0000000a', // body length 10
    );
    const header = decodeHeader(bytes);
    assert.deepEqual(header, { version: 4, isResponse: false, flags: 2, streamId: 5, opcode: 7, length: 10 });
    assert.deepEqual(encodeHeader(header), bytes);
  });

  test('v3 response header with a negative (server-initiated) stream', () => {
    const bytes = hex(
      '83', // version 3, response (direction bit 1)
      '00', // no flags
      'ffff', // stream -1 (EVENT)
      '0c', // opcode EVENT
      '00000000', // empty body
    );
    const header = decodeHeader(bytes);
    assert.deepEqual(header, {
      version: 3,
      isResponse: true,
      flags: 0,
      streamId: -1,
      opcode: 0x0c,
      length: 0,
    });
    assert.deepEqual(encodeHeader(header), bytes);
  });

  test('decodeHeader reports negative lengths as they are; encodeHeader refuses bad fields', () => {
    assert.equal(decodeHeader(hex('04', '00', '0000', '05', 'ffffffff')).length, -1);
    assert.throws(() => decodeHeader(hex('04', '00', '0000', '05', 'ffff')), CodecError);
    const base = { version: 4, isResponse: false, flags: 0, streamId: 0, opcode: 5, length: 0 };
    assert.throws(() => encodeHeader({ ...base, streamId: 0x8000 }), CodecError);
    assert.throws(() => encodeHeader({ ...base, length: MAX_BODY_LENGTH + 1 }), CodecError);
    assert.throws(() => encodeHeader({ ...base, version: 0x80 }), CodecError);
  });

  test('encodeFrame and the compression flag', () => {
    const frame = encodeFrame(
      { version: 4, isResponse: true, flags: FrameFlag.COMPRESSION, streamId: 1, opcode: 2 },
      hex('aa'),
    );
    assert.deepEqual(frame, hex('84', '01', '0001', '02', '00000001', 'aa'));
    assert.equal(isCompressed(decodeHeader(frame)), true);
    assert.equal(MAX_BODY_LENGTH, 256 * 1024 * 1024);
  });
});

describe('body envelope (spec v4 §2.2)', () => {
  test('response with tracing id, warnings and custom payload', () => {
    const body = hex(
      '00112233445566778899aabbccddeeff', // tracing id [uuid]
      '0001', // warnings [string list] of 1
      '0001',
      Buffer.from('w').toString('hex'),
      '0001', // custom payload [bytes map] of 1
      '0001',
      Buffer.from('k').toString('hex'),
      '00000001',
      '01',
      '00000001', // message: RESULT kind Void
    );
    const flags = FrameFlag.TRACING | FrameFlag.WARNING | FrameFlag.CUSTOM_PAYLOAD;
    const opened = openBody(body, flags, true, 4);
    assert.equal(opened.tracingId, '00112233-4455-6677-8899-aabbccddeeff');
    assert.deepEqual(opened.warnings, ['w']);
    assert.deepEqual(opened.customPayload, new Map([['k', Buffer.from([1])]]));
    assert.deepEqual(opened.message, hex('00000001'));
    assert.deepEqual(closeBody(opened.message, opened, true, 4), { body, flags });
  });

  test('request tracing flag adds nothing; v3 has no payload or warnings', () => {
    const body = hex('00000001');
    assert.deepEqual(openBody(body, FrameFlag.TRACING, false, 4).message, body);
    assert.deepEqual(openBody(body, FrameFlag.CUSTOM_PAYLOAD | FrameFlag.WARNING, true, 3).message, body);
  });

  test('truncated envelope is a CodecError', () => {
    assert.throws(() => openBody(hex('0011'), FrameFlag.TRACING, true, 4), CodecError);
  });
});

/** Three frames of different shapes: empty body, small body, and a response. */
function sampleStream(): { bytes: Buffer; frames: Buffer[] } {
  const frames = [
    encodeFrame(
      { version: 4, isResponse: false, flags: 0, streamId: 0, opcode: Opcode.OPTIONS },
      Buffer.alloc(0),
    ),
    encodeFrame(
      { version: 4, isResponse: false, flags: 0, streamId: 1, opcode: Opcode.QUERY },
      Buffer.from('0123456789abcdef', 'hex'),
    ),
    encodeFrame(
      { version: 4, isResponse: true, flags: 0, streamId: -1, opcode: Opcode.EVENT },
      Buffer.alloc(300, 7),
    ),
  ];
  return { bytes: Buffer.concat(frames), frames };
}

function collect(framer: Framer, chunks: Buffer[]): RawFrame[] {
  const out: RawFrame[] = [];
  for (const chunk of chunks) {
    const result = framer.push(chunk);
    assert.equal(result.error, null);
    out.push(...result.frames);
  }
  return out;
}

describe('framer: split buffers', () => {
  const { bytes, frames } = sampleStream();

  test('whole input in one chunk: frames are views, not copies', () => {
    const got = collect(new Framer({ supportedVersions: [3, 4] }), [bytes]);
    assert.deepEqual(
      got.map((f) => f.raw),
      frames,
    );
    assert.equal(got[1]!.raw.buffer, bytes.buffer);
    assert.deepEqual(got[1]!.body, Buffer.from('0123456789abcdef', 'hex'));
    assert.equal(got[2]!.header.streamId, -1);
  });

  test('cut at every byte offset into two chunks', () => {
    for (let cut = 0; cut <= bytes.length; cut++) {
      const framer = new Framer({ supportedVersions: [4] });
      const got = collect(framer, [bytes.subarray(0, cut), bytes.subarray(cut)]);
      assert.deepEqual(
        got.map((f) => f.raw),
        frames,
        `cut at ${cut}`,
      );
      assert.equal(framer.bufferedLength, 0);
    }
  });

  test('cut at every pair of offsets into three chunks', () => {
    for (let a = 0; a <= bytes.length; a += 3) {
      for (let b = a; b <= bytes.length; b += 7) {
        const got = collect(new Framer({ supportedVersions: [4] }), [
          bytes.subarray(0, a),
          bytes.subarray(a, b),
          bytes.subarray(b),
        ]);
        assert.equal(got.length, 3, `cuts at ${a}, ${b}`);
        assert.deepEqual(got[2]!.raw, frames[2]);
      }
    }
  });

  test('one byte at a time', () => {
    const chunks = Array.from(bytes, (byte) => Buffer.from([byte]));
    const got = collect(new Framer({ supportedVersions: [4] }), chunks);
    assert.deepEqual(
      got.map((f) => f.body.length),
      [0, 8, 300],
    );
    assert.deepEqual(
      got.map((f) => f.raw),
      frames,
    );
  });
});

describe('framer: bad input', () => {
  test('unsupported version is reported with its number as soon as the first byte arrives', () => {
    const framer = new Framer({ supportedVersions: [3, 4] });
    const result = framer.push(hex('42')); // DSE v2, request
    assert.ok(result.error instanceof UnsupportedVersionError);
    assert.equal(result.error.version, 0x42);
    assert.match(result.error.message, /^Invalid or unsupported protocol version \(66\)/);
    assert.ok(result.error instanceof CodecError);
    // The framer stays stopped.
    assert.equal(
      framer.push(
        encodeFrame({ version: 4, isResponse: false, flags: 0, streamId: 0, opcode: 5 }, Buffer.alloc(0)),
      ).error,
      result.error,
    );
  });

  test('frames before the bad one are still delivered', () => {
    const good = encodeFrame(
      { version: 4, isResponse: false, flags: 0, streamId: 0, opcode: 5 },
      Buffer.alloc(0),
    );
    const result = new Framer({ supportedVersions: [4] }).push(
      Buffer.concat([good, hex('05', '00', '0000', '05', '00000000')]),
    );
    assert.equal(result.frames.length, 1);
    assert.ok(result.error instanceof UnsupportedVersionError);
    assert.equal(result.error.version, 5);
    assert.equal(result.error.offset, HEADER_LENGTH);
  });

  test('oversized length is reported from the header alone', () => {
    const result = new Framer({ supportedVersions: [4], maxBodyLength: 100 }).push(
      hex('04', '00', '0001', '07', '00000065'),
    );
    assert.ok(result.error instanceof FrameTooLargeError);
    assert.equal(result.error.header.length, 101);
    assert.equal(result.error.header.streamId, 1);
    const big = new Framer({ supportedVersions: [4] }).push(hex('04', '00', '0001', '07', '10000001'));
    assert.ok(big.error instanceof FrameTooLargeError);
  });

  test('negative length', () => {
    const result = new Framer({ supportedVersions: [4] }).push(hex('04', '00', '0001', '07', '80000000'));
    assert.ok(result.error instanceof NegativeFrameLengthError);
    assert.equal(result.error.header.length, -(2 ** 31));
  });

  test('garbage: every outcome is frames or a framing error, never a throw or a hang', () => {
    let seed = 12345;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (let round = 0; round < 500; round++) {
      const framer = new Framer({ supportedVersions: [3, 4, 5], maxBodyLength: 1024 });
      const length = random() % 64;
      const garbage = Buffer.from(Array.from({ length }, () => random() & 0xff));
      if (round % 2 === 0 && length > 0) garbage[0] = 4; // often a valid version byte
      for (let i = 0; i < garbage.length; i += 5) {
        const result = framer.push(garbage.subarray(i, i + 5));
        if (result.error !== null) assert.ok(result.error instanceof CodecError);
      }
    }
  });
});

describe('framer: body limits', () => {
  const MiB = 1024 * 1024;
  const header = (streamId: number, length: number) =>
    encodeHeader({ version: 4, isResponse: false, flags: 0, streamId, opcode: Opcode.QUERY, length });

  test('a 250 MB length field is refused from its header, and no body byte is kept', () => {
    const framer = new Framer({ supportedVersions: [4], maxBodyLength: 16 * MiB });
    const first = framer.push(Buffer.concat([header(3, 250_000_000), Buffer.alloc(1000)]));
    assert.ok(first.error instanceof FrameTooLargeError);
    assert.equal(first.error.header.streamId, 3);
    assert.equal(first.error.maxBodyLength, 16 * MiB);
    assert.equal(framer.bufferedLength, 0, 'the bytes already received are dropped');
    // The peer keeps sending part of the body: nothing of it is kept.
    const chunk = Buffer.alloc(MiB, 1);
    for (let i = 0; i < 64; i++) {
      assert.equal(framer.push(chunk).error, first.error);
      assert.equal(framer.bufferedLength, 0);
    }
  });

  test('the limit is judged at every cut of the header, before the body arrives', () => {
    const bytes = Buffer.concat([header(7, 1001), Buffer.alloc(40)]);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const framer = new Framer({ supportedVersions: [4], maxBodyLength: 1000 });
      const a = framer.push(bytes.subarray(0, cut));
      const b = framer.push(bytes.subarray(cut));
      const error = a.error ?? b.error;
      assert.ok(error instanceof FrameTooLargeError, `cut at ${cut}`);
      assert.equal(
        a.error !== null,
        cut >= HEADER_LENGTH,
        `error as soon as the header is complete (cut ${cut})`,
      );
      assert.equal(framer.bufferedLength, 0);
    }
  });

  test('a body exactly at the limit passes', () => {
    const frame = Buffer.concat([header(1, 1000), Buffer.alloc(1000, 9)]);
    const result = new Framer({ supportedVersions: [4], maxBodyLength: 1000 }).push(frame);
    assert.equal(result.error, null);
    assert.equal(result.frames[0]!.body.length, 1000);
  });

  test('setMaxBodyLength: a tight limit before authentication, the normal one after', () => {
    const framer = new Framer({ supportedVersions: [4], maxBodyLength: 256 * 1024 });
    const body = Buffer.alloc(300 * 1024, 1);
    const frame = Buffer.concat([header(2, body.length), body]);
    framer.setMaxBodyLength(16 * MiB);
    assert.equal(framer.maxBodyLength, 16 * MiB);
    // Cut at a few offsets, including inside the header, with the limit raised in between.
    const result = collect(framer, [frame.subarray(0, 4), frame.subarray(4, 100), frame.subarray(100)]);
    assert.equal(result.length, 1);
    assert.equal(result[0]!.body.length, body.length);
    const strict = new Framer({ supportedVersions: [4], maxBodyLength: 256 * 1024 });
    assert.ok(strict.push(frame).error instanceof FrameTooLargeError);
  });

  test('a header already buffered is judged by the limit in force at the next push', () => {
    const framer = new Framer({ supportedVersions: [4], maxBodyLength: 16 * MiB });
    assert.equal(framer.push(Buffer.concat([header(4, 500), Buffer.alloc(10)])).error, null);
    framer.setMaxBodyLength(100);
    assert.ok(framer.push(Buffer.alloc(10)).error instanceof FrameTooLargeError);
  });

  test('limits outside 0..256 MB are refused', () => {
    assert.throws(
      () => new Framer({ supportedVersions: [4], maxBodyLength: MAX_BODY_LENGTH + 1 }),
      RangeError,
    );
    assert.throws(() => new Framer({ supportedVersions: [4] }).setMaxBodyLength(-1), RangeError);
    assert.throws(() => new Framer({ supportedVersions: [4] }).setMaxBodyLength(1.5), RangeError);
  });
});
