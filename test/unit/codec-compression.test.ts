import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  type BodyCompression,
  COMPRESSION_ALGORITHMS,
  CodecError,
  DecompressedTooLargeError,
  isCompressionAlgorithm,
  Lz4Block,
  Lz4BodyCompression,
  type Lz4Library,
  loadCompression,
  readSnappyPreamble,
  SnappyBodyCompression,
  type SnappyLibrary,
  workingCompressions,
} from '../../src/proxy/codec/index.js';
import { randomOrDamaged } from '../helpers/damaged-bytes.js';

const hex = (...fields: string[]): Buffer => Buffer.from(fields.join(''), 'hex');
const require = createRequire(import.meta.url);
const lz4Library = require('lz4-napi') as Lz4Library;
const snappyLibrary = require('snappy') as SnappyLibrary;

const lz4Block = new Lz4Block(lz4Library);
const lz4 = new Lz4BodyCompression(lz4Block);
const snappy = new SnappyBodyCompression(snappyLibrary);

const HELLO = Buffer.from('hello hello hello hello hello'); // 29 bytes
const MiB = 1024 * 1024;

/** Counts calls into a library, to show that a refused body never reaches it. */
function spy<T extends object>(library: T): { library: T; calls: string[] } {
  const calls: string[] = [];
  const wrapped = new Proxy(library, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push(String(name));
        return value.apply(target, args);
      };
    },
  });
  return { library: wrapped, calls };
}

describe('LZ4 frame bodies (spec v4 §5)', () => {
  test('a body from the Python driver (liblz4) decompresses', () => {
    const body = hex(
      '0000001d', // decompressed length 29, big-endian
      '6e68656c6c6f2006005068656c6c6f', // LZ4 block: literals "hello ", match, literals "hello"
    );
    assert.deepEqual(lz4.decompress(body, 1024), HELLO);
  });

  test('our framing: big-endian length, then a block without the library size prefix', () => {
    const body = lz4.compress(HELLO); // small: compressed in TypeScript
    assert.equal(body.readUInt32BE(0), 29); // decompressed length, big-endian
    const prefixed = Buffer.concat([hex('1d000000'), body.subarray(4)]); // the library's prefix is little-endian
    assert.deepEqual(lz4Library.uncompressSync(prefixed), HELLO);
    assert.deepEqual(lz4.decompress(body, 29), HELLO);

    const large = Buffer.from('hello '.repeat(1000)); // above LZ4_COMPRESS_IN_TYPESCRIPT_UP_TO: the library
    const library = lz4Library.compressSync(large);
    assert.deepEqual(lz4.compress(large).subarray(4), library.subarray(4)); // the library's block as it is
    assert.deepEqual(lz4.decompress(lz4.compress(large), large.length), large);
  });

  test('an empty body is a zero length and a one-byte block, as Cassandra sends it', () => {
    assert.deepEqual(lz4.compress(Buffer.alloc(0)), hex('00000000', '00'));
    assert.deepEqual(lz4.decompress(hex('00000000', '00'), 0), Buffer.alloc(0));
  });

  test('a huge announced length is refused before the library is called', () => {
    const { library, calls } = spy(lz4Library);
    const guarded = new Lz4BodyCompression(new Lz4Block(library));
    for (const length of ['7fffffff', 'ffffffff', '01000001']) {
      // 2 GiB, 4 GiB (a negative [int] read unsigned) and 16 MiB + 1, each with a one-byte block.
      assert.throws(() => guarded.decompress(hex(length, '00'), 16 * MiB), DecompressedTooLargeError);
    }
    assert.deepEqual(calls, []);
    assert.throws(
      () => guarded.decompress(hex('0000001e', '6e68656c6c6f2006005068656c6c6f'), 29),
      (error: unknown) =>
        error instanceof DecompressedTooLargeError &&
        error.announcedLength === 30 &&
        error.maxDecompressedBytes === 29 &&
        /lz4 body announces 30 decompressed bytes, more than the maximum of 29/.test(error.message),
    );
  });

  test('the announced length must be the real one', () => {
    const block = '6e68656c6c6f2006005068656c6c6f';
    // Small announced lengths are decompressed in TypeScript, large ones by the library.
    assert.throws(() => lz4.decompress(hex('00000028', block), 1024), /holds 29 bytes, not the announced 40/);
    assert.throws(
      () => lz4.decompress(hex('00001000', block), 8192),
      /decompressed to 29 bytes but announced 4096/,
    );
    assert.throws(() => lz4.decompress(hex('00000014', block), 1024), CodecError);
  });

  test('truncated or corrupt bodies give a CodecError', () => {
    const good = lz4.compress(Buffer.from('abcdefgh'.repeat(100)));
    for (const bad of [
      Buffer.alloc(0), // no length
      hex('000000'), // 3 bytes of length
      hex('00000010'), // length but no block
      good.subarray(0, good.length - 3), // block cut short
      Buffer.concat([good, hex('0102')]), // bytes after the block
      hex('00000064', 'ffffff0102'), // literal length past the end of the input
      hex('00000064', '1f41ffff'), // match offset before the start of the output
    ]) {
      assert.throws(() => lz4.decompress(bad, 16 * MiB), CodecError, bad.toString('hex'));
    }
  });
});

