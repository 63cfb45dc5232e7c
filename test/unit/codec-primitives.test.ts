import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CodecError, Reader, UNSET, Writer } from '../../src/proxy/codec/index.js';

/** Concatenates hex fields (one per line in the vectors, each with a comment). */
const hex = (...fields: string[]): Buffer => Buffer.from(fields.join(''), 'hex');
const utf8 = (s: string): string => Buffer.from(s, 'utf8').toString('hex');

describe('primitives: byte vectors (spec v4 §3)', () => {
  test('int, long, short, byte', () => {
    const bytes = hex(
      'fffffffe', // [int] -2
      '8000000000000000', // [long] -2^63
      'ffff', // [short] 65535 (unsigned)
      '7f', // [byte] 127
    );
    const r = new Reader(bytes);
    assert.equal(r.readInt(), -2);
    assert.equal(r.readLong(), -(2n ** 63n));
    assert.equal(r.readShort(), 0xffff);
    assert.equal(r.readByte(), 0x7f);
    assert.equal(r.remaining, 0);
    const w = new Writer(1)
      .writeInt(-2)
      .writeLong(-(2n ** 63n))
      .writeShort(0xffff)
      .writeByte(0x7f);
    assert.deepEqual(w.toBuffer(), bytes);
  });

  test('string and long string (UTF-8 byte lengths)', () => {
    const bytes = hex(
      '0003', // [string] length 3 bytes
      utf8('hé'), // "hé" (é is 2 bytes)
      '00000004', // [long string] length 4
      utf8('USE '),
    );
    const r = new Reader(bytes);
    assert.equal(r.readString(), 'hé');
    assert.equal(r.readLongString(), 'USE ');
    assert.deepEqual(new Writer().writeString('hé').writeLongString('USE ').toBuffer(), bytes);
  });

  test('uuid and string list', () => {
    const bytes = hex(
      '00112233445566778899aabbccddeeff', // [uuid]
      '0002', // [string list] 2 items
      '0001',
      utf8('a'),
      '0000', // empty string
    );
    const r = new Reader(bytes);
    assert.equal(r.readUuid(), '00112233-4455-6677-8899-aabbccddeeff');
    assert.deepEqual(r.readStringList(), ['a', '']);
    const w = new Writer().writeUuid('00112233-4455-6677-8899-aabbccddeeff').writeStringList(['a', '']);
    assert.deepEqual(w.toBuffer(), bytes);
  });

  test('bytes, short bytes; negative [bytes] length is null', () => {
    const bytes = hex(
      '00000002', // [bytes] length 2
      'cafe',
      'ffffffff', // [bytes] null
      'fffffff0', // [bytes] any negative length is null
      '0001', // [short bytes] length 1
      '01',
    );
    const r = new Reader(bytes);
    assert.deepEqual(r.readBytes(), Buffer.from('cafe', 'hex'));
    assert.equal(r.readBytes(), null);
    assert.equal(r.readBytes(), null);
    assert.deepEqual(r.readShortBytes(), Buffer.from([1]));
  });

  test('value: v4 has null (-1) and unset (-2); v3 reads any negative as null', () => {
    const bytes = hex(
      'ffffffff', // -1: null
      'fffffffe', // -2: unset (v4) / null (v3)
    );
    const v4 = new Reader(bytes);
    assert.equal(v4.readValue(4), null);
    assert.equal(v4.readValue(4), UNSET);
    const v3 = new Reader(bytes);
    assert.equal(v3.readValue(3), null);
    assert.equal(v3.readValue(3), null);
    assert.throws(() => new Reader(hex('fffffffd')).readValue(4), CodecError); // -3 is invalid in v4
    assert.deepEqual(new Writer().writeValue(null, 4).writeValue(UNSET, 4).toBuffer(), bytes);
    assert.throws(() => new Writer().writeValue(UNSET, 3), CodecError);
  });

  test('inet: IPv4 and IPv6 with port', () => {
    const bytes = hex(
      '04', // address size 4
      '7f000001', // 127.0.0.1
      '00002352', // [int] port 9042
      '10', // address size 16
      '20010db8000000000000000000000001', // 2001:db8::1
      '00002352', // port 9042
    );
    const r = new Reader(bytes);
    assert.deepEqual(r.readInet(), { address: '127.0.0.1', port: 9042 });
    assert.deepEqual(r.readInet(), { address: '2001:db8::1', port: 9042 });
    const w = new Writer()
      .writeInet({ address: '127.0.0.1', port: 9042 })
      .writeInet({ address: '2001:db8::1', port: 9042 });
    assert.deepEqual(w.toBuffer(), bytes);
  });

  test('inet: IPv6 text forms', () => {
    for (const [text, canonical] of [
      ['::', '::'],
      ['::1', '::1'],
      ['fe80::', 'fe80::'],
      ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
      ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
      ['::ffff:10.0.0.1', '::ffff:a00:1'],
      ['1:0:2:3:4:5:6:7', '1:0:2:3:4:5:6:7'],
    ] as const) {
      const w = new Writer().writeInetAddress(text);
      assert.equal(new Reader(w.toBuffer()).readInetAddress(), canonical, text);
    }
    for (const bad of ['1.2.3', '256.1.1.1', '1::2::3', '1:2:3:4:5:6:7:8:9', 'x::', 'localhost']) {
      assert.throws(() => new Writer().writeInetAddress(bad), CodecError, bad);
    }
    assert.throws(() => new Reader(hex('05', '0102030405')).readInetAddress(), CodecError);
  });

  test('consistency, string map, string multimap, bytes map', () => {
    const bytes = hex(
      '0006', // [consistency] LOCAL_QUORUM
      '0001', // [string map] 1 entry
      '0001',
      utf8('k'),
      '0001',
      utf8('v'),
      '0001', // [string multimap] 1 entry
      '0001',
      utf8('k'),
      '0002', // [string list] of 2
      '0001',
      utf8('a'),
      '0001',
      utf8('b'),
      '0002', // [bytes map] 2 entries
      '0001',
      utf8('x'),
      '00000001', // [bytes] length 1
      'ff',
      '0001',
      utf8('y'),
      'ffffffff', // [bytes] null
    );
    const r = new Reader(bytes);
    assert.equal(r.readConsistency(), 6);
    assert.deepEqual(r.readStringMap(), new Map([['k', 'v']]));
    assert.deepEqual(r.readStringMultimap(), new Map([['k', ['a', 'b']]]));
    assert.deepEqual(
      r.readBytesMap(),
      new Map([
        ['x', Buffer.from([0xff])],
        ['y', null],
      ]),
    );
    const w = new Writer()
      .writeConsistency(6)
      .writeStringMap(new Map([['k', 'v']]))
      .writeStringMultimap(new Map([['k', ['a', 'b']]]))
      .writeBytesMap(
        new Map([
          ['x', Buffer.from([0xff])],
          ['y', null],
        ]),
      );
    assert.deepEqual(w.toBuffer(), bytes);
  });
});

