import { type CqlType, isCounter, isMultiCell } from './cql-type.js';
import { qualifiedName, quoteIdent } from './identifier.js';

export type ColumnKind = 'partition_key' | 'clustering' | 'static' | 'regular';

export interface ColumnSchema {
  readonly name: string;
  readonly kind: ColumnKind;
  /** Position within the partition key or clustering key; -1 for other columns. */
  readonly position: number;
  readonly type: CqlType;
  /** The type exactly as system_schema spells it. */
  readonly typeText: string;
  readonly clusteringOrder: 'ASC' | 'DESC' | undefined;
}

export interface UserTypeSchema {
  readonly keyspace: string;
  readonly name: string;
  readonly fields: readonly { readonly name: string; readonly type: CqlType; readonly typeText: string }[];
}

/** One table's definition, as read from system_schema; immutable. */
export interface TableSchema {
  readonly keyspace: string;
  readonly table: string;
  readonly partitionKey: readonly ColumnSchema[];
  readonly clustering: readonly ColumnSchema[];
  readonly statics: readonly ColumnSchema[];
  readonly regulars: readonly ColumnSchema[];
  /** Table option default_time_to_live, in seconds (0 = none). */
  readonly defaultTtl: number;
  /** User-defined types of the keyspace that the table's columns use, by name. */
  readonly userTypes: ReadonlyMap<string, UserTypeSchema>;
}

export const primaryKeyColumns = (t: TableSchema): readonly ColumnSchema[] => [
  ...t.partitionKey,
  ...t.clustering,
];
export const valueColumns = (t: TableSchema): readonly ColumnSchema[] => [...t.statics, ...t.regulars];
export const allColumns = (t: TableSchema): readonly ColumnSchema[] => [
  ...primaryKeyColumns(t),
  ...valueColumns(t),
];

export const isCounterTable = (t: TableSchema): boolean => valueColumns(t).some((c) => isCounter(c.type));

/**
 * Whether WRITETIME()/TTL() can be selected for a column: cells of non-key, non-counter columns.
 * On multi-cell columns Cassandra 5.0 returns one value per element or field.
 */
export const carriesWriteTime = (c: ColumnSchema): boolean =>
  (c.kind === 'regular' || c.kind === 'static') && !isCounter(c.type);

export const isMultiCellColumn = (c: ColumnSchema): boolean => isMultiCell(c.type);

export function tableCql(t: TableSchema): string {
  return qualifiedName(t.keyspace, t.table);
}

export function partitionKeyCql(t: TableSchema): string {
  return t.partitionKey.map((c) => quoteIdent(c.name)).join(', ');
}

/** `token(pk1, pk2)` for range restrictions. */
export function tokenCql(t: TableSchema): string {
  return `token(${partitionKeyCql(t)})`;
}

/** Column aliases the jobs use for writetime/TTL selections, stable and collision-free. */
export const writeTimeAlias = (index: number): string => `wt_${index}`;
export const ttlAlias = (index: number): string => `ttl_${index}`;

/**
 * `SELECT pk..., ck..., v..., WRITETIME(v) AS wt_i, TTL(v) AS ttl_i ... FROM ks.t`, where i is the
 * index of v in `valueColumns(t)`. The jobs read rows with this and add their own WHERE clause.
 */
export function selectWithMetadataCql(
  t: TableSchema,
  columns: readonly ColumnSchema[] = allColumns(t),
): string {
  const values = valueColumns(t);
  const selected = columns.map((c) => quoteIdent(c.name));
  values.forEach((c, i) => {
    if (columns.includes(c) && carriesWriteTime(c)) {
      selected.push(
        `WRITETIME(${quoteIdent(c.name)}) AS ${writeTimeAlias(i)}`,
        `TTL(${quoteIdent(c.name)}) AS ${ttlAlias(i)}`,
      );
    }
  });
  return `SELECT ${selected.join(', ')} FROM ${tableCql(t)}`;
}
