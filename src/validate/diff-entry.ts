import { rangeWhereCql } from '../job/range-job.js';
import type { ColumnMapping } from '../schema/compare.js';
import { type CqlValueModel, cqlValueModel } from '../schema/cql-value/index.js';
import { quoteIdent } from '../schema/identifier.js';
import type { ColumnSchema, TableSchema, UserTypeSchema } from '../schema/table-schema.js';
import {
  carriesWriteTime,
  selectWithMetadataCql,
  tokenCql,
  ttlAlias,
  valueColumns,
  writeTimeAlias,
} from '../schema/table-schema.js';
import { type Compare, clusteringComparator, partitionKeyComparator } from './key-order.js';

/** One Origin column and the Target column it is compared with (after --skip/--rename-columns). */
export interface ComparedColumn {
  readonly origin: ColumnSchema;
  readonly target: ColumnSchema;
  /** Equality, order and JSON form of the column's values (Origin's type, which Target's accepts). */
  readonly model: CqlValueModel;
}

/** The columns a diff compares, by role, in Origin's order. */
export interface DiffLayout {
  readonly partitionKey: readonly ComparedColumn[];
  readonly clustering: readonly ComparedColumn[];
  readonly statics: readonly ComparedColumn[];
  readonly regulars: readonly ComparedColumn[];
  readonly userTypes: ReadonlyMap<string, UserTypeSchema>;
}

export type Side = 'origin' | 'target';

/** One cell (or multi-cell column) as read: writetime and TTL are lists for multi-cell columns. */
export interface CellValue {
  readonly value: unknown;
  readonly writetime: unknown;
  readonly ttl: unknown;
}

/**
 * What the merge compares: a clustering row, or a partition's static cells (`clustering`
 * undefined), which sort before the partition's rows so statics are compared once per partition.
 */
export interface DiffEntry {
  readonly token: bigint;
  /** Partition key values; entries of one partition read in one scan share this very array. */
  readonly partition: readonly unknown[];
  readonly clustering: readonly unknown[] | undefined;
  /** The layout's statics for a static entry, its regulars for a row. */
  readonly cells: readonly CellValue[];
}

export const TOKEN_ALIAS = 'zdm_token';

/** Result column names of one compared column's value, writetime and TTL. */
interface Accessor {
  readonly value: string;
  readonly writetime: string | undefined;
  readonly ttl: string | undefined;
}

export function diffLayout(origin: TableSchema, target: TableSchema, mapping: ColumnMapping): DiffLayout {
  const pair = (columns: readonly ColumnSchema[]): ComparedColumn[] =>
    columns
      .filter((c) => !mapping.skip.has(c.name))
      .map((c) => {
        const name = mapping.rename.get(c.name) ?? c.name;
        const t = [...target.partitionKey, ...target.clustering, ...target.statics, ...target.regulars].find(
          (x) => x.name === name,
        );
        // openTablePair has refused the pair if a mapped column were absent on Target.
        return { origin: c, target: t ?? c, model: cqlValueModel(c.type, origin.userTypes) };
      });
  return {
    partitionKey: pair(origin.partitionKey),
    clustering: pair(origin.clustering),
    statics: pair(origin.statics),
    regulars: pair(origin.regulars),
    userTypes: origin.userTypes,
  };
}

const allCompared = (l: DiffLayout) => [...l.partitionKey, ...l.clustering, ...l.statics, ...l.regulars];

/** Reads and point-reads of one side, and how its rows become entries. */
export class SideView {
  readonly schema: TableSchema;
  private readonly columns: readonly ColumnSchema[];
  private readonly aliasIndex: ReadonlyMap<string, number>;
  private readonly staticAccessors: readonly Accessor[];
  private readonly regularAccessors: readonly Accessor[];
  private readonly partitionNames: readonly string[];
  private readonly clusteringNames: readonly string[];

  constructor(
    readonly side: Side,
    schema: TableSchema,
    readonly layout: DiffLayout,
  ) {
    this.schema = schema;
    this.columns = allCompared(layout).map((c) => c[side]);
    this.aliasIndex = new Map(valueColumns(schema).map((c, i) => [c.name, i]));
    this.staticAccessors = this.accessors(layout.statics);
    this.regularAccessors = this.accessors(layout.regulars);
    this.partitionNames = layout.partitionKey.map((c) => c[side].name);
    this.clusteringNames = layout.clustering.map((c) => c[side].name);
  }

  private select(): string {
    return selectWithMetadataCql(this.schema, this.columns).replace(
      /^SELECT /,
      `SELECT ${tokenCql(this.schema)} AS ${TOKEN_ALIAS}, `,
    );
  }

  /** The range scan: `token(pk) > ? AND token(pk) <= ?`, plus the operator's --where on both sides. */
  rangeQuery(where: string | undefined): string {
    return `${this.select()}${rangeWhereCql(this.schema, where)}`;
  }

