import type { CqlClient } from '../connect/cluster-client.js';
import { OperatorError } from '../errors.js';
import { type CqlType, parseCqlType } from './cql-type.js';
import type { ColumnKind, ColumnSchema, TableSchema, UserTypeSchema } from './table-schema.js';

const KIND_ORDER: Readonly<Record<ColumnKind, number>> = {
  partition_key: 0,
  clustering: 1,
  static: 2,
  regular: 3,
};

function userTypesUsed(type: CqlType, into: Set<string>): void {
  switch (type.kind) {
    case 'udt':
      into.add(type.name);
      return;
    case 'list':
    case 'set':
    case 'vector':
      userTypesUsed(type.element, into);
      return;
    case 'map':
      userTypesUsed(type.key, into);
      userTypesUsed(type.value, into);
      return;
    case 'tuple':
      for (const e of type.elements) userTypesUsed(e, into);
      return;
    default:
  }
}

async function readUserTypes(
  client: CqlClient,
  keyspace: string,
  wanted: Set<string>,
): Promise<ReadonlyMap<string, UserTypeSchema>> {
  const types = new Map<string, UserTypeSchema>();
  if (wanted.size === 0) return types;
  const rows = await client.execute(
    'SELECT type_name, field_names, field_types FROM system_schema.types WHERE keyspace_name = ?',
    [keyspace],
  );
  const byName = new Map(rows.rows.map((r) => [String(r.get('type_name')), r]));
  // UDT fields may themselves use UDTs: follow them until none is new.
  const queue = [...wanted];
  while (queue.length > 0) {
    const name = queue.pop()!;
    if (types.has(name)) continue;
    const row = byName.get(name);
    if (row === undefined) continue;
    const names = row.get('field_names') as string[];
    const typeTexts = row.get('field_types') as string[];
    const fields = names.map((fieldName, i) => {
      const typeText = typeTexts[i]!;
      return Object.freeze({ name: fieldName, type: parseCqlType(typeText), typeText });
    });
    types.set(name, Object.freeze({ keyspace, name, fields: Object.freeze(fields) }));
    const nested = new Set<string>();
    for (const f of fields) userTypesUsed(f.type, nested);
    queue.push(...nested);
  }
  return types;
}

/**
 * Reads a table's definition from system_schema. A missing keyspace or table is an operator error
 * naming the cluster, so a job can stop before it writes anything.
 */
export async function readTableSchema(
  client: CqlClient,
  keyspace: string,
  table: string,
  clusterName = 'the cluster',
): Promise<TableSchema> {
  const ks = await client.execute(
    'SELECT keyspace_name FROM system_schema.keyspaces WHERE keyspace_name = ?',
    [keyspace],
  );
  if (ks.rowLength === 0) {
    throw new OperatorError('KEYSPACE_NOT_FOUND', `Keyspace ${keyspace} does not exist on ${clusterName}.`);
  }
  const tables = await client.execute(
    'SELECT default_time_to_live FROM system_schema.tables WHERE keyspace_name = ? AND table_name = ?',
    [keyspace, table],
  );
  const tableRow = tables.first();
  if (tableRow === null) {
    throw new OperatorError(
      'TABLE_NOT_FOUND',
      `Table ${keyspace}.${table} does not exist on ${clusterName}.`,
    );
  }
  const columnRows = await client.execute(
    'SELECT column_name, kind, position, type, clustering_order FROM system_schema.columns WHERE keyspace_name = ? AND table_name = ?',
    [keyspace, table],
  );
  const columns: ColumnSchema[] = columnRows.rows.map((r) => {
    const typeText = String(r.get('type'));
    const kind = String(r.get('kind')) as ColumnKind;
    const order = String(r.get('clustering_order')).toUpperCase();
    return Object.freeze({
      name: String(r.get('column_name')),
      kind,
      position: Number(r.get('position')),
      type: parseCqlType(typeText),
      typeText,
      clusteringOrder: kind === 'clustering' ? (order === 'DESC' ? 'DESC' : 'ASC') : undefined,
    });
  });
  columns.sort(
    (a, b) =>
      KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || a.position - b.position || a.name.localeCompare(b.name),
  );
  const used = new Set<string>();
  for (const c of columns) userTypesUsed(c.type, used);
  const of = (kind: ColumnKind) => Object.freeze(columns.filter((c) => c.kind === kind));
  return Object.freeze({
    keyspace,
    table,
    partitionKey: of('partition_key'),
    clustering: of('clustering'),
    statics: of('static'),
    regulars: of('regular'),
    defaultTtl: Number(tableRow.get('default_time_to_live') ?? 0),
    userTypes: await readUserTypes(client, keyspace, used),
  });
}
