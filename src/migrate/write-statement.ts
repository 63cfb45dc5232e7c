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
  const keys = write.kind === 'static' ? target.partitionKey : [...target.partitionKey, ...target.clustering];
  const keyParams = keyValues.slice(0, keys.length);
  const values = write.assignments.map((a) => a.value);
  if (write.kind === 'insert') {
    const columns = [...keys.map(quoteIdent), ...write.assignments.map((a) => quoteIdent(a.column))];
    return {
      query: `INSERT INTO ${target.tableCql} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')}) USING TIMESTAMP ? AND TTL ?`,
      params: [...keyParams, ...values, write.timestamp, write.ttl],
    };
  }
  const where = keys.map((k) => `${quoteIdent(k)} = ?`).join(' AND ');
  return {
    query: `UPDATE ${target.tableCql} USING TIMESTAMP ? AND TTL ? SET ${write.assignments.map(assignmentCql).join(', ')} WHERE ${where}`,
    params: [write.timestamp, write.ttl, ...values, ...keyParams],
  };
}
