import type { CqlType } from '../schema/cql-type.js';
import type { ColumnSchema, UserTypeSchema } from '../schema/table-schema.js';
import { valueKey } from '../schema/value-key.js';

/**
 * Cassandra's sort order of decoded key values, so that the diff can merge two clusters' range scans
 * like a sorted merge join. Rows come back in partitioner order (token, then the partition key's
 * serialized bytes, unsigned) and, within a partition, in clustering order: each clustering column
 * sorted by its type's comparator (the `AbstractType.compare` of Cassandra 5.0), reversed for DESC.
 *
 * A comparator that disagreed with Cassandra would turn equal rows into "missing" plus "extra"; the
 * merge therefore checks that each stream is strictly increasing under this order and fails the
 * range, rather than reporting, when it is not.
 */

export type Compare<T> = (a: T, b: T) => number;

const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0);
const cmpBig = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);

/** Java's Float.compare / Double.compare: -0.0 < 0.0, NaN above everything and equal to itself. */
function compareFloat(a: number, b: number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) ? (Number.isNaN(b) ? 0 : 1) : -1;
  if (a === 0 && b === 0) return Object.is(a, -0) === Object.is(b, -0) ? 0 : Object.is(a, -0) ? -1 : 1;
  return 0;
}

const asBuffer = (v: unknown): Buffer => {
  if (Buffer.isBuffer(v)) return v;
  const withBuffer = v as { getBuffer?: () => Buffer; buffer?: Buffer };
  if (typeof withBuffer.getBuffer === 'function') return withBuffer.getBuffer();
  if (Buffer.isBuffer(withBuffer.buffer)) return withBuffer.buffer;
  return Buffer.from(String(v), 'utf8');
};

const asBigint = (v: unknown): bigint =>
  typeof v === 'bigint' ? v : typeof v === 'number' ? BigInt(v) : BigInt(String(v));

/** Unsigned lexicographic byte order, shorter first on a common prefix (ByteBufferUtil.compareUnsigned). */
export const compareBytes = (a: Buffer, b: Buffer): number => sign(Buffer.compare(a, b));

/**
 * UUIDType (Cassandra 5.0): by version nibble; time-based (v1) by timestamp (time_hi, time_mid,
 * time_low), other versions by the most significant 64 bits unsigned; then the least significant
 * 64 bits unsigned.
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
 * TimeUUIDType: by timestamp, then the least significant bytes compared as SIGNED bytes (kept for
 * compatibility with old Cassandra versions).
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

/** TimeUUIDType.reorderTimestampBytes: time_hi (with version), time_mid, time_low. */
function timeOf(msb: bigint): bigint {
  const mask64 = (1n << 64n) - 1n;
  return ((msb << 48n) | ((msb << 16n) & 0xffff00000000n) | (msb >> 32n)) & mask64;
}

function sequenceOf(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (v instanceof Set) return [...v];
  const tuple = v as { values?: () => unknown[]; elements?: unknown[] };
  if (typeof tuple.values === 'function') return tuple.values();
  if (Array.isArray(tuple.elements)) return tuple.elements;
  return [];
}

function compareSequences(
  a: readonly unknown[],
  b: readonly unknown[],
  each: (i: number) => Compare<unknown>,
) {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = compareNullable(a[i], b[i], each(i));
    if (c !== 0) return c;
  }
  return sign(a.length - b.length);
}

/** Null (an absent tuple or UDT field) sorts first, as an empty value does in Cassandra. */
function compareNullable(a: unknown, b: unknown, cmp: Compare<unknown>): number {
  const an = a === null || a === undefined;
  const bn = b === null || b === undefined;
  if (an || bn) return an && bn ? 0 : an ? -1 : 1;
  return cmp(a, b);
}

/** The comparator of one CQL type, on values as cassandra-driver decodes them. */
export function typeComparator(
  type: CqlType,
  userTypes: ReadonlyMap<string, UserTypeSchema> = new Map(),
): Compare<unknown> {
  switch (type.kind) {
    case 'native':
      return nativeComparator(type.name);
    case 'list':
    case 'set': {
      const element = typeComparator(type.element, userTypes);
      return (a, b) => compareSequences(sequenceOf(a), sequenceOf(b), () => element);
    }
    case 'vector': {
      const element = typeComparator(type.element, userTypes);
      return (a, b) => compareSequences(sequenceOf(a), sequenceOf(b), () => element);
    }
    case 'map': {
      const key = typeComparator(type.key, userTypes);
      const value = typeComparator(type.value, userTypes);
      const flat = (m: unknown) => (m instanceof Map ? [...m.entries()] : Object.entries(m as object)).flat();
      return (a, b) => compareSequences(flat(a), flat(b), (i) => (i % 2 === 0 ? key : value));
    }
    case 'tuple': {
      const elements = type.elements.map((e) => typeComparator(e, userTypes));
      return (a, b) =>
        compareSequences(sequenceOf(a), sequenceOf(b), (i) => elements[i] ?? ((x, y) => cmpKeys(x, y)));
    }
    case 'udt': {
      const fields = userTypes.get(type.name)?.fields ?? [];
      const comparators = fields.map((f) => typeComparator(f.type, userTypes));
      const values = (v: unknown) => fields.map((f) => (v as Record<string, unknown>)[f.name]);
      return (a, b) => compareSequences(values(a), values(b), (i) => comparators[i]!);
    }
    case 'custom':
      return (a, b) => compareBytes(asBuffer(a), asBuffer(b));
  }
}

const cmpKeys = (a: unknown, b: unknown): number =>
  valueKey(a) < valueKey(b) ? -1 : valueKey(a) > valueKey(b) ? 1 : 0;

