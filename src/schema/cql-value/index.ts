import type { CqlType } from '../cql-type.js';
import type { UserTypeSchema } from '../table-schema.js';
import { equalityOf } from './equality.js';
import { jsonOf } from './json-form.js';
import { orderOf } from './order.js';
import { sizeOf } from './size.js';

/**
 * One CQL value model: for a CQL type, how Cassandra decides that two values are equal and in which
 * order it sorts them, a JSON form for reports and a size for batching. Values are what
 * cassandra-driver 4.10 decodes (with the connector's options: BigInt, Map, Set) or what a caller
 * binds. Building a model compiles the type once; its functions are then cheap to call per cell.
 */
export interface CqlValueModel {
  /** Cassandra's equality: equal serialized bytes (sets and maps compared in Cassandra's element order, so insertion order never matters; NaN equals NaN, -0.0 differs from 0.0; decimals of different scale differ). null/undefined equal only each other. */
  equals(a: unknown, b: unknown): boolean;
  /** Cassandra's comparator order for the type (as clustering keys ASC are returned). */
  compare(a: unknown, b: unknown): number;
  /** A JSON-safe form for reports (blobs as 0x hex, bigint/varint/decimal as strings, uuids as text, NaN/Infinity as strings, nested). */
  toJson(value: unknown): unknown;
  /** Serialized size in bytes (for batch sizing). */
  estimateSize(value: unknown): number;
}

export function cqlValueModel(type: CqlType, userTypes: ReadonlyMap<string, UserTypeSchema>): CqlValueModel {
  return {
    equals: equalityOf(type, userTypes),
    compare: orderOf(type, userTypes),
    toJson: jsonOf(type, userTypes),
    estimateSize: sizeOf(type, userTypes),
  };
}

export { keyBytesOf } from './key-bytes.js';
