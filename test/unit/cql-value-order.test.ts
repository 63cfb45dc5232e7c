import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import cassandra from 'cassandra-driver';
import { parseCqlType } from '../../src/schema/cql-type.js';
import { cqlValueModel } from '../../src/schema/cql-value/index.js';
import { varintBytes } from '../../src/schema/cql-value/native-bytes.js';
import { compareTimeUuid, compareUuid } from '../../src/schema/cql-value/order.js';

const { Uuid, TimeUuid, LocalDate, LocalTime, BigDecimal, InetAddress, Tuple } = cassandra.types;

const model = (typeText: string) => cqlValueModel(parseCqlType(typeText), new Map());

/** Asserts that `sorted` is strictly increasing under the type's comparator, pair by pair and overall. */
function assertOrder(typeText: string, sorted: readonly unknown[]) {
  const cmp = model(typeText).compare;
  for (let i = 0; i < sorted.length; i++) {
    for (let j = 0; j < sorted.length; j++) {
      const expected = Math.sign(i - j);
      assert.equal(Math.sign(cmp(sorted[i], sorted[j])), expected, `${typeText}: [${i}] vs [${j}]`);
    }
  }
}

describe('order (Cassandra 5.0 AbstractType.compare)', () => {
  const cases: [string, unknown[]][] = [
    ['int', [-2147483648, -1, 0, 1, 2147483647]],
    ['smallint', [-32768, -1, 0, 7]],
    ['tinyint', [-128, 0, 127]],
    ['bigint', [-(2n ** 63n), -1n, 0n, 1n, 2n ** 63n - 1n]],
    ['varint', [-(10n ** 30n), -1n, 0n, 10n ** 30n]],
    ['double', [Number.NEGATIVE_INFINITY, -1.5, -0, 0, 1e-300, 2.5, Number.POSITIVE_INFINITY, Number.NaN]],
    ['float', [-3.5, -0, 0, 1.25]],
    ['boolean', [false, true]],
    // UTF8Type compares bytes: U+FFFD (EF BF BD) sorts before U+1F600 (F0 9F 98 80), unlike UTF-16 order.
    ['text', ['', 'A', 'B', 'a', 'ab', 'é', '\uFFFD', '😀']],
    ['ascii', ['', 'A', 'Z', 'a']],
    [
      'blob',
      [
        Buffer.alloc(0),
        Buffer.from([0]),
        Buffer.from([0, 0]),
        Buffer.from([1]),
        Buffer.from([0x7f]),
        Buffer.from([0x80]),
        Buffer.from([0xff]),
      ],
    ],
    ['timestamp', [new Date(-1000), new Date(0), new Date(1700000000000)]],
    ['date', [new LocalDate(1969, 12, 31), new LocalDate(1970, 1, 1), new LocalDate(2024, 2, 29)]],
    [
      'time',
      [
        LocalTime.fromString('00:00:00'),
        LocalTime.fromString('12:30:00.000000001'),
        LocalTime.fromString('23:59:59'),
      ],
    ],
    [
      'decimal',
      [
        BigDecimal.fromString('-1.5'),
        BigDecimal.fromString('0'),
        BigDecimal.fromString('0.01'),
        BigDecimal.fromString('10'),
      ],
    ],
    // InetAddressType compares bytes: the 16-byte ::1 (00...01) sorts before 4-byte 10.0.0.1 (0a...).
    [
      'inet',
      [
        InetAddress.fromString('::1'),
        InetAddress.fromString('10.0.0.1'),
        InetAddress.fromString('10.0.0.2'),
        InetAddress.fromString('192.168.0.1'),
      ],
    ],
    ['frozen<list<int>>', [[], [-1], [1], [1, 2], [2]]],
    ['frozen<set<text>>', [new Set(), new Set(['a']), new Set(['a', 'b']), new Set(['b'])]],
    ['frozen<map<int, text>>', [new Map(), new Map([[1, 'a']]), new Map([[1, 'b']]), new Map([[2, 'a']])]],
    ['frozen<tuple<int, text>>', [new Tuple(1, 'a'), new Tuple(1, 'b'), new Tuple(2, 'a')]],
    // A null element sorts before any value, at any position.
    [
      'frozen<tuple<int, text>>',
      [new Tuple(null, null), new Tuple(null, 'a'), new Tuple(1, null), new Tuple(1, '')],
    ],
    // Same value, different scale: apart, by scale after value (Cassandra alone calls them equal).
    [
      'decimal',
      [
        BigDecimal.fromString('-10'),
        BigDecimal.fromString('1'),
        BigDecimal.fromString('1.0'),
        BigDecimal.fromString('1.00'),
        BigDecimal.fromString('1.01'),
      ],
    ],
    ['varint', [-(10n ** 40n), -1n, 0n, 10n ** 40n]],
  ];
  for (const [type, values] of cases) test(type, () => assertOrder(type, values));

  test('uuid: by version, then time for v1, then unsigned bytes', () => {
    assertOrder('uuid', [
      Uuid.fromString('00000000-0000-0000-0000-000000000000'),
      Uuid.fromString('ffffffff-0000-0000-0000-000000000000'),
      // v1 with an earlier time in time_hi though time_low is larger
      Uuid.fromString('ffffffff-0000-1000-8000-000000000000'),
      Uuid.fromString('00000000-0000-1001-8000-000000000000'),
      Uuid.fromString('00000000-0000-4000-8000-000000000000'),
      Uuid.fromString('00000000-0000-4000-8000-000000000001'),
      Uuid.fromString('00000000-0000-4000-ff00-000000000000'),
      Uuid.fromString('ffffffff-ffff-4fff-8000-000000000000'),
    ]);
  });

  test('timeuuid: by timestamp, then signed least significant bytes', () => {
    const at = (ms: number, node: string) =>
      TimeUuid.fromDate(new Date(ms), 0, Buffer.from(node, 'hex'), Buffer.from('0000', 'hex'));
    const a = at(1000, '000000000000');
    const b = at(1000, '7f0000000000');
    const c = at(1000, '800000000000');
    // 0x80 is -128 as a signed byte: it sorts before 0x00 and 0x7f.
    assert.ok(compareTimeUuid(c.getBuffer(), a.getBuffer()) < 0);
    assert.ok(compareTimeUuid(a.getBuffer(), b.getBuffer()) < 0);
    assert.ok(compareTimeUuid(at(999, 'ffffffffffff').getBuffer(), a.getBuffer()) < 0);
    assert.ok(compareTimeUuid(a.getBuffer(), at(1001, '000000000000').getBuffer()) < 0);
    // The uuid type orders the same two v1 values by unsigned bytes instead.
    assert.ok(compareUuid(c.getBuffer(), a.getBuffer()) > 0);
  });

  test('udt: field by field, absent fields first', () => {
    const types = new Map([
      [
        'addr',
        {
          keyspace: 'ks',
          name: 'addr',
          fields: [
            { name: 'city', type: parseCqlType('text'), typeText: 'text' },
            { name: 'zip', type: parseCqlType('int'), typeText: 'int' },
          ],
        },
      ],
    ]);
    const cmp = cqlValueModel(parseCqlType('frozen<addr>'), types).compare;
    assert.ok(cmp({ city: 'a', zip: null }, { city: 'a', zip: 1 }) < 0);
    assert.ok(cmp({ city: 'a', zip: 9 }, { city: 'b', zip: 1 }) < 0);
    assert.equal(cmp({ city: 'a', zip: 1 }, { city: 'a', zip: 1 }), 0);
  });
});

