import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import cassandra from 'cassandra-driver';
import { collectionElementCount } from '../../src/guardrail/row-measure.js';
import type { CqlType } from '../../src/schema/cql-type.js';
import { cqlValueModel } from '../../src/schema/cql-value/index.js';
import type { UserTypeSchema } from '../../src/schema/table-schema.js';

/** The size the guardrail measures: the CQL value model's. */
const estimateValueSize = (type: CqlType, value: unknown, userTypes: ReadonlyMap<string, UserTypeSchema>) =>
  value === null || value === undefined ? 0 : cqlValueModel(type, userTypes).estimateSize(value);

import { parseCqlType } from '../../src/schema/cql-type.js';

const { types } = cassandra;
// The driver's own encoder, with the decoding options the jobs' clients use: what it writes is the
// native protocol's serialization, which the estimate must match byte for byte.
const { Encoder } = cassandra as unknown as {
  Encoder: new (version: number, options: object) => { encode(value: unknown, type: string): Buffer };
};
const encoder = new Encoder(4, {
  encoding: { map: Map, set: Set, useBigIntAsLong: true, useBigIntAsVarint: true },
});
const NO_UDTS = new Map<string, UserTypeSchema>();

describe('estimateValueSize equals the serialized size the driver writes', () => {
  // The driver's type parser has no frozen<>: it is given the same type without it (third item).
  const cases: [type: string, value: unknown, driverType?: string][] = [
    ['text', 'héllo wörld'],
    ['ascii', 'abc'],
    ['blob', Buffer.alloc(1234)],
    ['boolean', true],
    ['tinyint', 7],
    ['smallint', 300],
    ['int', 1 << 20],
    ['bigint', 2n ** 40n],
    ['float', 1.5],
    ['double', 1.5],
    ['timestamp', new Date(0)],
    ['date', types.LocalDate.fromString('2024-01-31')],
    ['time', types.LocalTime.fromString('12:34:56.789')],
    ['uuid', types.Uuid.random()],
    ['timeuuid', types.TimeUuid.now()],
    ['inet', types.InetAddress.fromString('10.0.0.1')],
    ['inet', types.InetAddress.fromString('::1')],
    ['varint', 0n],
    ['varint', 127n],
    ['varint', 128n],
    ['varint', -128n],
    ['varint', -129n],
    ['varint', 123456789012345678901234567890n],
    ['decimal', types.BigDecimal.fromString('-12345.6789')],
    ['duration', new types.Duration(1, 20, types.Long.fromString('3000000000'))],
    ['list<int>', [1, 2, 3]],
    ['list<text>', ['a', 'bb', '']],
    ['set<text>', new Set(['x', 'yy'])],
    [
      'map<text, bigint>',
      new Map([
        ['k', 1n],
        ['kk', 2n],
      ]),
    ],
    ['map<int, frozen<list<text>>>', new Map([[1, ['a', 'b']]]), 'map<int, list<text>>'],
    ['frozen<tuple<text, int>>', types.Tuple.fromArray(['x', 5]), 'tuple<text, int>'],
    ['frozen<tuple<text, int>>', types.Tuple.fromArray(['x', null]), 'tuple<text, int>'],
    // Fixed-size elements are packed; variable-size ones each carry a vint length.
    ['vector<float, 3>', new types.Vector([1, 2, 3], 'float')],
    ['vector<text, 2>', new types.Vector(['ab', 'c'], 'text')],
  ];
  for (const [i, [typeText, value, driverType]] of cases.entries()) {
    test(`${typeText} (case ${i + 1})`, () => {
      const encoded = encoder.encode(value, driverType ?? typeText);
      assert.equal(estimateValueSize(parseCqlType(typeText), value, NO_UDTS), encoded.length);
    });
  }

  test('a UDT: each field with its [int] length, a missing field as null', () => {
    const udts = new Map<string, UserTypeSchema>([
      [
        'address',
        {
          keyspace: 'ks',
          name: 'address',
          fields: [
            { name: 'street', type: parseCqlType('text'), typeText: 'text' },
            { name: 'zip', type: parseCqlType('int'), typeText: 'int' },
            { name: 'tags', type: parseCqlType('frozen<set<text>>'), typeText: 'frozen<set<text>>' },
          ],
        },
      ],
    ]);
    // street: 4 + 4; zip: 4 + 4; tags missing: 4 (null).
    assert.equal(estimateValueSize(parseCqlType('frozen<address>'), { street: 'Main', zip: 1 }, udts), 20);
  });

  test('an empty collection is its element count alone', () => {
    assert.equal(estimateValueSize(parseCqlType('list<int>'), [], NO_UDTS), 4);
  });

  test('null and undefined take nothing', () => {
    assert.equal(estimateValueSize(parseCqlType('text'), null, NO_UDTS), 0);
    assert.equal(estimateValueSize(parseCqlType('list<int>'), undefined, NO_UDTS), 0);
  });

  test('a vector of floats is packed: 4 bytes per dimension', () => {
    assert.equal(
      estimateValueSize(parseCqlType('vector<float, 3>'), new Float32Array([1, 2, 3]), NO_UDTS),
      12,
    );
  });
});

describe('collectionElementCount', () => {
  const cases: [type: string, value: unknown, expected: number | undefined][] = [
    ['list<int>', [1, 2, 3], 3],
    ['frozen<list<int>>', [1], 1],
    ['set<text>', new Set(['a', 'b']), 2],
    ['map<text, int>', new Map([['a', 1]]), 1],
    ['list<int>', null, 0],
    ['text', 'abc', undefined],
    ['frozen<tuple<int, int>>', types.Tuple.fromArray([1, 2]), undefined],
  ];
  for (const [typeText, value, expected] of cases) {
    test(`${typeText} → ${expected}`, () => {
      assert.equal(collectionElementCount(parseCqlType(typeText), value), expected);
    });
  }
});