function nativeComparator(name: string): Compare<unknown> {
  switch (name) {
    case 'int':
    case 'smallint':
    case 'tinyint':
      return (a, b) => sign(Number(a) - Number(b));
    case 'bigint':
    case 'counter':
    case 'varint':
      return (a, b) => cmpBig(asBigint(a), asBigint(b));
    case 'float':
    case 'double':
      return (a, b) => compareFloat(Number(a), Number(b));
    case 'decimal':
      return (a, b) => sign((a as { compare(o: unknown): number }).compare(b));
    case 'timestamp':
      return (a, b) => sign((a as Date).getTime() - (b as Date).getTime());
    case 'date':
    case 'time':
      return (a, b) => sign((a as { compare(o: unknown): number }).compare(b));
    case 'boolean':
      return (a, b) => sign(Number(a) - Number(b));
    case 'text':
    case 'ascii':
      // UTF8Type and AsciiType compare bytes; UTF-16 code unit order differs above U+FFFF.
      return (a, b) => compareBytes(Buffer.from(String(a), 'utf8'), Buffer.from(String(b), 'utf8'));
    case 'uuid':
      return (a, b) => compareUuid(asBuffer(a), asBuffer(b));
    case 'timeuuid':
      return (a, b) => compareTimeUuid(asBuffer(a), asBuffer(b));
    default:
      // blob, inet, duration and anything else: unsigned bytes.
      return (a, b) => compareBytes(asBuffer(a), asBuffer(b));
  }
}

/** Clustering order of a table: each column's comparator, reversed for DESC. */
export function clusteringComparator(
  clustering: readonly ColumnSchema[],
  userTypes: ReadonlyMap<string, UserTypeSchema>,
): Compare<readonly unknown[]> {
  const columns = clustering.map((c) => {
    const cmp = typeComparator(c.type, userTypes);
    return c.clusteringOrder === 'DESC' ? (a: unknown, b: unknown) => -cmp(a, b) || 0 : cmp;
  });
  return (a, b) => {
    for (let i = 0; i < columns.length; i++) {
      const c = compareNullable(a[i], b[i], columns[i]!);
      if (c !== 0) return c;
    }
    return 0;
  };
}

/**
 * The serialized form of one native value (the native protocol's encoding, §6 of the v4 spec), as
 * the partitioner sees a partition key. Undefined for types we do not encode here.
 */
export function serializeNative(name: string, v: unknown): Buffer | undefined {
  switch (name) {
    case 'int': {
      const b = Buffer.alloc(4);
      b.writeInt32BE(Number(v));
      return b;
    }
    case 'smallint': {
      const b = Buffer.alloc(2);
      b.writeInt16BE(Number(v));
      return b;
    }
    case 'tinyint': {
      const b = Buffer.alloc(1);
      b.writeInt8(Number(v));
      return b;
    }
    case 'bigint':
    case 'counter': {
      const b = Buffer.alloc(8);
      b.writeBigInt64BE(asBigint(v));
      return b;
    }
    case 'timestamp': {
      const b = Buffer.alloc(8);
      b.writeBigInt64BE(BigInt((v as Date).getTime()));
      return b;
    }
    case 'varint':
      return varintBytes(asBigint(v));
    case 'boolean':
      return Buffer.from([v ? 1 : 0]);
    case 'float': {
      const b = Buffer.alloc(4);
      b.writeFloatBE(Number(v));
      return b;
    }
    case 'double': {
      const b = Buffer.alloc(8);
      b.writeDoubleBE(Number(v));
      return b;
    }
    case 'text':
    case 'ascii':
      return Buffer.from(String(v), 'utf8');
    case 'blob':
    case 'uuid':
    case 'timeuuid':
    case 'inet':
      return asBuffer(v);
    default:
      return undefined;
  }
}

/** Minimal two's-complement big-endian bytes of a varint. */
export function varintBytes(n: bigint): Buffer {
  const bytes: number[] = [];
  let v = n;
  for (;;) {
    bytes.unshift(Number(v & 0xffn));
    const rest = v >> 8n;
    const signBit = (bytes[0]! & 0x80) !== 0;
    if ((rest === 0n && !signBit) || (rest === -1n && signBit)) break;
    v = rest;
  }
  return Buffer.from(bytes);
}

/**
 * Order of partitions that share a token: the partition key's serialized bytes, unsigned; a composite
 * key is serialized as CompositeType (2-byte length, bytes, 0 per component). Types we cannot
 * serialize fall back to a stable order; a token collision on such a key is caught by the merge's
 * order check rather than misreported.
 */
export function partitionKeyComparator(partitionKey: readonly ColumnSchema[]): Compare<readonly unknown[]> {
  const encode = (values: readonly unknown[]): Buffer | undefined => {
    const parts: Buffer[] = [];
    for (let i = 0; i < partitionKey.length; i++) {
      const column = partitionKey[i]!;
      const bytes = column.type.kind === 'native' ? serializeNative(column.type.name, values[i]) : undefined;
      if (bytes === undefined) return undefined;
      if (partitionKey.length === 1) return bytes;
      const length = Buffer.alloc(2);
      length.writeUInt16BE(bytes.length);
      parts.push(length, bytes, Buffer.from([0]));
    }
    return Buffer.concat(parts);
  };
  return (a, b) => {
    const ea = encode(a);
    const eb = encode(b);
    if (ea !== undefined && eb !== undefined) return compareBytes(ea, eb);
    return compareSequences(a, b, () => cmpKeys);
  };
}
