import type { TableRef } from './written-tables.js';

/** The label of tables past the cap; parentheses cannot occur in a CQL table name, so it never collides. */
export const OTHER_TABLES: TableRef = { keyspace: '(other)', table: '(other)' };
/** The label of a write whose table the proxy could not tell (DDL, an unreadable body). */
export const UNKNOWN_TABLE: TableRef = { keyspace: '(unknown)', table: '(unknown)' };

/**
 * Keyspace and table labels with bounded cardinality: the first `cap` distinct tables get labels
 * of their own, every later one counts under OTHER_TABLES. First come, kept: a series never
 * changes meaning while the process runs.
 */
export class TableLabels {
  readonly #known = new Set<string>();

  constructor(readonly cap: number) {}

  of(ref: TableRef): TableRef {
    const key = `${ref.keyspace}.${ref.table}`;
    if (this.#known.has(key)) return ref;
    if (this.#known.size >= this.cap) return OTHER_TABLES;
    this.#known.add(key);
    return ref;
  }
}