  /** Re-read of one row (or, for statics, of the partition's first row) by primary key. */
  pointQuery(withClustering: boolean): string {
    const keys = [...this.layout.partitionKey, ...(withClustering ? this.layout.clustering : [])].map(
      (c) => `${quoteIdent(c[this.side].name)} = ?`,
    );
    return `${this.select()} WHERE ${keys.join(' AND ')}${withClustering ? '' : ' LIMIT 1'}`;
  }

  /** Per column: the result column names of its value, writetime and TTL (computed once). */
  private accessors(columns: readonly ComparedColumn[]): Accessor[] {
    return columns.map((c) => {
      const column = c[this.side];
      const i = this.aliasIndex.get(column.name)!;
      const meta = carriesWriteTime(column);
      return {
        value: column.name,
        writetime: meta ? writeTimeAlias(i) : undefined,
        ttl: meta ? ttlAlias(i) : undefined,
      };
    });
  }

  private cells(row: Record<string, unknown>, accessors: readonly Accessor[]): CellValue[] {
    const out: CellValue[] = new Array(accessors.length);
    for (let i = 0; i < accessors.length; i++) {
      const a = accessors[i]!;
      out[i] = {
        value: row[a.value] ?? null,
        writetime: a.writetime === undefined ? null : (row[a.writetime] ?? null),
        ttl: a.ttl === undefined ? null : (row[a.ttl] ?? null),
      };
    }
    return out;
  }

  /**
   * Turns rows in scan order into entries: a static entry on each partition's first row (when the
   * table has compared statics), and a row entry unless the row is a static-only partition's (null
   * clustering values).
   */
  *entries(
    rows: Iterable<unknown>,
    previous: { token?: bigint; partition?: readonly unknown[] },
  ): Generator<DiffEntry> {
    const hasStatics = this.layout.statics.length > 0;
    for (const raw of rows) {
      const row = raw as Record<string, unknown>;
      const token = row[TOKEN_ALIAS] as bigint;
      let partition: readonly unknown[] = this.partitionNames.map((n) => row[n]);
      if (
        previous.partition !== undefined &&
        token === previous.token &&
        samePartition(this.layout, partition, previous.partition)
      ) {
        // Same partition as the previous row: share its values.
        partition = previous.partition;
      } else {
        previous.token = token;
        previous.partition = partition;
        if (hasStatics) {
          yield { token, partition, clustering: undefined, cells: this.cells(row, this.staticAccessors) };
        }
      }
      const clustering = this.clusteringNames.map((n) => row[n] ?? null);
      if (clustering.length > 0 && clustering.every((v) => v === null)) continue;
      yield { token, partition, clustering, cells: this.cells(row, this.regularAccessors) };
    }
  }
}

/** Equal partition key values, column by column, as Cassandra decides equality. */
function samePartition(layout: DiffLayout, a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a === b) return true;
  for (let i = 0; i < a.length; i++) if (!layout.partitionKey[i]!.model.equals(a[i], b[i])) return false;
  return true;
}

const cmpBig = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);

/** Scan order of entries: token, partition key bytes, statics first, then clustering order. */
export function entryComparator(layout: DiffLayout): Compare<DiffEntry> {
  const partition = partitionKeyComparator(
    layout.partitionKey.map((c) => c.origin),
    layout.userTypes,
  );
  const clustering = clusteringComparator(
    layout.clustering.map((c) => c.origin),
    layout.userTypes,
  );
  return (a, b) => {
    const byToken = cmpBig(a.token, b.token);
    if (byToken !== 0) return byToken;
    // Partitions sharing a token (rare) are ordered by their serialized key.
    if (!samePartition(layout, a.partition, b.partition)) return partition(a.partition, b.partition);
    if (a.clustering === undefined || b.clustering === undefined) {
      return a.clustering === b.clustering ? 0 : a.clustering === undefined ? -1 : 1;
    }
    return clustering(a.clustering, b.clustering);
  };
}

/** The layout without some value columns (by Origin name), for a repair that must leave them alone. */
export function layoutWithout(layout: DiffLayout, columns: ReadonlySet<string>): DiffLayout {
  const keep = (cs: readonly ComparedColumn[]) => cs.filter((c) => !columns.has(c.origin.name));
  return { ...layout, statics: keep(layout.statics), regulars: keep(layout.regulars) };
}

/** An entry of `layout` with the cells of some columns left out, matching `layoutWithout`. */
export function entryWithout(layout: DiffLayout, entry: DiffEntry, columns: ReadonlySet<string>): DiffEntry {
  const all = entry.clustering === undefined ? layout.statics : layout.regulars;
  return { ...entry, cells: entry.cells.filter((_, i) => !columns.has(all[i]!.origin.name)) };
}

/** The primary key of an entry as `{column: value}` objects, with Origin's column names. */
export function entryKey(layout: DiffLayout, entry: DiffEntry) {
  return {
    token: entry.token.toString(),
    partition: Object.fromEntries(
      layout.partitionKey.map((c, i) => [c.origin.name, c.model.toJson(entry.partition[i])]),
    ),
    clustering:
      entry.clustering === undefined
        ? null
        : Object.fromEntries(
            layout.clustering.map((c, i) => [c.origin.name, c.model.toJson(entry.clustering![i])]),
          ),
  };
}
