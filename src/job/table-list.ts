import { OperatorError } from '../errors.js';
import { parseTableName, qualifiedName, quoteIdent } from '../schema/identifier.js';

/** `--help` text of the table argument of migrate and diff. */
export const TABLE_ARGUMENT_HELP =
  'keyspace.table on Origin; several separated by commas (ks.t1,ks.t2); or a keyspace alone for all its tables, counter tables included (quote case-sensitive names: \'"Ks"."Table"\')';

/** What the table argument of migrate/diff names: one table, several, or every table of a keyspace. */
export type TableSelection =
  | { readonly kind: 'tables'; readonly tables: readonly string[] }
  | { readonly kind: 'keyspace'; readonly keyspace: string };

/** Splits `a,"b,c"` on the commas outside double quotes. */
function splitOutsideQuotes(text: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (const c of text) {
    if (c === '"') quoted = !quoted;
    if (c === ',' && !quoted) {
      parts.push(current);
      current = '';
    } else current += c;
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

/** A keyspace name alone (`shop`, `"Shop"`), folded as CQL folds it; undefined if it is not one. */
function keyspaceName(text: string): string | undefined {
  if (/^"(?:[^"]|"")+"$/.test(text)) return text.slice(1, -1).replaceAll('""', '"');
  if (/^[A-Za-z][A-Za-z0-9_]*$/.test(text)) return text.toLowerCase();
  return undefined;
}

/**
 * Reads the table argument: `ks.t` (one table), `ks.t1,ks.t2` (those tables, in that order), or
 * `ks` (every table of the keyspace). Table names come back as canonical `keyspace.table` CQL.
 */
export function parseTableSelection(text: string): TableSelection {
  const parts = splitOutsideQuotes(text);
  if (parts.length === 0)
    throw new OperatorError(
      'BAD_TABLE_NAME',
      'No table given.',
      'Give keyspace.table, a list, or a keyspace.',
    );
  if (parts.length === 1) {
    const keyspace = keyspaceName(parts[0]!);
    if (keyspace !== undefined) return { kind: 'keyspace', keyspace };
  }
  const tables = parts.map((part) => {
    const parsed = parseTableName(part);
    if (parsed === undefined)
      throw new OperatorError(
        'BAD_TABLE_NAME',
        `"${part}" is not a keyspace.table name.`,
        'Give keyspace.table, several separated by commas, or a keyspace alone for all its tables.',
      );
    return qualifiedName(parsed.keyspace, parsed.table);
  });
  return { kind: 'tables', tables: [...new Set(tables)] };
}

/** The tables of a keyspace as `keyspace.table` CQL, sorted; an empty or unknown keyspace is an error. */
export function keyspaceTables(keyspace: string, tableNames: readonly string[]): string[] {
  if (tableNames.length === 0)
    throw new OperatorError(
      'NO_TABLES',
      `Keyspace ${quoteIdent(keyspace)} has no tables on Origin (or does not exist).`,
      'Check the keyspace name (quote it if it has capitals: \'"MyKs"\').',
    );
  return [...tableNames].sort().map((t) => qualifiedName(keyspace, t));
}

/** How one table of a multi-table run ended. */
export interface TableOutcome {
  readonly table: string;
  readonly exitCode: number;
  /** Set when the table could not run at all (bad schema, unreachable...). */
  readonly error?: string;
}

/**
 * The exit code of a multi-table run: 130 if interrupted, otherwise the worst outcome (2 and 3
 * rank above 1, which ranks above 0), so a script sees the most serious thing that happened.
 */
export function combinedExitCode(outcomes: readonly TableOutcome[], interrupted: number): number {
  if (outcomes.some((o) => o.exitCode === interrupted)) return interrupted;
  const rank = (code: number) => (code === 0 ? 0 : code === 1 ? 1 : 2 + code);
  return outcomes.reduce((worst, o) => (rank(o.exitCode) > rank(worst) ? o.exitCode : worst), 0);
}
