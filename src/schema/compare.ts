import type { CqlType } from './cql-type.js';
import { formatCqlType } from './cql-type.js';
import type { ColumnSchema, TableSchema, UserTypeSchema } from './table-schema.js';
import { allColumns, primaryKeyColumns } from './table-schema.js';

/** How Origin columns map onto Target: some skipped, some renamed. */
export interface ColumnMapping {
  readonly skip: ReadonlySet<string>;
  /** Origin column name → Target column name. */
  readonly rename: ReadonlyMap<string, string>;
}

export const IDENTITY_MAPPING: ColumnMapping = { skip: new Set(), rename: new Map() };

export type IncompatibilityKind =
  | 'missing_column'
  | 'extra_key_column'
  | 'type_mismatch'
  | 'kind_mismatch'
  | 'partition_key_mismatch'
  | 'clustering_mismatch'
  | 'skipped_key_column'
  | 'unknown_mapped_column';

export interface Incompatibility {
  readonly kind: IncompatibilityKind;
  readonly column: string | undefined;
  readonly message: string;
}

interface TypeScope {
  readonly types: ReadonlyMap<string, UserTypeSchema>;
}

/**
 * Whether values of Origin type `a` can be written as Target type `b` unchanged. UDTs compare by
 * structure (their keyspaces may differ); a Target UDT may have extra fields at the end.
 */
export function typesCompatible(a: CqlType, aScope: TypeScope, b: CqlType, bScope: TypeScope): boolean {
  switch (a.kind) {
    case 'native':
    case 'custom':
      return formatCqlType(a) === formatCqlType(b);
    case 'list':
    case 'set':
      return (
        b.kind === a.kind && a.frozen === b.frozen && typesCompatible(a.element, aScope, b.element, bScope)
      );
    case 'map':
      return (
        b.kind === 'map' &&
        a.frozen === b.frozen &&
        typesCompatible(a.key, aScope, b.key, bScope) &&
        typesCompatible(a.value, aScope, b.value, bScope)
      );
    case 'tuple':
      return (
        b.kind === 'tuple' &&
        a.elements.length === b.elements.length &&
        a.elements.every((e, i) => typesCompatible(e, aScope, b.elements[i]!, bScope))
      );
    case 'vector':
      return (
        b.kind === 'vector' &&
        a.dimension === b.dimension &&
        typesCompatible(a.element, aScope, b.element, bScope)
      );
    case 'udt': {
      if (b.kind !== 'udt' || a.frozen !== b.frozen) return false;
      const aType = aScope.types.get(a.name);
      const bType = bScope.types.get(b.name);
      if (aType === undefined || bType === undefined) return a.name === b.name;
      return aType.fields.every((f, i) => {
        const g = bType.fields[i];
        return g !== undefined && g.name === f.name && typesCompatible(f.type, aScope, g.type, bScope);
      });
    }
  }
}

const describeKey = (columns: readonly ColumnSchema[]) =>
  columns.map((c) => `${c.name}${c.clusteringOrder === 'DESC' ? ' DESC' : ''}`).join(', ') || '(none)';

/**
 * Every reason rows of `origin` cannot be copied into `target` as they are, under `mapping`.
 * An empty list means compatible. Extra non-key Target columns are allowed (they stay unset).
 */
export function compareTables(
  origin: TableSchema,
  target: TableSchema,
  mapping: ColumnMapping = IDENTITY_MAPPING,
): Incompatibility[] {
  const problems: Incompatibility[] = [];
  const add = (kind: IncompatibilityKind, column: string | undefined, message: string) =>
    problems.push({ kind, column, message });
  const originNames = new Set(allColumns(origin).map((c) => c.name));
  for (const name of [...mapping.skip, ...mapping.rename.keys()]) {
    if (!originNames.has(name))
      add(
        'unknown_mapped_column',
        name,
        `column ${name} is skipped or renamed but Origin has no such column`,
      );
  }
  const targetName = (c: ColumnSchema) => mapping.rename.get(c.name) ?? c.name;
  const targetColumns = new Map(allColumns(target).map((c) => [c.name, c]));
  const originScope = { types: origin.userTypes };
  const targetScope = { types: target.userTypes };

  for (const column of allColumns(origin)) {
    if (mapping.skip.has(column.name)) {
      if (column.kind === 'partition_key' || column.kind === 'clustering') {
        add('skipped_key_column', column.name, `primary key column ${column.name} cannot be skipped`);
      }
      continue;
    }
    const name = targetName(column);
    const other = targetColumns.get(name);
    const label = name === column.name ? column.name : `${column.name} (as ${name})`;
    if (other === undefined) {
      add('missing_column', column.name, `column ${label} of type ${column.typeText} is missing on Target`);
      continue;
    }
    if (other.kind !== column.kind) {
      add(
        'kind_mismatch',
        column.name,
        `column ${label} is ${column.kind} on Origin but ${other.kind} on Target`,
      );
    }
    if (!typesCompatible(column.type, originScope, other.type, targetScope)) {
      add(
        'type_mismatch',
        column.name,
        `column ${label} is ${column.typeText} on Origin but ${other.typeText} on Target`,
      );
    }
  }

  const mappedKey = (columns: readonly ColumnSchema[]) =>
    columns.map((c) => `${targetName(c)}${c.clusteringOrder === 'DESC' ? ' DESC' : ''}`).join(', ') ||
    '(none)';
  if (mappedKey(origin.partitionKey) !== describeKey(target.partitionKey)) {
    add(
      'partition_key_mismatch',
      undefined,
      `partition key is (${describeKey(origin.partitionKey)}) on Origin but (${describeKey(target.partitionKey)}) on Target`,
    );
  }
  if (mappedKey(origin.clustering) !== describeKey(target.clustering)) {
    add(
      'clustering_mismatch',
      undefined,
      `clustering is (${describeKey(origin.clustering)}) on Origin but (${describeKey(target.clustering)}) on Target`,
    );
  }
  const mappedNames = new Set(
    allColumns(origin)
      .filter((c) => !mapping.skip.has(c.name))
      .map(targetName),
  );
  for (const column of primaryKeyColumns(target)) {
    if (!mappedNames.has(column.name)) {
      add(
        'extra_key_column',
        column.name,
        `Target primary key column ${column.name} has no Origin column to fill it`,
      );
    }
  }
  return problems;
}
