import type cassandra from 'cassandra-driver';
import { cqlValueModel } from '../../src/schema/cql-value/index.js';
import { serializerOf } from '../../src/schema/cql-value/serialize.js';
import { readTableSchema } from '../../src/schema/introspect.js';
import {
  allColumns,
  carriesWriteTime,
  primaryKeyColumns,
  selectWithMetadataCql,
  ttlAlias,
  valueColumns,
  writeTimeAlias,
} from '../../src/schema/table-schema.js';

export interface CellSnapshot {
  /** The serialized value as hex ('null' for none): equal exactly when Cassandra calls the values equal. */
  readonly value: string;
  /** The value's JSON form, for messages. */
  readonly shown: string;
  readonly writetime: string;
  /** When the cell expires (seconds since the epoch, or a list of them for multi-cell columns); null: never. */
  readonly ttl: unknown;
}

/** The key of a row in a snapshot, from its primary key values in their JSON form (text as is). */
export const snapshotKey = (...jsonValues: readonly unknown[]): string => JSON.stringify(jsonValues);

/** Every row of a table, keyed by primary key, with each cell's value, writetime and TTL. */
export async function snapshotTable(
  client: cassandra.Client,
  keyspace: string,
  table: string,
): Promise<Map<string, Record<string, CellSnapshot>>> {
  const schema = await readTableSchema(client, keyspace, table);
  const rows = new Map<string, Record<string, CellSnapshot>>();
  const values = valueColumns(schema);
  const query = selectWithMetadataCql(schema, allColumns(schema));
  const all: { row: cassandra.types.Row; at: number }[] = [];
  let pageState: string | undefined;
  do {
    const page = await client.execute(query, [], {
      prepare: true,
      fetchSize: 500,
      ...(pageState ? { pageState } : {}),
    });
    // Remaining TTLs are turned into expiry instants as of when the page arrived, so two snapshots
    // read a few seconds apart (a busy cluster) still compare equal.
    const at = Date.now() / 1000;
    for (const row of page.rows) all.push({ row, at });
    pageState = page.pageState ?? undefined;
  } while (pageState);
  const keyModels = primaryKeyColumns(schema).map((c) => ({
    c,
    model: cqlValueModel(c.type, schema.userTypes),
  }));
  const valueModels = values.map((c) => ({
    model: cqlValueModel(c.type, schema.userTypes),
    serialize: serializerOf(c.type, schema.userTypes),
  }));
  for (const { row, at } of all) {
    const r = row as unknown as Record<string, unknown>;
    // Keys read from one table: their JSON form is exact per type (and readable in messages).
    const key = JSON.stringify(keyModels.map(({ c, model }) => model.toJson(r[c.name])));
    const cells: Record<string, CellSnapshot> = {};
    values.forEach((c, i) => {
      const v = r[c.name];
      const { model, serialize } = valueModels[i]!;
      cells[c.name] = {
        value: v === null || v === undefined ? 'null' : serialize(v).toString('hex'),
        shown: JSON.stringify(model.toJson(v)),
        writetime: carriesWriteTime(c) ? writetimeText(r[writeTimeAlias(i)]) : '',
        ttl: carriesWriteTime(c) ? expiry(r[ttlAlias(i)], at) : null,
      };
    });
    rows.set(key, cells);
  }
  return rows;
}

/** A writetime (µs) or a list of them (multi-cell columns) as text. */
function writetimeText(w: unknown): string {
  if (Array.isArray(w)) return `[${w.map(writetimeText).join(',')}]`;
  return w === null || w === undefined ? 'null' : String(w);
}

/** Seconds since the epoch when a cell expires, from its remaining TTL read at `at` (lists element-wise). */
function expiry(ttl: unknown, at: number): unknown {
  if (Array.isArray(ttl)) return ttl.map((t) => expiry(t, at));
  return ttl === null || ttl === undefined ? null : at + Number(ttl);
}

/** Expiry instants equal within `tolerance` seconds (element-wise for lists). */
export function ttlClose(a: unknown, b: unknown, tolerance = 2): boolean {
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => ttlClose(x, b[i], tolerance));
  if (a === null || a === undefined || b === null || b === undefined) return (a ?? null) === (b ?? null);
  return Math.abs(Number(a) - Number(b)) <= tolerance;
}

/** Lists every cell that differs between two snapshots, for assertion messages. */
export function snapshotDifferences(
  origin: Map<string, Record<string, CellSnapshot>>,
  target: Map<string, Record<string, CellSnapshot>>,
  options: { ignoreWritetime?: readonly string[]; ttlToleranceS?: number } = {},
): string[] {
  const out: string[] = [];
  for (const [key, cells] of origin) {
    const other = target.get(key);
    if (other === undefined) {
      out.push(`missing row ${key}`);
      continue;
    }
    for (const [column, cell] of Object.entries(cells)) {
      const t = other[column];
      if (t === undefined) out.push(`${key} ${column}: missing column`);
      else if (t.value !== cell.value) out.push(`${key} ${column}: value ${cell.shown} vs ${t.shown}`);
      else if (!options.ignoreWritetime?.includes(column) && t.writetime !== cell.writetime)
        out.push(`${key} ${column}: writetime ${cell.writetime} vs ${t.writetime}`);
      else if (!ttlClose(cell.ttl, t.ttl, options.ttlToleranceS))
        out.push(`${key} ${column}: ttl ${String(cell.ttl)} vs ${String(t.ttl)}`);
    }
  }
  for (const key of target.keys()) if (!origin.has(key)) out.push(`extra row ${key}`);
  return out;
}