describe('varintBytes', () => {
  const cases: [bigint, string][] = [
    [0n, '00'],
    [1n, '01'],
    [127n, '7f'],
    [128n, '0080'],
    [-1n, 'ff'],
    [-128n, '80'],
    [-129n, 'ff7f'],
    [65535n, '00ffff'],
  ];
  for (const [n, hex] of cases) test(`${n}`, () => assert.equal(varintBytes(n).toString('hex'), hex));
});

describe('equality (equal serialized bytes)', () => {
  const cases: [string, unknown, unknown, boolean][] = [
    ['double', Number.NaN, Number.NaN, true],
    ['double', 0, -0, false],
    ['float', Number.NaN, Number.NaN, true],
    ['decimal', BigDecimal.fromString('1.0'), BigDecimal.fromString('1.00'), false],
    ['decimal', BigDecimal.fromString('1.10'), BigDecimal.fromString('1.10'), true],
    ['frozen<set<text>>', new Set(['b', 'a']), new Set(['a', 'b']), true],
    [
      'frozen<map<int, text>>',
      new Map([
        [2, 'x'],
        [1, 'y'],
      ]),
      new Map([
        [1, 'y'],
        [2, 'x'],
      ]),
      true,
    ],
    ['frozen<map<int, text>>', new Map([[1, 'x']]), new Map([[1, 'y']]), false],
    ['frozen<tuple<int, text>>', new Tuple(1, null), new Tuple(1, null), true],
    ['frozen<tuple<int, text>>', new Tuple(1, null), new Tuple(1, ''), false],
    [
      'frozen<tuple<timestamp, blob>>',
      new Tuple(new Date(1000), Buffer.from([1])),
      new Tuple(new Date(1001), Buffer.from([1])),
      false,
    ],
    [
      'frozen<tuple<timestamp, blob>>',
      new Tuple(new Date(1000), Buffer.from([1])),
      new Tuple(new Date(1000), Buffer.from([2])),
      false,
    ],
    ['frozen<list<text>>', ['a,b'], ['a', 'b'], false],
    ['frozen<list<text>>', [], null, false],
    ['text', null, undefined, true],
    ['text', '', null, false],
    ['bigint', 5n, 5n, true],
    [
      'uuid',
      Uuid.fromString('550e8400-e29b-41d4-a716-446655440000'),
      Uuid.fromString('550e8400-e29b-41d4-a716-446655440000'),
      true,
    ],
  ];
  for (const [type, a, b, expected] of cases) {
    const show = (v: unknown) => JSON.stringify(model(type).toJson(v));
    test(`${type}: ${show(a)} vs ${show(b)}`, () => {
      assert.equal(model(type).equals(a, b), expected);
      assert.equal(model(type).equals(b, a), expected);
    });
  }
  test('frozen sets inside a UDT, built in different orders, are equal', () => {
    const types = new Map([
      [
        'addr',
        {
          keyspace: 'ks',
          name: 'addr',
          fields: [{ name: 'tags', type: parseCqlType('frozen<set<text>>'), typeText: 'frozen<set<text>>' }],
        },
      ],
    ]);
    const m = cqlValueModel(parseCqlType('frozen<addr>'), types);
    assert.ok(m.equals({ tags: new Set(['z', 'a']) }, { tags: new Set(['a', 'z']) }));
    assert.ok(!m.equals({ tags: new Set(['z']) }, { tags: new Set(['a', 'z']) }));
  });
});