describe('primitives: malformed input', () => {
  test('every read past the end throws a CodecError with field and offset', () => {
    const r = new Reader(hex('0005', utf8('abc')));
    assert.throws(
      () => r.readString('query string'),
      (error: unknown) =>
        error instanceof CodecError &&
        error.field === 'query string' &&
        error.offset === 2 &&
        /need 5 bytes, 3 left.*query string.*offset 2/.test(error.message),
    );
  });

  test('negative long string length', () => {
    assert.throws(() => new Reader(hex('ffffffff')).readLongString(), CodecError);
  });

  test('reader honours its end bound', () => {
    const r = new Reader(hex('00000001', '00000002'), 0, 4);
    assert.equal(r.readInt(), 1);
    assert.throws(() => r.readInt(), CodecError);
  });

  test('element counts are checked against what is left', () => {
    assert.throws(() => new Reader(hex('7fffffff', '00')).readCount('rows', 4), CodecError);
    assert.throws(() => new Reader(hex('ffffffff')).readCount('rows', 4), CodecError);
    assert.equal(new Reader(hex('00000001', '00000000')).readCount('rows', 4), 1);
  });

  test('writer range checks throw CodecError', () => {
    assert.throws(() => new Writer().writeShort(0x10000), CodecError);
    assert.throws(() => new Writer().writeByte(-1), CodecError);
    assert.throws(() => new Writer().writeInt(2 ** 31), CodecError);
    assert.throws(() => new Writer().writeLong(2n ** 63n), CodecError);
    assert.throws(() => new Writer().writeString('x'.repeat(0x10000)), CodecError);
    assert.throws(() => new Writer().writeUuid('not-a-uuid'), CodecError);
  });

  test('writer grows past its initial size', () => {
    const w = new Writer(1);
    for (let i = 0; i < 1000; i++) w.writeInt(i);
    assert.equal(w.length, 4000);
    assert.equal(w.toBuffer().readInt32BE(3996), 999);
  });
});