describe('Snappy frame bodies (spec v4 §5)', () => {
  test('a body from the Python driver (python-snappy) decompresses', () => {
    const body = hex(
      '1d', // varint: decompressed length 29
      '1468656c6c6f20', // literal of 6 bytes: "hello "
      '5a0600', // copy of 23 bytes from offset 6: the rest of the text
    );
    assert.deepEqual(snappy.decompress(body, 1024), HELLO);
    assert.equal(readSnappyPreamble(body).length, 29);
  });

  test('our bodies are the library output, starting with the varint length', () => {
    const long = Buffer.alloc(300, 7);
    const body = snappy.compress(long);
    assert.deepEqual(body, snappyLibrary.compressSync(long));
    assert.deepEqual(body.subarray(0, 2), hex('ac02')); // 300 = 0b10_0101100: 0xac, 0x02
    assert.equal(readSnappyPreamble(body).length, 300);
    assert.deepEqual(snappy.decompress(body, 300), long);
    assert.deepEqual(snappy.compress(Buffer.alloc(0)), hex('00'));
    assert.deepEqual(snappy.decompress(hex('00'), 0), Buffer.alloc(0));
  });

  test('varint lengths', () => {
    for (const [bytes, length] of [
      ['00', 0],
      ['7f', 127],
      ['8001', 128],
      ['ffffffff0f', 0xffffffff],
    ] as const) {
      assert.equal(readSnappyPreamble(hex(bytes)).length, length, bytes);
    }
    for (const bad of ['', '80', 'ffffffff1f', 'ffffffffff01']) {
      assert.throws(() => readSnappyPreamble(hex(bad)).length, CodecError, bad);
    }
  });

  test('a huge announced length is refused before the library is called', () => {
    const { library, calls } = spy(snappyLibrary);
    const guarded = new SnappyBodyCompression(library);
    assert.throws(() => guarded.decompress(hex('ffffffff0f', '00'), 256 * MiB), DecompressedTooLargeError);
    assert.throws(() => guarded.decompress(hex('1d1468656c6c6f205a0600'), 28), DecompressedTooLargeError);
    assert.deepEqual(calls, []);
  });

  test('truncated or corrupt bodies give a CodecError', () => {
    for (const bad of [
      hex('1d1468656c6c6f205a06'), // copy cut short
      hex('1e1468656c6c6f205a0600'), // announces 30, holds 29
      hex('1d1468656c6c6f205a060000'), // a byte after the end
      hex('0affff'), // literal longer than the input
    ]) {
      assert.throws(() => snappy.decompress(bad, 1024), CodecError, bad.toString('hex'));
    }
  });
});

describe('raw LZ4 blocks (v5 segments)', () => {
  test('no size prefix; the length comes from outside and must match', () => {
    const block = lz4Block.compress(HELLO);
    assert.deepEqual(lz4Library.uncompressSync(Buffer.concat([hex('1d000000'), block])), HELLO);
    assert.deepEqual(lz4Block.decompress(block, 29), HELLO);
    assert.throws(() => lz4Block.decompress(block, 30), CodecError);
    assert.throws(() => lz4Block.decompress(block, 28), CodecError);
  });
});

