import { type WriteRequest, writtenStatements } from './divergence-entries.js';

export interface TableRef {
  readonly keyspace: string;
  readonly table: string;
}

/**
 * The distinct tables a write request writes (a BATCH may write several), in request order;
 * statements whose table the proxy cannot tell (DDL, an unqualified name without a session
 * keyspace, an unreadable body) are left out.
 */
export function writtenTables(write: WriteRequest): TableRef[] {
  const tables = new Map<string, TableRef>();
  for (const { table } of writtenStatements(write)) {
    if (table === null || tables.has(table)) continue;
    // Keyspace names are letters, digits and underscores only (CQL identifiers of schema
    // objects), so the first dot of `ks.t` is the separator.
    const dot = table.indexOf('.');
    tables.set(table, { keyspace: table.slice(0, dot), table: table.slice(dot + 1) });
  }
  return [...tables.values()];
}
