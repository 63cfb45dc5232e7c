import type { CqlType } from '../cql-type.js';
import type { UserTypeSchema } from '../table-schema.js';
import { canonicalEntries, canonicalItems } from './canonical.js';
import {
  booleanOf,
  bytesOf,
  decimalOf,
  entriesOf,
  integerOf,
  isNull,
  itemsOf,
  numberOf,
  textOf,
  timestampMillisOf,
  tupleItemsOf,
  udtObjectOf,
  vectorItemsOf,
} from './driver-values.js';
import { NATIVE_BYTES } from './native-bytes.js';
import { orderOf } from './order.js';
import { userTypeFields } from './user-type-fields.js';

/**
 * Cassandra's equality of values: equal serialized bytes (serialize.ts), decided here without
 * building the bytes, since the diff compares every cell it reads. So NaN equals NaN (one encoding),
 * -0.0 differs from 0.0, 1.0 differs from 1.00 (different scales), a float is compared at float
 * precision, and sets and maps are compared in Cassandra's element order, whatever order the value
 * was built in. Null equals only null (undefined counts as null).
 */

export type Equals = (a: unknown, b: unknown) => boolean;

const byBytes =
  (serialize: (v: unknown) => Buffer): Equals =>
  (a, b) =>
    serialize(a).equals(serialize(b));

const NATIVE_EQUALITY: Readonly<Record<string, Equals>> = {
  ascii: (a, b) => textOf(a, 'ascii') === textOf(b, 'ascii'),
  text: (a, b) => textOf(a, 'text') === textOf(b, 'text'),
  bigint: (a, b) => integerOf(a, 'bigint') === integerOf(b, 'bigint'),
  counter: (a, b) => integerOf(a, 'counter') === integerOf(b, 'counter'),
  varint: (a, b) => integerOf(a, 'varint') === integerOf(b, 'varint'),
  // Two's complement has one zero: -0 and 0 are the same int.
  int: (a, b) => numberOf(a, 'int') === numberOf(b, 'int'),
  smallint: (a, b) => numberOf(a, 'smallint') === numberOf(b, 'smallint'),
  tinyint: (a, b) => numberOf(a, 'tinyint') === numberOf(b, 'tinyint'),
  float: (a, b) => Object.is(Math.fround(numberOf(a, 'float')), Math.fround(numberOf(b, 'float'))),
  double: (a, b) => Object.is(numberOf(a, 'double'), numberOf(b, 'double')),
  boolean: (a, b) => booleanOf(a) === booleanOf(b),
  blob: (a, b) => bytesOf(a, 'blob').equals(bytesOf(b, 'blob')),
  timestamp: (a, b) => timestampMillisOf(a) === timestampMillisOf(b),
  decimal: (a, b) => {
    const x = decimalOf(a);
    const y = decimalOf(b);
    return x.scale === y.scale && x.unscaled === y.unscaled;
  },
};

function sameSequence(a: readonly unknown[], b: readonly unknown[], each: (i: number) => Equals): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!each(i)(a[i], b[i])) return false;
  return true;
}

function nonNullEquality(type: CqlType, userTypes: ReadonlyMap<string, UserTypeSchema>): Equals {
  switch (type.kind) {
    case 'native': {
      const serialize = NATIVE_BYTES[type.name];
      if (serialize === undefined) throw new TypeError(`no equality for CQL type ${type.name}`);
      return NATIVE_EQUALITY[type.name] ?? byBytes(serialize);
    }
    case 'list': {
      const element = equalityOf(type.element, userTypes);
      return (a, b) => sameSequence(itemsOf(a, 'list'), itemsOf(b, 'list'), () => element);
    }
    case 'set': {
      const element = equalityOf(type.element, userTypes);
      const order = orderOf(type.element, userTypes);
      // Equal in the order given (the usual case: both read from Cassandra), else in canonical order.
      return (a, b) => {
        const x = itemsOf(a, 'set');
        const y = itemsOf(b, 'set');
        if (sameSequence(x, y, () => element)) return true;
        return sameSequence(canonicalItems(x, order), canonicalItems(y, order), () => element);
      };
    }
    case 'map': {
      const key = equalityOf(type.key, userTypes);
      const value = equalityOf(type.value, userTypes);
      const order = orderOf(type.key, userTypes);
      const same = (
        p: readonly (readonly [unknown, unknown])[],
        q: readonly (readonly [unknown, unknown])[],
      ) => p.length === q.length && p.every(([k, v], i) => key(k, q[i]![0]) && value(v, q[i]![1]));
      return (a, b) => {
        const x = entriesOf(a);
        const y = entriesOf(b);
        return same(x, y) || same(canonicalEntries(x, order), canonicalEntries(y, order));
      };
    }
    case 'tuple': {
      const elements = type.elements.map((e) => equalityOf(e, userTypes));
      return (a, b) => {
        const x = tupleItemsOf(a);
        const y = tupleItemsOf(b);
        return elements.every((same, i) => same(x[i], y[i]));
      };
    }
    case 'udt': {
      const fields = userTypeFields(type.name, userTypes).map((f) => ({
        name: f.name,
        same: equalityOf(f.type, userTypes),
      }));
      return (a, b) => {
        const x = udtObjectOf(a, type.name);
        const y = udtObjectOf(b, type.name);
        return fields.every((f) => f.same(x[f.name], y[f.name]));
      };
    }
    case 'vector': {
      const element = equalityOf(type.element, userTypes);
      return (a, b) => sameSequence(vectorItemsOf(a), vectorItemsOf(b), () => element);
    }
    case 'custom':
      return (a, b) => bytesOf(a, type.className).equals(bytesOf(b, type.className));
  }
}

/** The equality of one CQL type; null equals only null. */
export function equalityOf(type: CqlType, userTypes: ReadonlyMap<string, UserTypeSchema>): Equals {
  const same = nonNullEquality(type, userTypes);
  return (a, b) => {
    // Identical references and primitives are equal, except 0 and -0 (told apart by `same`).
    if (a === b && a !== 0) return true;
    const an = isNull(a);
    const bn = isNull(b);
    if (an || bn) return an && bn;
    return same(a, b);
  };
}
