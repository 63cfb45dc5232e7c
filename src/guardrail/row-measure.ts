import type cassandra from 'cassandra-driver';
import type { CqlType } from '../schema/cql-type.js';
import { cqlValueModel } from '../schema/cql-value/index.js';
import { quoteIdent } from '../schema/identifier.js';
import type { ColumnSchema, TableSchema } from '../schema/table-schema.js';
import { allColumns, tableCql, tokenCql, valueColumns } from '../schema/table-schema.js';
import type { MeasuredCell, MeasuredRow } from './partition-meter.js';

/** Alias of the selected partition token. */
const TOKEN_ALIAS = 'zdm_token';

/** `SELECT token(pk) AS zdm_token, <every column> FROM ks.t WHERE token(pk) > ? AND token(pk) <= ?`. */
export function scanQuery(schema: TableSchema): string {
  const token = tokenCql(schema);
  const columns = allColumns(schema).map((c) => quoteIdent(c.name));
  return `SELECT ${token} AS ${TOKEN_ALIAS}, ${columns.join(', ')} FROM ${tableCql(schema)} WHERE ${token} > ? AND ${token} <= ?`;
}

/** Serialized sizes by column, from the CQL value model, compiled once per table schema. */
const sizesBySchema = new WeakMap<TableSchema, ReadonlyMap<string, (value: unknown) => number>>();

function sizesOf(schema: TableSchema): ReadonlyMap<string, (value: unknown) => number> {
  let sizes = sizesBySchema.get(schema);
  if (sizes === undefined) {
    sizes = new Map(
      allColumns(schema).map((c) => [c.name, cqlValueModel(c.type, schema.userTypes).estimateSize]),
    );
    sizesBySchema.set(schema, sizes);
  }
  return sizes;
}

/** Elements of a list, set or map value (frozen or not); undefined for any other type. */
export function collectionElementCount(type: CqlType, value: unknown): number | undefined {
  if (type.kind !== 'list' && type.kind !== 'set' && type.kind !== 'map') return undefined;
  if (value === null || value === undefined) return 0;
  if (value instanceof Map || value instanceof Set) return value.size;
  return Array.isArray(value) ? value.length : 0;
}

/** Measures a row read with `scanQuery`: the serialized size of each key part and value. */
export function measureRow(schema: TableSchema, row: cassandra.types.Row): MeasuredRow {
  const sizes = sizesOf(schema);
  const size = (c: ColumnSchema, v: unknown) => (v === null || v === undefined ? 0 : sizes.get(c.name)!(v));
  const partition = schema.partitionKey.map((c) => row.get(c.name) as unknown);
  const clustering = schema.clustering.map((c) => row.get(c.name) as unknown);
  // A partition with static cells and no rows reads as one row whose clustering columns are null.
  const staticOnly = schema.clustering.length > 0 && clustering.every((v) => v === null || v === undefined);
  const cells: MeasuredCell[] = [];
  for (const c of valueColumns(schema)) {
    const value = row.get(c.name) as unknown;
    if (value === null || value === undefined) continue;
    cells.push({
      column: c.name,
      bytes: size(c, value),
      elements: collectionElementCount(c.type, value),
      static: c.kind === 'static',
    });
  }
  return {
    token: BigInt(String(row.get(TOKEN_ALIAS))),
    partition,
    partitionKeyBytes: schema.partitionKey.reduce((sum, c, i) => sum + size(c, partition[i]), 0),
    clustering: staticOnly ? undefined : clustering,
    clusteringBytes: staticOnly
      ? 0
      : schema.clustering.reduce((sum, c, i) => sum + size(c, clustering[i]), 0),
    cells,
  };
}
