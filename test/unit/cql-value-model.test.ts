import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import cassandra from 'cassandra-driver';
import fc from 'fast-check';
import '../../src/connect/driver-patches.js';
import { formatCqlType } from '../../src/schema/cql-type.js';
import { cqlValueModel } from '../../src/schema/cql-value/index.js';
import { serializerOf } from '../../src/schema/cql-value/serialize.js';
import { driverTypeInfo, type TypeCase, typeArb, valueArb } from '../helpers/cql-value-arbitraries.js';

/**
 * Properties of the value model over random values of random nested types: equality is equality of
 * serialized bytes, the bytes decode (with the driver's own decoder) back to an equal value, the
 * size estimate is the serialized size, and the order is a total order that agrees with equality.
 */

const Encoder = (cassandra as unknown as { Encoder: new (version: number, options: object) => Decoder })
  .Encoder;
interface Decoder {
  decode(bytes: Buffer, type: object): unknown;
}
const decoder = new Encoder(4, {
  encoding: { map: Map, set: Set, useBigIntAsLong: true, useBigIntAsVarint: true },
});

const RUNS = Number(process.env.ZDM_PROPERTY_RUNS ?? 300);

/** A random type with several values of it (independent, so some are equal and some not). */
const caseWithValues = (count: number) =>
  typeArb(2).chain((c) =>
    fc.tuple(
      fc.constant(c),
      fc.array(fc.option(valueArb(c.type, c.userTypes), { nil: null, freq: 8 }), {
        minLength: count,
        maxLength: count,
      }),
    ),
  );

const label = (c: TypeCase) => formatCqlType(c.type);

describe('CQL value model (property tests)', () => {
  test('equals ⇔ equal serialized bytes', () => {
    fc.assert(
      fc.property(caseWithValues(2), ([c, [a, b]]) => {
        const model = cqlValueModel(c.type, c.userTypes);
        const serialize = serializerOf(c.type, c.userTypes);
        const bytes = (v: unknown) => (v === null ? 'null' : serialize(v).toString('hex'));
        assert.equal(model.equals(a, b), bytes(a) === bytes(b), label(c));
        assert.equal(model.equals(a, a), true, label(c));
      }),
      { numRuns: RUNS },
    );
  });

  test("serialized bytes decode, with the driver's decoder, to an equal value; the size is the bytes' length", () => {
    fc.assert(
      fc.property(caseWithValues(1), ([c, [a]]) => {
        if (a === null) return;
        const model = cqlValueModel(c.type, c.userTypes);
        const bytes = serializerOf(c.type, c.userTypes)(a);
        const decoded = decoder.decode(bytes, driverTypeInfo(c.type, c.userTypes));
        assert.ok(model.equals(a, decoded), `${label(c)}: ${bytes.toString('hex')}`);
        assert.equal(model.estimateSize(a), bytes.length, label(c));
        // JSON-safe: survives a round trip through JSON text unchanged.
        const json = model.toJson(a);
        assert.deepEqual(JSON.parse(JSON.stringify(json)), json, label(c));
      }),
      { numRuns: RUNS },
    );
  });

  test('compare is a total order consistent with equals', () => {
    fc.assert(
      fc.property(caseWithValues(4), ([c, values]) => {
        const model = cqlValueModel(c.type, c.userTypes);
        for (const a of values) {
          for (const b of values) {
            const ab = Math.sign(model.compare(a, b));
            assert.equal(ab, -Math.sign(model.compare(b, a)) || 0, `antisymmetry, ${label(c)}`);
            assert.equal(ab === 0, model.equals(a, b), `compare 0 ⇔ equals, ${label(c)}`);
          }
        }
        const sorted = [...values].sort(model.compare);
        for (let i = 0; i < sorted.length; i++)
          for (let j = i + 1; j < sorted.length; j++)
            assert.ok(model.compare(sorted[i], sorted[j]) <= 0, `transitivity, ${label(c)}`);
      }),
      { numRuns: RUNS },
    );
  });

  test('sets and maps are equal whatever order they were built in', () => {
    fc.assert(
      fc.property(
        typeArb(1, { ordered: true }).chain((c) =>
          fc.tuple(fc.constant(c), fc.array(valueArb(c.type, c.userTypes), { maxLength: 5 })),
        ),
        ([c, generated]) => {
          // Distinct under the model (a JS Set or Map would also merge 0 and -0, which CQL keeps apart).
          const element = cqlValueModel(c.type, c.userTypes);
          const items = generated.filter(
            (x, i) => generated.findIndex((y) => element.equals(x, y) || new Set([x]).has(y)) === i,
          );
          const set = cqlValueModel({ kind: 'set', element: c.type, frozen: true }, c.userTypes);
          assert.ok(set.equals(items, [...items].reverse()), label(c));
          const map = cqlValueModel({ kind: 'map', key: c.type, value: c.type, frozen: true }, c.userTypes);
          const entries = items.map((x) => [x, x] as const);
          assert.ok(map.equals(new Map(entries), new Map([...entries].reverse())), label(c));
        },
      ),
      { numRuns: RUNS },
    );
  });
});

test('a vector given as a Float32Array (which the driver counts as a Vector) is read as its items', () => {
  const model = cqlValueModel(
    { kind: 'vector', element: { kind: 'native', name: 'float' }, dimension: 3 },
    new Map(),
  );
  const typed = new Float32Array([1, 2, 3]);
  assert.equal(model.estimateSize(typed), 12);
  assert.ok(model.equals(typed, new cassandra.types.Vector(new Float32Array([1, 2, 3]), 'float')));
  assert.deepEqual(model.toJson(typed), [1, 2, 3]);
});
