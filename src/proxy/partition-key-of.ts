import type { PreparedMetadata, Value } from './codec/index.js';
import { CqlLexer, type CqlToken, identifier, isSymbol, isWord } from './cql-lexer.js';

/**
 * Which partition a write touched, as far as the proxy can tell without the table's schema: the
 * divergence journal records it so `zdm diff --from-journal` can validate exactly that partition.
 */

/** The partition key of a prepared statement: where its bound values sit (spec v4 §4.2.5.4 pk_indexes). */
export interface PreparedKey {
  readonly keyspace: string;
  readonly table: string;
  /** Partition key columns in key order, with the index of the bind marker giving each. */
  readonly columns: readonly { readonly name: string; readonly index: number }[];
}

/**
 * The key of a PREPARED result's bind markers; null when the result names no key (protocol v3, a
 * statement that does not bind every key column, or markers spread over several tables).
 */
export function preparedKeyOf(metadata: PreparedMetadata): PreparedKey | null {
  const { pkIndexes, columns } = metadata;
  if (pkIndexes.length === 0 || columns.length === 0) return null;
  const first = columns[0]!;
  if (columns.some((c) => c.keyspace !== first.keyspace || c.table !== first.table)) return null;
  const keyColumns = pkIndexes.map((index) => ({ name: columns[index]?.name, index }));
  if (keyColumns.some((c) => c.name === undefined)) return null;
  return { keyspace: first.keyspace, table: first.table, columns: keyColumns as PreparedKey['columns'] };
}

/**
 * The partition key values bound to an EXECUTE (or a BATCH child), as hex of their serialized
 * bytes by key column; null when a key value is missing, null or unset (the write then failed on
 * both clusters anyway) or the values are named (their order then need not follow the markers).
 */
export function boundKey(
  key: PreparedKey,
  values: readonly Value[] | null,
  named: boolean,
): Record<string, string> | null {
  if (values === null || named) return null;
  const out: Record<string, string> = {};
  for (const { name, index } of key.columns) {
    const value = values[index];
    if (!Buffer.isBuffer(value)) return null;
    out[name] = value.toString('hex');
  }
  return out;
}

/** What the text of an INSERT, UPDATE or DELETE says about the partition it writes. */
export interface WrittenPartition {
  /** null when the statement does not name its keyspace (the session's applies). */
  readonly keyspace: string | null;
  readonly table: string;
  /**
   * Literal values given to columns: INSERT's column list and VALUES, or the `col = literal`
   * terms of UPDATE/DELETE's WHERE. CQL text as written (strings quoted); the reader keeps the
   * partition key columns, which the proxy cannot tell from the others without the schema.
   */
  readonly literals: Readonly<Record<string, string>>;
}

/**
 * Reads the table and the literal column values of an INSERT, UPDATE or DELETE; null for other
 * statements or text it cannot follow. Bind markers and function calls give no literal, so such
 * columns are left out (the reader then knows the key is incomplete).
 */
export function writtenPartitionOf(text: string): WrittenPartition | null {
  const lexer = new CqlLexer(text, true);
  const verb = lexer.next();
  if (isWord(verb, 'insert')) {
    if (!isWord(lexer.next(), 'into')) return null;
    const table = tableName(lexer);
    if (table === null) return null;
    return insertLiterals(lexer, table);
  }
  if (isWord(verb, 'update')) {
    const table = tableName(lexer);
    if (table === null) return null;
    return skipToWhere(lexer) ? { ...table, literals: whereLiterals(lexer) } : null;
  }
  if (isWord(verb, 'delete')) {
    while (!isWord(lexer.peek(), 'from')) if (lexer.next() === undefined) return null;
    lexer.next();
    const table = tableName(lexer);
    if (table === null) return null;
    return skipToWhere(lexer) ? { ...table, literals: whereLiterals(lexer) } : null;
  }
  return null;
}

