import cassandra from 'cassandra-driver';
import type { CqlType } from '../cql-type.js';
import type { UserTypeSchema } from '../table-schema.js';
import * as read from './driver-values.js';
import { userTypeFields } from './user-type-fields.js';

/**
 * The JSON form of a value for reports: what an operator can read and compare by eye, and what
 * JSON can carry exactly. 64-bit and arbitrary-precision numbers are strings; blobs are 0x hex;
 * NaN, ±Infinity and -0 are strings (JSON numbers cannot hold them); maps are lists of [key, value]
 * pairs (keys need not be strings); tuples are lists; UDTs are objects by field name.
 */

const { types } = cassandra;

export type ToJson = (value: unknown) => unknown;

function floatJson(n: number): number | string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Number.POSITIVE_INFINITY) return 'Infinity';
  if (n === Number.NEGATIVE_INFINITY) return '-Infinity';
  if (Object.is(n, -0)) return '-0';
  return n;
}

/** Decimal text that keeps the scale: 1.50 stays 1.50; a negative scale is written 12E+3. */
export function decimalText(v: unknown): string {
  const { unscaled, scale } = read.decimalOf(v);
  if (scale <= 0) return scale === 0 ? unscaled.toString() : `${unscaled}E+${-scale}`;
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  return `${negative ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

function timestampJson(v: unknown): string {
  const ms = read.timestampMillisOf(v);
  const date = new Date(ms);
  // Beyond JavaScript's date range (±8.64e15 ms) the milliseconds are all there is to show.
  return Number.isNaN(date.getTime()) ? `${ms}ms` : date.toISOString();
}

const text = (v: unknown) => String(v);

const NATIVE_JSON: Readonly<Record<string, ToJson>> = {
  ascii: text,
  text,
  bigint: (v) => read.integerOf(v, 'bigint').toString(),
  counter: (v) => read.integerOf(v, 'counter').toString(),
  varint: (v) => read.integerOf(v, 'varint').toString(),
  int: (v) => read.numberOf(v, 'int'),
  smallint: (v) => read.numberOf(v, 'smallint'),
  tinyint: (v) => read.numberOf(v, 'tinyint'),
  float: (v) => floatJson(Math.fround(read.numberOf(v, 'float'))),
  double: (v) => floatJson(read.numberOf(v, 'double')),
  boolean: (v) => v === true,
  blob: (v) => `0x${read.bytesOf(v, 'blob').toString('hex')}`,
  inet: (v) => new types.InetAddress(read.inetBytesOf(v)).toString(),
  uuid: (v) => new types.Uuid(read.uuidBytesOf(v, 'uuid')).toString(),
  timeuuid: (v) => new types.Uuid(read.uuidBytesOf(v, 'timeuuid')).toString(),
  timestamp: timestampJson,
  // LocalDate(days) is the driver's days-since-epoch form (its typings list only year, month, day).
  date: (v) =>
    new (types.LocalDate as unknown as new (days: number) => object)(read.dateDaysOf(v)).toString(),
  time: (v) => new types.LocalTime(types.Long.fromString(read.timeNanosOf(v).toString())).toString(),
  decimal: decimalText,
  duration: (v) => {
    const d = read.durationOf(v);
    return new types.Duration(d.months, d.days, types.Long.fromString(d.nanoseconds.toString())).toString();
  },
};

function nonNullJson(type: CqlType, userTypes: ReadonlyMap<string, UserTypeSchema>): ToJson {
  switch (type.kind) {
    case 'native': {
      const toJson = NATIVE_JSON[type.name];
      if (toJson === undefined) throw new TypeError(`no JSON form for CQL type ${type.name}`);
      return toJson;
    }
    case 'list':
    case 'set': {
      const element = jsonOf(type.element, userTypes);
      return (v) => read.itemsOf(v, type.kind).map(element);
    }
    case 'map': {
      const key = jsonOf(type.key, userTypes);
      const value = jsonOf(type.value, userTypes);
      return (v) => read.entriesOf(v).map(([k, x]) => [key(k), value(x)]);
    }
    case 'tuple': {
      const elements = type.elements.map((e) => jsonOf(e, userTypes));
      return (v) => {
        const items = read.tupleItemsOf(v);
        return elements.map((toJson, i) => toJson(items[i]));
      };
    }
    case 'udt': {
      const fields = userTypeFields(type.name, userTypes).map((f) => ({
        name: f.name,
        toJson: jsonOf(f.type, userTypes),
      }));
      return (v) => {
        const object = read.udtObjectOf(v, type.name);
        return Object.fromEntries(fields.map((f) => [f.name, f.toJson(object[f.name])]));
      };
    }
    case 'vector': {
      const element = jsonOf(type.element, userTypes);
      return (v) => read.vectorItemsOf(v).map(element);
    }
    case 'custom':
      return (v) => `0x${read.bytesOf(v, type.className).toString('hex')}`;
  }
}

/** The JSON form of one CQL type; null for null. */
export function jsonOf(type: CqlType, userTypes: ReadonlyMap<string, UserTypeSchema>): ToJson {
  const toJson = nonNullJson(type, userTypes);
  return (v) => (read.isNull(v) ? null : toJson(v));
}
