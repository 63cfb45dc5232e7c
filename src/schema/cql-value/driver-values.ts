import cassandra from 'cassandra-driver';

/**
 * Readers of the values cassandra-driver 4.10 decodes (and of the plain JavaScript values callers
 * bind): each turns one shape into the numbers or bytes the native protocol encodes (v4 spec §6).
 * The other modules of the value model read values only through these.
 */

const { types } = cassandra;

/** A value that holds no cell (top level) or a -1 length (inside a tuple, UDT or collection). */
export const isNull = (v: unknown): v is null | undefined => v === null || v === undefined;

export class CqlValueError extends TypeError {
  override readonly name = 'CqlValueError';
}

function shapeOf(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v !== 'object') return `${typeof v} ${String(v).slice(0, 40)}`;
  return (v as { constructor?: { name?: string } }).constructor?.name ?? 'object';
}

export const mistyped = (cqlType: string, v: unknown): CqlValueError =>
  new CqlValueError(`a ${cqlType} value was expected, got ${shapeOf(v)}`);

const INTEGER_TEXT = /^-?\d+$/;

/** bigint, counter, varint (and the integer types): bigint, an integral number, Long, Integer, digits. */
export function integerOf(v: unknown, cqlType: string): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (v instanceof types.Long || v instanceof types.Integer) return BigInt(v.toString());
  if (typeof v === 'string' && INTEGER_TEXT.test(v)) return BigInt(v);
  throw mistyped(cqlType, v);
}

/** int, smallint, tinyint, float, double: a number (digits allowed for keys of maps decoded as objects). */
export function numberOf(v: unknown, cqlType: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
  if (typeof v === 'bigint') return Number(v);
  throw mistyped(cqlType, v);
}

export function booleanOf(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  throw mistyped('boolean', v);
}

export function textOf(v: unknown, cqlType: string): string {
  if (typeof v === 'string') return v;
  throw mistyped(cqlType, v);
}

export function bytesOf(v: unknown, cqlType: string): Buffer {
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  throw mistyped(cqlType, v);
}

export interface DecimalParts {
  readonly unscaled: bigint;
  /** Digits after the point; negative for multiples of powers of ten (Java's BigDecimal scale). */
  readonly scale: number;
}

/** decimal: the driver's BigDecimal (unscaled Integer and scale), or a number or decimal text. */
export function decimalOf(v: unknown): DecimalParts {
  if (v instanceof types.BigDecimal) {
    const raw = v as unknown as { _intVal: { toString(): string }; _scale: number };
    return { unscaled: BigInt(raw._intVal.toString()), scale: raw._scale };
  }
  if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'string') {
    try {
      return decimalOf(types.BigDecimal.fromString(String(v)));
    } catch {
      throw mistyped('decimal', v);
    }
  }
  throw mistyped('decimal', v);
}

/** uuid, timeuuid: the driver's Uuid/TimeUuid, uuid text, or 16 bytes. */
export function uuidBytesOf(v: unknown, cqlType: string): Buffer {
  if (v instanceof types.Uuid) return v.getBuffer();
  if (typeof v === 'string') return types.Uuid.fromString(v).getBuffer();
  if (Buffer.isBuffer(v) && v.length === 16) return v;
  throw mistyped(cqlType, v);
}

/** inet: 4 bytes (IPv4) or 16 bytes (IPv6), from the driver's InetAddress or address text. */
export function inetBytesOf(v: unknown): Buffer {
  if (v instanceof types.InetAddress) return v.getBuffer();
  if (typeof v === 'string') return types.InetAddress.fromString(v).getBuffer();
  if (Buffer.isBuffer(v) && (v.length === 4 || v.length === 16)) return v;
  throw mistyped('inet', v);
}

/** date: days since the epoch (the protocol adds 2^31 to make it unsigned). */
export function dateDaysOf(v: unknown): number {
  if (v instanceof types.LocalDate) return v.toBuffer().readUInt32BE(0) - 2 ** 31;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string') return dateDaysOf(types.LocalDate.fromString(v));
  throw mistyped('date', v);
}

/** time: nanoseconds since midnight. */
export function timeNanosOf(v: unknown): bigint {
  if (v instanceof types.LocalTime) return BigInt(v.getTotalNanoseconds().toString());
  if (typeof v === 'string') return timeNanosOf(types.LocalTime.fromString(v));
  return integerOf(v, 'time');
}

/** timestamp: milliseconds since the epoch, from a Date (or a number / bigint of milliseconds). */
export function timestampMillisOf(v: unknown): number {
  if (v instanceof Date) {
    const ms = v.getTime();
    if (Number.isNaN(ms)) throw mistyped('timestamp', v);
    return ms;
  }
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'bigint') return Number(v);
  throw mistyped('timestamp', v);
}

export interface DurationParts {
  readonly months: number;
  readonly days: number;
  readonly nanoseconds: bigint;
}

export function durationOf(v: unknown): DurationParts {
  if (v instanceof types.Duration) {
    const d = v as unknown as { months: number; days: number; nanoseconds: { toString(): string } };
    return { months: d.months, days: d.days, nanoseconds: BigInt(d.nanoseconds.toString()) };
  }
  if (typeof v === 'string') return durationOf(types.Duration.fromString(v));
  throw mistyped('duration', v);
}

/** Tuple elements: the driver's Tuple, or an array. */
export function tupleItemsOf(v: unknown): readonly unknown[] {
  if (v instanceof types.Tuple) return v.elements;
  if (Array.isArray(v)) return v;
  throw mistyped('tuple', v);
}

/** List and set elements: an array or a Set (sets decode as either, depending on the client option). */
export function itemsOf(v: unknown, cqlType: string): readonly unknown[] {
  if (Array.isArray(v)) return v;
  if (v instanceof Set) return [...v];
  throw mistyped(cqlType, v);
}

/** Map entries: a Map, or a plain object (the driver's default, string keys). */
export function entriesOf(v: unknown): readonly (readonly [unknown, unknown])[] {
  if (v instanceof Map) return [...v];
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) return Object.entries(v);
  throw mistyped('map', v);
}

/** UDT fields: a plain object by field name. */
export function udtObjectOf(v: unknown, name: string): Readonly<Record<string, unknown>> {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  throw mistyped(`user type ${name}`, v);
}

/** Vector elements: the driver's Vector, a typed array (Float32Array...), or an array. */
export function vectorItemsOf(v: unknown): readonly unknown[] {
  // Typed arrays first: the driver's Vector claims every Float32Array as an instance (Symbol.hasInstance).
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>);
  if (v instanceof types.Vector) return (v as unknown as { elements: unknown[] }).elements;
  if (Array.isArray(v)) return v;
  throw mistyped('vector', v);
}