function tableName(lexer: CqlLexer): { keyspace: string | null; table: string } | null {
  const first = identifier(lexer.next());
  if (first === null) return null;
  if (!isSymbol(lexer.peek(), '.')) return { keyspace: null, table: first };
  lexer.next();
  const table = identifier(lexer.next());
  return table === null ? null : { keyspace: first, table };
}

function insertLiterals(
  lexer: CqlLexer,
  table: { keyspace: string | null; table: string },
): WrittenPartition | null {
  if (!isSymbol(lexer.next(), '(')) return null; // INSERT ... JSON: no column list to follow
  const names: string[] = [];
  for (;;) {
    const name = identifier(lexer.next());
    if (name === null) return null;
    names.push(name);
    const after = lexer.next();
    if (isSymbol(after, ')')) break;
    if (!isSymbol(after, ',')) return null;
  }
  if (!isWord(lexer.next(), 'values') || !isSymbol(lexer.next(), '(')) return null;
  const literals: Record<string, string> = {};
  for (const name of names) {
    const literal = readLiteral(lexer, [',', ')']);
    if (literal === undefined) return null;
    if (literal !== null) literals[name] = literal;
    lexer.next(); // the ',' or ')' that ended it
  }
  return { ...table, literals };
}

function skipToWhere(lexer: CqlLexer): boolean {
  for (let token = lexer.next(); token !== undefined; token = lexer.next())
    if (isWord(token, 'where')) return true;
  return false;
}

/** `a = 1 AND b = 'x'`: the equalities with a literal; IN, ranges and markers give none. */
function whereLiterals(lexer: CqlLexer): Record<string, string> {
  const literals: Record<string, string> = {};
  for (;;) {
    const name = identifier(lexer.next());
    if (name === null) return literals;
    const operator = lexer.next();
    const literal = isSymbol(operator, '=') ? readLiteral(lexer, []) : null;
    if (literal !== undefined && literal !== null) literals[name] = literal;
    // Skip to the next AND; IF, USING or the end close the WHERE clause.
    for (;;) {
      const token = lexer.peek();
      if (token === undefined || isWord(token, 'if') || isSymbol(token, ';')) return literals;
      lexer.next();
      if (isWord(token, 'and')) break;
    }
  }
}

/**
 * One literal: a string, or a run of words and `-`/`+`/`.`/`:` (numbers, uuids, booleans,
 * blobs, signed numbers). null for a marker, function call or collection; undefined at the end
 * of the text. Stops before any of `enders` and before AND/IF.
 */
function readLiteral(lexer: CqlLexer, enders: readonly string[]): string | null | undefined {
  const first = lexer.peek();
  if (first === undefined) return undefined;
  if (first.kind === 'string') {
    lexer.next();
    return ended(lexer.peek(), enders)
      ? `'${(first.text ?? '').replaceAll("'", "''")}'`
      : skipTerm(lexer, enders);
  }
  let text = '';
  for (let token = lexer.peek(); !ended(token, enders); token = lexer.peek()) {
    if (token!.kind === 'word' || (token!.kind === 'symbol' && '-+.:'.includes(token!.text))) {
      text += token!.text;
      lexer.next();
    } else {
      return skipTerm(lexer, enders);
    }
  }
  return text === '' ? null : text;
}

function ended(token: CqlToken | undefined, enders: readonly string[]): boolean {
  if (token === undefined) return true;
  if (token.kind === 'symbol') return enders.includes(token.text) || token.text === ';';
  return token.kind === 'word' && (token.text === 'and' || token.text === 'if' || token.text === 'using');
}

/** Skips the rest of a term the reader does not follow (nested brackets included); gives null. */
function skipTerm(lexer: CqlLexer, enders: readonly string[]): null | undefined {
  let depth = 0;
  for (let token = lexer.peek(); token !== undefined; token = lexer.peek()) {
    if (depth === 0 && ended(token, enders)) return null;
    if (token.kind === 'symbol' && '([{'.includes(token.text)) depth++;
    if (token.kind === 'symbol' && ')]}'.includes(token.text)) depth--;
    lexer.next();
  }
  return undefined;
}
