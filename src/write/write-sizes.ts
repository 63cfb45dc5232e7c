import { cqlValueModel } from '../schema/cql-value/index.js';
import type { ColumnSchema, TableSchema } from '../schema/table-schema.js';
import type { Assignment } from './cell-plan.js';

/**
 * Serialized sizes of what the Target writer sends, from the CQL value model of each column's type
 * (the bytes Cassandra counts in a mutation's data size), for the batching decisions.
 */
export interface WriteSizes {
  /** Partition key values, then clustering values. */
  keys(values: readonly unknown[]): number;
  assignment(assignment: Assignment): number;
}

type Size = (value: unknown) => number;

/** Sizes for one table's writes: key columns and the written columns, by their Target names. */
export function writeSizesFor(
  schema: TableSchema,
  columns: readonly { readonly column: ColumnSchema; readonly targetName: string }[],
): WriteSizes {
  const sizeOf = (column: ColumnSchema): Size => cqlValueModel(column.type, schema.userTypes).estimateSize;
  const keySizes = [...schema.partitionKey, ...schema.clustering].map(sizeOf);
  const columnSizes = new Map(columns.map((c) => [c.targetName, sizeOf(c.column)]));
  const fieldSizes = new Map<string, Size>();
  for (const { column, targetName } of columns) {
    if (column.type.kind !== 'udt') continue;
    for (const field of schema.userTypes.get(column.type.name)?.fields ?? [])
      fieldSizes.set(`${targetName}.${field.name}`, cqlValueModel(field.type, schema.userTypes).estimateSize);
  }
  const measured = (size: Size | undefined, value: unknown): number =>
    value === null || value === undefined || size === undefined ? 0 : size(value);
  return {
    keys: (values) => values.reduce<number>((n, v, i) => n + measured(keySizes[i], v), 0),
    assignment: (a) =>
      measured(
        a.op === 'field' ? fieldSizes.get(`${a.column}.${a.field}`) : columnSizes.get(a.column),
        a.value,
      ),
  };
}
