import type { CqlType } from '../cql-type.js';
import type { UserTypeSchema } from '../table-schema.js';
import { canonicalEntries, canonicalItems } from './canonical.js';
import {
  booleanOf,
  bytesOf,
  dateDaysOf,
  decimalOf,
  entriesOf,
  inetBytesOf,
  integerOf,
  isNull,
  itemsOf,
  numberOf,
  textOf,
  timeNanosOf,
  timestampMillisOf,
  tupleItemsOf,
  udtObjectOf,
  uuidBytesOf,
  vectorItemsOf,
} from './driver-values.js';
import { NATIVE_BYTES } from './native-bytes.js';
import { userTypeFields } from './user-type-fields.js';

/**
 * Cassandra's comparators (`AbstractType.compare` of the db/marshal types, 5.0), on decoded values:
 * the order in which clustering keys come back ASC. Null (no value, or an absent tuple/UDT field)
 * sorts first, as an empty value does.
 *
 * One deliberate addition: DecimalType compares by numeric value only, so 1.0 and 1.00 are the same
 * clustering to Cassandra; here they are ordered by scale after value, so that the order is total
 * and agrees with equality (equal bytes). No partition read from Cassandra can hold both.
 */

export type Compare = (a: unknown, b: unknown) => number;

const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0);
const cmpBig = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);

/** Java's Float.compare / Double.compare: -0.0 < 0.0, NaN above everything and equal to itself. */
export function compareJavaFloat(a: number, b: number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  if (a === b) {
    if (a !== 0) return 0;
    const na = Object.is(a, -0);
    return na === Object.is(b, -0) ? 0 : na ? -1 : 1;
  }
  const an = Number.isNaN(a);
  return an === Number.isNaN(b) ? 0 : an ? 1 : -1;
}

/**
 * UTF8Type and AsciiType compare UTF-8 bytes, which is code point order. UTF-16 code unit order
 * differs from it only between surrogates (D800-DFFF) and E000-FFFF; shifting those two ranges
 * makes a code unit walk give the byte order without encoding either string.
 */
export function compareUtf8(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x !== y) {
      if (x >= 0xd800 && y >= 0xd800) {
        x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
        y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
      }
      return x < y ? -1 : 1;
    }
  }
  return sign(a.length - b.length);
}

/** Unsigned lexicographic byte order, shorter first on a common prefix (ByteBufferUtil.compareUnsigned). */
export const compareBytes = (a: Buffer, b: Buffer): number => sign(Buffer.compare(a, b));

/** TimeUUIDType.reorderTimestampBytes: time_hi (with version), time_mid, time_low. */
function timeOf(msb: bigint): bigint {
  const mask64 = (1n << 64n) - 1n;
  return ((msb << 48n) | ((msb << 16n) & 0xffff00000000n) | (msb >> 32n)) & mask64;
}

/**
 * UUIDType: by version nibble; time-based (v1) by timestamp, other versions by the most
 * significant 64 bits unsigned; then the least significant 64 bits unsigned.
 */
export function compareUuid(a: Buffer, b: Buffer): number {
  const msbA = a.readBigUInt64BE(0);
  const msbB = b.readBigUInt64BE(0);
  const versionA = (msbA >> 12n) & 0xfn;
  const versionB = (msbB >> 12n) & 0xfn;
  if (versionA !== versionB) return cmpBig(versionA, versionB);
  const c = versionA === 1n ? cmpBig(timeOf(msbA), timeOf(msbB)) : cmpBig(msbA, msbB);
  if (c !== 0) return c;
  return cmpBig(a.readBigUInt64BE(8), b.readBigUInt64BE(8));
}

/**
 * TimeUUIDType: by timestamp, then the least significant bytes compared as SIGNED bytes (kept by
 * Cassandra for compatibility with its old versions).
 */
export function compareTimeUuid(a: Buffer, b: Buffer): number {
  const c = cmpBig(timeOf(a.readBigUInt64BE(0)), timeOf(b.readBigUInt64BE(0)));
  if (c !== 0) return c;
  for (let i = 8; i < 16; i++) {
    const d = a.readInt8(i) - b.readInt8(i);
    if (d !== 0) return sign(d);
  }
  return 0;
}

const signOf = (n: bigint): number => (n < 0n ? -1 : n > 0n ? 1 : 0);
const digits = (n: bigint): number => (n < 0n ? -n : n).toString().length;

/** DecimalType: by numeric value (BigDecimal.compareTo), then by scale (see the module comment). */
export function compareDecimal(a: unknown, b: unknown): number {
  const x = decimalOf(a);
  const y = decimalOf(b);
  const signs = sign(signOf(x.unscaled) - signOf(y.unscaled));
  if (signs !== 0) return signs;
  if (x.unscaled !== 0n) {
    // Same sign, non-zero: the position of the leading digit decides when it differs, which
    // keeps the power of ten below small for values of very different scales.
    const lead = sign(digits(x.unscaled) - x.scale - (digits(y.unscaled) - y.scale));
    if (lead !== 0) return x.unscaled < 0n ? -lead : lead;
    const ua = x.scale < y.scale ? x.unscaled * 10n ** BigInt(y.scale - x.scale) : x.unscaled;
    const ub = y.scale < x.scale ? y.unscaled * 10n ** BigInt(x.scale - y.scale) : y.unscaled;
    const byValue = cmpBig(ua, ub);
    if (byValue !== 0) return byValue;
  }
  return sign(x.scale - y.scale);
}

