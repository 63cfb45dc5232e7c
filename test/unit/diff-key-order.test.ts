import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import cassandra from 'cassandra-driver';
import { IDENTITY_MAPPING } from '../../src/schema/compare.js';
import { parseCqlType } from '../../src/schema/cql-type.js';
import { type DiffEntry, diffLayout, entryComparator } from '../../src/validate/diff-entry.js';
import {
  compareTimeUuid,
  compareUuid,
  partitionKeyComparator,
  typeComparator,
  varintBytes,
} from '../../src/validate/key-order.js';
import { tableOf } from '../helpers/schema-builder.js';

const { Uuid, TimeUuid, LocalDate, LocalTime, BigDecimal, InetAddress, Tuple } = cassandra.types;

/** Asserts that `sorted` is strictly increasing under the type's comparator, pair by pair and overall. */
function assertOrder(typeText: string, sorted: readonly unknown[]) {
  const cmp = typeComparator(parseCqlType(typeText));
  for (let i = 0; i < sorted.length; i++) {
    for (let j = 0; j < sorted.length; j++) {
      const expected = Math.sign(i - j);
      assert.equal(Math.sign(cmp(sorted[i], sorted[j])), expected, `${typeText}: [${i}] vs [${j}]`);
    }
  }
}

describe('typeComparator (Cassandra 5.0 AbstractType order)', () => {
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
    const cmp = typeComparator(parseCqlType('frozen<addr>'), types);
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

describe('partitionKeyComparator (same token: serialized key bytes, unsigned)', () => {
  test('int keys: negative numbers sort after positive ones (two complement bytes)', () => {
    const cmp = partitionKeyComparator(tableOf({ k: 'pk int', v: 'text' }).partitionKey);
    assert.ok(cmp([1], [2]) < 0);
    assert.ok(cmp([-1], [1]) > 0);
  });
  test('composite keys: length-prefixed components', () => {
    const cmp = partitionKeyComparator(tableOf({ a: 'pk text', b: 'pk int', v: 'text' }).partitionKey);
    // 'b' (length 1) sorts before 'aa' (length 2) because the 2-byte length comes first.
    assert.ok(cmp(['b', 1], ['aa', 1]) < 0);
    assert.ok(cmp(['a', 1], ['a', 2]) < 0);
    assert.equal(cmp(['a', 1], ['a', 1]), 0);
  });
});

describe('entryComparator', () => {
  const schema = tableOf({ k: 'pk int', c1: 'ck text', c2: 'ck int desc', s: 'static int', v: 'text' });
  const layout = diffLayout(schema, schema, IDENTITY_MAPPING);
  const cmp = entryComparator(layout);
  const e = (token: bigint, k: number, clustering: unknown[] | undefined): DiffEntry => ({
    token,
    partition: [k],
    partitionId: `${token}|${k}`,
    clustering,
    cells: [],
  });
  test('token, then partition, then statics first, then clustering with DESC reversed', () => {
    const sorted = [
      e(-5n, 1, undefined),
      e(-5n, 1, ['a', 9]),
      e(-5n, 1, ['a', 2]),
      e(-5n, 1, ['b', 100]),
      e(-5n, 2, undefined),
      e(-5n, 2, ['a', 1]),
      e(7n, 0, ['a', 1]),
    ];
    for (let i = 0; i < sorted.length; i++)
      for (let j = 0; j < sorted.length; j++)
        assert.equal(Math.sign(cmp(sorted[i]!, sorted[j]!)), Math.sign(i - j), `${i} vs ${j}`);
  });
});
