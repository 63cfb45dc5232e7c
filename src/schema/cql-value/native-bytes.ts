import cassandra from 'cassandra-driver';
import {
  booleanOf,
  bytesOf,
  dateDaysOf,
  decimalOf,
  durationOf,
  inetBytesOf,
  integerOf,
  numberOf,
  textOf,
  timeNanosOf,
  timestampMillisOf,
  uuidBytesOf,
} from './driver-values.js';

/**
 * The serialized form of each native CQL type, as the native protocol carries it (v4 spec §6) and
 * Cassandra stores it: the bytes whose equality is Cassandra's equality of values.
 */

const { types } = cassandra;

export type NativeSerialize = (value: unknown) => Buffer;

function fixed(size: number, write: (b: Buffer, v: unknown) => void): NativeSerialize {
  return (v) => {
    const b = Buffer.allocUnsafe(size);
    write(b, v);
    return b;
  };
}

/** Minimal two's-complement big-endian bytes of a varint (§6.26). */
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

/** decimal (§6.10): the scale as an int, then the unscaled value as a varint. */
function decimalBytes(v: unknown): Buffer {
  const { unscaled, scale } = decimalOf(v);
  const head = Buffer.allocUnsafe(4);
  head.writeInt32BE(scale);
  return Buffer.concat([head, varintBytes(unscaled)]);
}

/** duration (§6.11): months, days and nanoseconds as signed vints; the driver's Duration encodes them. */
function durationBytes(v: unknown): Buffer {
  const d = durationOf(v);
  return new types.Duration(d.months, d.days, types.Long.fromString(d.nanoseconds.toString())).toBuffer();
}

const utf8 =
  (cqlType: string): NativeSerialize =>
  (v) =>
    Buffer.from(textOf(v, cqlType), 'utf8');
const int64 = (cqlType: string) => fixed(8, (b, v) => b.writeBigInt64BE(integerOf(v, cqlType)));

export const NATIVE_BYTES: Readonly<Record<string, NativeSerialize>> = {
  ascii: utf8('ascii'),
  text: utf8('text'),
  bigint: int64('bigint'),
  counter: int64('counter'),
  varint: (v) => varintBytes(integerOf(v, 'varint')),
  int: fixed(4, (b, v) => b.writeInt32BE(numberOf(v, 'int'))),
  smallint: fixed(2, (b, v) => b.writeInt16BE(numberOf(v, 'smallint'))),
  tinyint: fixed(1, (b, v) => b.writeInt8(numberOf(v, 'tinyint'))),
  float: fixed(4, (b, v) => b.writeFloatBE(numberOf(v, 'float'))),
  double: fixed(8, (b, v) => b.writeDoubleBE(numberOf(v, 'double'))),
  boolean: (v) => Buffer.from([booleanOf(v) ? 1 : 0]),
  blob: (v) => bytesOf(v, 'blob'),
  inet: inetBytesOf,
  uuid: (v) => uuidBytesOf(v, 'uuid'),
  timeuuid: (v) => uuidBytesOf(v, 'timeuuid'),
  timestamp: fixed(8, (b, v) => b.writeBigInt64BE(BigInt(timestampMillisOf(v)))),
  date: fixed(4, (b, v) => b.writeUInt32BE(dateDaysOf(v) + 2 ** 31)),
  time: fixed(8, (b, v) => b.writeBigInt64BE(timeNanosOf(v))),
  decimal: decimalBytes,
  duration: durationBytes,
};

/** Serialized sizes of the fixed-size natives, as a vector lays its elements out without lengths. */
export const FIXED_SIZES: Readonly<Record<string, number>> = {
  bigint: 8,
  boolean: 1,
  timestamp: 8,
  double: 8,
  float: 4,
  int: 4,
  timeuuid: 16,
  uuid: 16,
};
