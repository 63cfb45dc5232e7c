import { quoteIdent } from '../schema/identifier.js';
import type { PlannedWrite } from './cell-plan.js';

export interface WriteTarget {
  /** `ks.table` as CQL. */
  readonly tableCql: string;
  /** Target names of the partition key columns, in order. */
  readonly partitionKey: readonly string[];
  /** Target names of the clustering columns, in order. */
  readonly clustering: readonly string[];
}

export interface Statement {
  readonly query: string;
  readonly params: unknown[];
}

function assignmentCql(a: PlannedWrite['assignments'][number]): string {
  const column = quoteIdent(a.column);
  switch (a.op) {
    case 'set':
      return `${column} = ?`;
    case 'add':
      return `${column} = ${column} + ?`;
    case 'field':
      return `${column}.${quoteIdent(a.field)} = ?`;
  }
}

/**
 * CQL and bound values for one planned write. `keyValues` are the partition key values followed by
 * the clustering values (static writes use only the partition key). Query texts depend only on the
 * shape of the write, so the driver's prepared-statement cache serves every row of that shape.
 */
export function writeStatement(
  target: WriteTarget,
  write: PlannedWrite,
  keyValues: readonly unknown[],
): Statement {
  const keyCount =
    write.kind === 'static'
      ? target.partitionKey.length
      : target.partitionKey.length + target.clustering.length;
  const values = write.assignments.map((a) => a.value);
  const keyParams = keyValues.length === keyCount ? keyValues : keyValues.slice(0, keyCount);
  const query = writeQuery(target, write);
  return write.kind === 'insert'
    ? { query, params: [...keyParams, ...values, write.timestamp, write.ttl] }
    : { query, params: [write.timestamp, write.ttl, ...values, ...keyParams] };
}

/** Query texts by shape, per target: built once, then found by a short key (the per-row path). */
const queryCache = new WeakMap<WriteTarget, Map<string, string>>();

function shapeKey(write: PlannedWrite): string {
  let key: string = write.kind;
  for (const a of write.assignments)
    key += a.op === 'field' ? `\u0000${a.column}.${a.field}` : `\u0000${a.op}${a.column}`;
  return key;
}

function writeQuery(target: WriteTarget, write: PlannedWrite): string {
  let cache = queryCache.get(target);
  if (cache === undefined) {
    cache = new Map();
    queryCache.set(target, cache);
  }
  const key = shapeKey(write);
  let query = cache.get(key);
  if (query === undefined) {
    query = buildQuery(target, write);
    cache.set(key, query);
  }
  return query;
}

function buildQuery(target: WriteTarget, write: PlannedWrite): string {
  const keys = write.kind === 'static' ? target.partitionKey : [...target.partitionKey, ...target.clustering];
  if (write.kind === 'insert') {
    const columns = [...keys.map(quoteIdent), ...write.assignments.map((a) => quoteIdent(a.column))];
    return `INSERT INTO ${target.tableCql} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')}) USING TIMESTAMP ? AND TTL ?`;
  }
  const where = keys.map((k) => `${quoteIdent(k)} = ?`).join(' AND ');
  return `UPDATE ${target.tableCql} USING TIMESTAMP ? AND TTL ? SET ${write.assignments.map(assignmentCql).join(', ')} WHERE ${where}`;
}
