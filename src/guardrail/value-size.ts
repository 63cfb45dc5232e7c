import cassandra from 'cassandra-driver';
import type { CqlType } from '../schema/cql-type.js';
import type { UserTypeSchema } from '../schema/table-schema.js';

/** Serialized sizes of the fixed-size native types (native protocol v4 spec, §6). */
const FIXED_SIZES: Readonly<Record<string, number>> = {
  boolean: 1,
  tinyint: 1,
  smallint: 2,
  int: 4,
  date: 4,
  float: 4,
  bigint: 8,
  counter: 8,
  timestamp: 8,
  time: 8,
  double: 8,
  uuid: 16,
  timeuuid: 16,
};

/** The `[int]` length or count that precedes each element of a collection, tuple or UDT (§6). */
const LENGTH_PREFIX = 4;

/** Bytes of a varint in its minimal two's-complement form (§6.17). */
function varintSize(n: bigint): number {
  const magnitude = n < 0n ? -n - 1n : n;
  // One sign bit more than the magnitude needs, rounded up to whole bytes.
  return Math.ceil((magnitude.toString(2).length + 1) / 8);
}

/** Bytes of an unsigned vint (Cassandra's variable-length integer): 7 bits per byte. */
const vintSize = (n: number): number => Math.max(1, Math.ceil(Math.max(1, Math.log2(n + 1)) / 7));

/** Elements of a decoded collection or vector value, as the driver returns them. */
function elementsOf(value: unknown): readonly unknown[] {
  if (Array.isArray(value)) return value;
  // Sets, typed arrays and the driver's Vector are iterable.
  if (typeof value === 'object' && value !== null && Symbol.iterator in value)
    return [...(value as Iterable<unknown>)];
  return [];
}

const prefixed = (size: number): number => LENGTH_PREFIX + size;

// value model: the one place that says how many bytes a decoded CQL value takes once serialized;
// to be replaced by the shared CQL value model's `estimateSize` when it lands.
/**
 * Estimated serialized size in bytes of one decoded value of `type`, as the native protocol carries
 * it (§6 of the v4 spec), without its own length prefix. This is the size Cassandra checks against
 * `max_value_size` and the data a row's mutation carries; storage on disk differs (compression,
 * per-cell metadata). Null is 0.
 */
export function estimateValueSize(
  type: CqlType,
  value: unknown,
  userTypes: ReadonlyMap<string, UserTypeSchema>,
): number {
  if (value === null || value === undefined) return 0;
  const size = (t: CqlType, v: unknown): number => estimateValueSize(t, v, userTypes);
  switch (type.kind) {
    case 'native': {
      const fixed = FIXED_SIZES[type.name];
      if (fixed !== undefined) return fixed;
      switch (type.name) {
        case 'text':
        case 'ascii':
          return Buffer.byteLength(String(value), 'utf8');
        case 'blob':
          return Buffer.isBuffer(value) ? value.length : 0;
        case 'varint':
          return varintSize(BigInt(value as bigint));
        case 'decimal':
          return cassandra.types.BigDecimal.toBuffer(value as cassandra.types.BigDecimal).length;
        case 'duration':
          return (value as cassandra.types.Duration).toBuffer().length;
        case 'inet':
          return (value as { length?: number }).length ?? 16;
        default:
          return 0;
      }
    }
    case 'list':
    case 'set':
      return (
        LENGTH_PREFIX + elementsOf(value).reduce<number>((sum, e) => sum + prefixed(size(type.element, e)), 0)
      );
    case 'map': {
      let total = LENGTH_PREFIX;
      for (const [k, v] of value as Map<unknown, unknown>) {
        total += prefixed(size(type.key, k)) + prefixed(size(type.value, v));
      }
      return total;
    }
    case 'tuple': {
      const elements = (value as { elements?: readonly unknown[] }).elements ?? [];
      return type.elements.reduce((sum, t, i) => sum + prefixed(size(t, elements[i])), 0);
    }
    case 'udt': {
      const fields = userTypes.get(type.name)?.fields ?? [];
      const record = value as Readonly<Record<string, unknown>>;
      return fields.reduce((sum, f) => sum + prefixed(size(f.type, record[f.name])), 0);
    }
    case 'vector': {
      // Fixed-size elements are packed; variable-size ones carry a vint length each.
      const fixed = type.element.kind === 'native' && FIXED_SIZES[type.element.name] !== undefined;
      return elementsOf(value).reduce<number>((sum, e) => {
        const s = size(type.element, e);
        return sum + s + (fixed ? 0 : vintSize(s));
      }, 0);
    }
    case 'custom':
      return Buffer.isBuffer(value) ? value.length : 0;
  }
}

/** Elements of a list, set or map value (frozen or not); undefined for any other type. */
export function collectionElementCount(type: CqlType, value: unknown): number | undefined {
  if (type.kind !== 'list' && type.kind !== 'set' && type.kind !== 'map') return undefined;
  if (value === null || value === undefined) return 0;
  if (value instanceof Map || value instanceof Set) return value.size;
  return Array.isArray(value) ? value.length : 0;
}
