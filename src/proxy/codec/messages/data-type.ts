import { CodecError } from '../codec-error.js';
import type { Reader } from '../primitives/reader.js';
import type { Writer } from '../primitives/writer.js';

/** [option] ids of column types (spec v4 §4.2.5.2; duration is v5). */
export const TypeCode = {
  CUSTOM: 0x0000,
  ASCII: 0x0001,
  BIGINT: 0x0002,
  BLOB: 0x0003,
  BOOLEAN: 0x0004,
  COUNTER: 0x0005,
  DECIMAL: 0x0006,
  DOUBLE: 0x0007,
  FLOAT: 0x0008,
  INT: 0x0009,
  TIMESTAMP: 0x000b,
  UUID: 0x000c,
  VARCHAR: 0x000d,
  VARINT: 0x000e,
  TIMEUUID: 0x000f,
  INET: 0x0010,
  DATE: 0x0011,
  TIME: 0x0012,
  SMALLINT: 0x0013,
  TINYINT: 0x0014,
  DURATION: 0x0015,
  LIST: 0x0020,
  MAP: 0x0021,
  SET: 0x0022,
  UDT: 0x0030,
  TUPLE: 0x0031,
} as const;

const NATIVE = {
  ascii: TypeCode.ASCII,
  bigint: TypeCode.BIGINT,
  blob: TypeCode.BLOB,
  boolean: TypeCode.BOOLEAN,
  counter: TypeCode.COUNTER,
  decimal: TypeCode.DECIMAL,
  double: TypeCode.DOUBLE,
  float: TypeCode.FLOAT,
  int: TypeCode.INT,
  timestamp: TypeCode.TIMESTAMP,
  uuid: TypeCode.UUID,
  varchar: TypeCode.VARCHAR,
  varint: TypeCode.VARINT,
  timeuuid: TypeCode.TIMEUUID,
  inet: TypeCode.INET,
  date: TypeCode.DATE,
  time: TypeCode.TIME,
  smallint: TypeCode.SMALLINT,
  tinyint: TypeCode.TINYINT,
  duration: TypeCode.DURATION,
} as const;

export type NativeTypeName = keyof typeof NATIVE;

const NATIVE_BY_CODE = new Map<number, NativeTypeName>(
  Object.entries(NATIVE).map(([name, code]) => [code, name as NativeTypeName]),
);

export interface UdtField {
  readonly name: string;
  readonly type: DataType;
}

/** A column type as described by an [option]. */
export type DataType =
  | { readonly kind: NativeTypeName }
  | { readonly kind: 'custom'; readonly className: string }
  | { readonly kind: 'list' | 'set'; readonly element: DataType }
  | { readonly kind: 'map'; readonly key: DataType; readonly value: DataType }
  | {
      readonly kind: 'udt';
      readonly keyspace: string;
      readonly name: string;
      readonly fields: readonly UdtField[];
    }
  | { readonly kind: 'tuple'; readonly elements: readonly DataType[] };

/** Nesting deeper than this is refused rather than risking the stack on hostile input. */
const MAX_DEPTH = 64;

export function readDataType(reader: Reader, depth = 0): DataType {
  const at = reader.offset;
  if (depth > MAX_DEPTH) throw new CodecError('type nested too deeply', { field: 'type', offset: at });
  const code = reader.readShort('type id');
  const native = NATIVE_BY_CODE.get(code);
  if (native !== undefined) return { kind: native };
  switch (code) {
    case TypeCode.CUSTOM:
      return { kind: 'custom', className: reader.readString('custom type class') };
    case TypeCode.LIST:
      return { kind: 'list', element: readDataType(reader, depth + 1) };
    case TypeCode.SET:
      return { kind: 'set', element: readDataType(reader, depth + 1) };
    case TypeCode.MAP: {
      const key = readDataType(reader, depth + 1);
      return { kind: 'map', key, value: readDataType(reader, depth + 1) };
    }
    case TypeCode.UDT: {
      const keyspace = reader.readString('udt keyspace');
      const name = reader.readString('udt name');
      const n = reader.readShort('udt field count');
      const fields: UdtField[] = [];
      for (let i = 0; i < n; i++) {
        const fieldName = reader.readString('udt field name');
        fields.push({ name: fieldName, type: readDataType(reader, depth + 1) });
      }
      return { kind: 'udt', keyspace, name, fields };
    }
    case TypeCode.TUPLE: {
      const n = reader.readShort('tuple size');
      const elements: DataType[] = [];
      for (let i = 0; i < n; i++) elements.push(readDataType(reader, depth + 1));
      return { kind: 'tuple', elements };
    }
    default:
      throw new CodecError(`unknown type id 0x${code.toString(16)}`, { field: 'type id', offset: at });
  }
}

export function writeDataType(writer: Writer, type: DataType): void {
  switch (type.kind) {
    case 'custom':
      writer.writeShort(TypeCode.CUSTOM).writeString(type.className, 'custom type class');
      return;
    case 'list':
    case 'set':
      writer.writeShort(type.kind === 'list' ? TypeCode.LIST : TypeCode.SET);
      writeDataType(writer, type.element);
      return;
    case 'map':
      writer.writeShort(TypeCode.MAP);
      writeDataType(writer, type.key);
      writeDataType(writer, type.value);
      return;
    case 'udt':
      writer.writeShort(TypeCode.UDT).writeString(type.keyspace).writeString(type.name);
      writer.writeShort(type.fields.length, 'udt field count');
      for (const field of type.fields) {
        writer.writeString(field.name);
        writeDataType(writer, field.type);
      }
      return;
    case 'tuple':
      writer.writeShort(TypeCode.TUPLE).writeShort(type.elements.length, 'tuple size');
      for (const element of type.elements) writeDataType(writer, element);
      return;
    default:
      writer.writeShort(NATIVE[type.kind]);
  }
}

/** Shorthands for building column types, e.g. `cqlType.set(cqlType.varchar)`. */
export const cqlType = {
  ...(Object.fromEntries(Object.keys(NATIVE).map((kind) => [kind, { kind }])) as {
    readonly [K in NativeTypeName]: { readonly kind: K };
  }),
  /** `text` is an alias of varchar (spec v4 §6.16). */
  text: { kind: 'varchar' },
  list: (element: DataType): DataType => ({ kind: 'list', element }),
  set: (element: DataType): DataType => ({ kind: 'set', element }),
  map: (key: DataType, value: DataType): DataType => ({ kind: 'map', key, value }),
  tuple: (...elements: DataType[]): DataType => ({ kind: 'tuple', elements }),
  custom: (className: string): DataType => ({ kind: 'custom', className }),
} as const;