describe('JSON form', () => {
  const cases: [string, unknown, unknown][] = [
    ['blob', Buffer.from([0, 255]), '0x00ff'],
    ['bigint', -(2n ** 63n), '-9223372036854775808'],
    ['varint', 10n ** 30n, '1000000000000000000000000000000'],
    ['decimal', BigDecimal.fromString('-0.050'), '-0.050'],
    ['decimal', new BigDecimal(12, -3), '12E+3'],
    ['double', Number.NaN, 'NaN'],
    ['float', Number.NEGATIVE_INFINITY, '-Infinity'],
    ['double', -0, '-0'],
    ['double', 1.5, 1.5],
    ['uuid', Uuid.fromString('550e8400-e29b-41d4-a716-446655440000'), '550e8400-e29b-41d4-a716-446655440000'],
    ['inet', InetAddress.fromString('10.0.0.1'), '10.0.0.1'],
    ['timestamp', new Date(0), '1970-01-01T00:00:00.000Z'],
    ['date', new LocalDate(2024, 2, 29), '2024-02-29'],
    ['time', LocalTime.fromString('12:30:00.000000001'), '12:30:00.000000001'],
    ['frozen<tuple<int, text>>', new Tuple(1, null), [1, null]],
    ['frozen<map<int, frozen<set<blob>>>>', new Map([[1, new Set([Buffer.from([1])])]]), [[1, ['0x01']]]],
    ['text', null, null],
  ];
  for (const [type, value, expected] of cases) {
    test(`${type}: ${JSON.stringify(expected)}`, () => assert.deepEqual(model(type).toJson(value), expected));
  }
});

describe('size estimate', () => {
  const cases: [string, unknown, number][] = [
    ['text', 'é', 2],
    ['int', 1, 4],
    ['frozen<list<int>>', [1, 2], 4 + 2 * (4 + 4)],
    ['frozen<tuple<int, text>>', new Tuple(1, null), 4 + 4 + 4],
    ['text', null, 0],
  ];
  for (const [type, value, expected] of cases) {
    test(`${type}: ${expected} bytes`, () => assert.equal(model(type).estimateSize(value), expected));
  }
});
