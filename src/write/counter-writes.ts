import { quoteIdent } from '../schema/identifier.js';
import type { Statement, WriteTarget } from './write-statement.js';

const asBigint = (v: unknown): bigint => (v === null || v === undefined ? 0n : BigInt(String(v)));

/**
 * Counter deltas that bring Target to Origin's values: Origin minus Target per column (an absent
 * counter counts as 0). Counters can only be added to, so this is what makes a rerun harmless: a
 * second pass finds nothing to add.
 */
export function counterDeltas(
  originValues: readonly unknown[],
  targetValues: readonly unknown[] | undefined,
): bigint[] {
  return originValues.map((v, i) => asBigint(v) - asBigint(targetValues?.[i]));
}

/**
 * `UPDATE ... SET c = c + ?` adding each delta, for a row (partition and clustering values) or, with
 * only the partition key values, for a partition's static counters. Undefined when nothing changes
 * and the row need not be created. Never retried: adding twice is not idempotent.
 */
export function counterUpdate(
  target: WriteTarget,
  changes: readonly { readonly column: string; readonly delta: bigint }[],
  keyValues: readonly unknown[],
): Statement | undefined {
  if (changes.length === 0) return undefined;
  const keys = [...target.partitionKey, ...target.clustering].slice(0, keyValues.length);
  const set = changes.map((c) => `${quoteIdent(c.column)} = ${quoteIdent(c.column)} + ?`).join(', ');
  const where = keys.map((k) => `${quoteIdent(k)} = ?`).join(' AND ');
  return {
    query: `UPDATE ${target.tableCql} SET ${set} WHERE ${where}`,
    params: [...changes.map((c) => c.delta), ...keyValues],
  };
}