const byNumber =
  (read: (v: unknown) => number): Compare =>
  (a, b) =>
    sign(read(a) - read(b));
const byBigint =
  (read: (v: unknown) => bigint): Compare =>
  (a, b) =>
    cmpBig(read(a), read(b));
const byBytes =
  (read: (v: unknown) => Buffer): Compare =>
  (a, b) =>
    compareBytes(read(a), read(b));

const NATIVE_ORDER: Readonly<Record<string, Compare>> = {
  ascii: (a, b) => compareUtf8(textOf(a, 'ascii'), textOf(b, 'ascii')),
  text: (a, b) => compareUtf8(textOf(a, 'text'), textOf(b, 'text')),
  bigint: byBigint((v) => integerOf(v, 'bigint')),
  counter: byBigint((v) => integerOf(v, 'counter')),
  varint: byBigint((v) => integerOf(v, 'varint')),
  int: byNumber((v) => numberOf(v, 'int')),
  smallint: byNumber((v) => numberOf(v, 'smallint')),
  tinyint: byNumber((v) => numberOf(v, 'tinyint')),
  float: (a, b) => compareJavaFloat(Math.fround(numberOf(a, 'float')), Math.fround(numberOf(b, 'float'))),
  double: (a, b) => compareJavaFloat(numberOf(a, 'double'), numberOf(b, 'double')),
  boolean: (a, b) => sign(Number(booleanOf(a)) - Number(booleanOf(b))),
  blob: byBytes((v) => bytesOf(v, 'blob')),
  inet: byBytes(inetBytesOf),
  uuid: (a, b) => compareUuid(uuidBytesOf(a, 'uuid'), uuidBytesOf(b, 'uuid')),
  timeuuid: (a, b) => compareTimeUuid(uuidBytesOf(a, 'timeuuid'), uuidBytesOf(b, 'timeuuid')),
  timestamp: byNumber(timestampMillisOf),
  date: byNumber(dateDaysOf),
  time: byBigint(timeNanosOf),
  decimal: compareDecimal,
  // Not allowed in clustering keys; ordered by bytes so that the order stays total.
  duration: byBytes(NATIVE_BYTES.duration!),
};

/** Lexicographic over elements (each with its own comparator, nulls first), then shorter first. */
function compareSequences(
  a: readonly unknown[],
  b: readonly unknown[],
  each: (i: number) => Compare,
): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = each(i)(a[i], b[i]);
    if (c !== 0) return c;
  }
  return sign(a.length - b.length);
}

/** Null (no value) before any value. */
export function nullsFirst(compare: Compare): Compare {
  return (a, b) => {
    const an = isNull(a);
    const bn = isNull(b);
    if (an || bn) return an && bn ? 0 : an ? -1 : 1;
    return compare(a, b);
  };
}

/** Pads a tuple's elements with nulls to the type's arity (absent trailing fields are nulls). */
const padded = (items: readonly unknown[], arity: number): readonly unknown[] =>
  items.length >= arity ? items : [...items, ...new Array(arity - items.length).fill(null)];

function nonNullOrder(type: CqlType, userTypes: ReadonlyMap<string, UserTypeSchema>): Compare {
  switch (type.kind) {
    case 'native': {
      const compare = NATIVE_ORDER[type.name];
      if (compare === undefined) throw new TypeError(`no order for CQL type ${type.name}`);
      return compare;
    }
    case 'list': {
      const element = orderOf(type.element, userTypes);
      return (a, b) => compareSequences(itemsOf(a, 'list'), itemsOf(b, 'list'), () => element);
    }
    case 'set': {
      const element = orderOf(type.element, userTypes);
      const items = (v: unknown) => canonicalItems(itemsOf(v, 'set'), element);
      return (a, b) => compareSequences(items(a), items(b), () => element);
    }
    case 'map': {
      // MapType: entry by entry, key then value; then the smaller map first.
      const key = orderOf(type.key, userTypes);
      const value = orderOf(type.value, userTypes);
      const flat = (v: unknown) => canonicalEntries(entriesOf(v), key).flat();
      return (a, b) => compareSequences(flat(a), flat(b), (i) => (i % 2 === 0 ? key : value));
    }
    case 'tuple': {
      const elements = type.elements.map((e) => orderOf(e, userTypes));
      const n = elements.length;
      return (a, b) =>
        compareSequences(padded(tupleItemsOf(a), n), padded(tupleItemsOf(b), n), (i) => elements[i]!);
    }
    case 'udt': {
      const fields = userTypeFields(type.name, userTypes);
      const compares = fields.map((f) => orderOf(f.type, userTypes));
      return (a, b) => {
        const x = udtObjectOf(a, type.name);
        const y = udtObjectOf(b, type.name);
        for (let i = 0; i < fields.length; i++) {
          const c = compares[i]!(x[fields[i]!.name], y[fields[i]!.name]);
          if (c !== 0) return c;
        }
        return 0;
      };
    }
    case 'vector': {
      const element = orderOf(type.element, userTypes);
      return (a, b) => compareSequences(vectorItemsOf(a), vectorItemsOf(b), () => element);
    }
    case 'custom':
      return byBytes((v) => bytesOf(v, type.className));
  }
}

/** The comparator of one CQL type, null first. */
export function orderOf(type: CqlType, userTypes: ReadonlyMap<string, UserTypeSchema>): Compare {
  return nullsFirst(nonNullOrder(type, userTypes));
}
