/** Reserved CQL keywords (Cassandra 5.0): these must be double-quoted even when lower case. */
const RESERVED = new Set(
  (
    'add allow alter and apply asc authorize batch begin by columnfamily create default delete desc describe drop ' +
    'entries execute from full grant if in index infinity is keyspace limit mbean mbeans modify nan norecursive ' +
    'not null of on or order primary rename replace revoke schema select set table to token truncate unlogged ' +
    'unset update use using view where with'
  ).split(' '),
);

const SIMPLE = /^[a-z][a-z0-9_]*$/;

/** CQL text for a column, table or keyspace name: quoted when case-sensitive, odd or reserved. */
export function quoteIdent(name: string): string {
  return SIMPLE.test(name) && !RESERVED.has(name) ? name : `"${name.replaceAll('"', '""')}"`;
}

/** `keyspace.table` as CQL. */
export function qualifiedName(keyspace: string, table: string): string {
  return `${quoteIdent(keyspace)}.${quoteIdent(table)}`;
}

/**
 * Splits the `keyspace.table` argument of a command. Double quotes keep case and dots
 * (`"MyKs"."My.Table"`); unquoted names are folded to lower case, as CQL does.
 */
export function parseTableName(text: string): { keyspace: string; table: string } | undefined {
  const parts: string[] = [];
  let i = 0;
  while (i <= text.length) {
    if (text[i] === '"') {
      let j = i + 1;
      let name = '';
      while (j < text.length) {
        if (text[j] === '"' && text[j + 1] === '"') {
          name += '"';
          j += 2;
        } else if (text[j] === '"') break;
        else name += text[j++];
      }
      if (j >= text.length) return undefined;
      parts.push(name);
      i = j + 1;
    } else {
      let j = i;
      while (j < text.length && text[j] !== '.') j++;
      parts.push(text.slice(i, j).toLowerCase());
      i = j;
    }
    if (i < text.length && text[i] !== '.') return undefined;
    i++;
  }
  if (parts.length !== 2 || parts.some((p) => p === '')) return undefined;
  return { keyspace: parts[0]!, table: parts[1]! };
}