describe('any compression', () => {
  for (const implementation of [lz4, snappy]) {
    test(`${implementation.algorithm}: round trips`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 5000 }), fc.nat({ max: 64 }), (bytes, repeat) => {
          const body = Buffer.concat(Array.from({ length: 1 + (repeat % 4) }, () => Buffer.from(bytes)));
          assert.deepEqual(implementation.decompress(implementation.compress(body), body.length), body);
        }),
        { numRuns: 200 },
      );
    });

    test(`${implementation.algorithm}: random or damaged input gives bytes or a CodecError, never more than the limit`, () => {
      const valid = implementation.compress(Buffer.from('the quick brown fox '.repeat(20)));
      fc.assert(
        fc.property(randomOrDamaged(valid), (input) => {
          try {
            const out = implementation.decompress(input, 4096);
            assert.ok(out.length <= 4096);
          } catch (error) {
            assert.ok(error instanceof CodecError, String(error));
          }
        }),
        { numRuns: 1000 },
      );
    });
  }
});

describe('which compressions work here', () => {
  const throwing: BodyCompression = {
    algorithm: 'snappy',
    compress: () => {
      throw new Error('binary not usable');
    },
    compressBound: (length) => length,
    compressInto: () => 0,
    decompress: () => Buffer.alloc(0),
  };
  const lossy: BodyCompression = {
    algorithm: 'lz4',
    compress: (body) => body,
    compressBound: (length) => length,
    compressInto: (source, from, out, at) => at + source.copy(out, at, from),
    decompress: (body) => body.subarray(1),
  };

  test('the real libraries load and work, lz4 first', () => {
    const loaded = loadCompression();
    assert.deepEqual(loaded.failures, []);
    assert.ok(loaded.lz4Block);
    assert.deepEqual(
      loaded.bodies.map((b) => b.algorithm),
      ['lz4', 'snappy'],
    );
    assert.deepEqual(workingCompressions(loaded.bodies), { working: ['lz4', 'snappy'], broken: [] });
    assert.deepEqual(COMPRESSION_ALGORITHMS, ['lz4', 'snappy']);
    assert.equal(isCompressionAlgorithm('lz4'), true);
    assert.equal(isCompressionAlgorithm('deflate'), false);
  });

  test('a library that cannot load is reported, and the TypeScript codec takes its place at every size', () => {
    const loaded = loadCompression((name) => {
      throw new Error(`Cannot find native binding for ${name}`);
    });
    assert.deepEqual(
      loaded.failures.map((f) => [f.algorithm, (f.error as Error).message]),
      [
        ['lz4', 'Cannot find native binding for lz4-napi'],
        ['snappy', 'Cannot find native binding for snappy'],
      ],
    );
    assert.deepEqual(workingCompressions(loaded.bodies).working, ['lz4', 'snappy']);
    // Bodies far above the sizes the libraries would take, compressible or not: what the TypeScript
    // codecs write, the real libraries read (and the reverse), so clients see the same wire format.
    const [lz4Body, snappyBody] = loaded.bodies as [BodyCompression, BodyCompression];
    const real = loadCompression();
    const [realLz4, realSnappy] = real.bodies as [BodyCompression, BodyCompression];
    const large = [
      Buffer.from('a row of text, '.repeat(20_000)),
      Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 2654435761) >>> 24)),
    ];
    for (const body of large) {
      for (const [fallback, library] of [
        [lz4Body, realLz4],
        [snappyBody, realSnappy],
      ] as const) {
        assert.deepEqual(library.decompress(fallback.compress(body), body.length), body, fallback.algorithm);
        assert.deepEqual(fallback.decompress(library.compress(body), body.length), body, fallback.algorithm);
      }
      const block = loaded.lz4Block.compress(body);
      assert.deepEqual(real.lz4Block.decompress(block, body.length), body);
      assert.deepEqual(loaded.lz4Block.decompress(real.lz4Block.compress(body), body.length), body);
    }
  });

  test('an implementation that loads but misbehaves is not advertised', () => {
    const check = workingCompressions([lossy, snappy, throwing]);
    assert.deepEqual(check.working, ['snappy']);
    assert.deepEqual(check.broken, [
      { algorithm: 'lz4', reason: 'a 1-byte probe came back different' },
      { algorithm: 'snappy', reason: 'a 0-byte probe failed: binary not usable' },
    ]);
    assert.deepEqual(workingCompressions([]), { working: [], broken: [] });
  });
});
