import { type CqlToken, cqlTokens, identifier, isSymbol, isWord } from './cql-lexer.js';

/** What the proxy needs to know about a CQL statement to route it and to stamp it. */
export type Statement =
  | {
      readonly kind: 'select';
      /** null when unqualified (the session's keyspace applies). */
      readonly keyspace: string | null;
      readonly table: string;
      /** Selected column names; '*' for all; null for anything else (functions, JSON, casts). */
      readonly columns: readonly string[] | '*' | null;
    }
  | { readonly kind: 'use'; readonly keyspace: string }
  | {
      /** INSERT, UPDATE, DELETE or BEGIN ... BATCH. */
      readonly kind: 'write';
      /** Lightweight transaction (IF ...): Cassandra forbids client timestamps there. */
      readonly conditional: boolean;
      /** Counter update or COUNTER batch: timestamps do not apply. */
      readonly counter: boolean;
      /** USING TIMESTAMP given in the statement. */
      readonly timestamped: boolean;
    }
  /** DDL, permissions, anything not recognised: sent to both clusters. */
  | { readonly kind: 'other' };

/** Classifies a statement from its text. Unknown or malformed text is `other`, which goes to both clusters. */
export function classifyStatement(text: string): Statement {
  const tokens = cqlTokens(text);
  const first = tokens[0];
  if (first?.kind !== 'word') return { kind: 'other' };
  switch (first.text) {
    case 'select':
      return classifySelect(tokens) ?? { kind: 'other' };
    case 'use': {
      const keyspace = identifier(tokens[1]);
      return keyspace === null ? { kind: 'other' } : { kind: 'use', keyspace };
    }
    case 'insert':
    case 'update':
    case 'delete':
    case 'begin':
      return classifyWrite(first.text, tokens);
    default:
      return { kind: 'other' };
  }
}

function classifySelect(tokens: readonly CqlToken[]): Statement | null {
  let i = 1;
  let plain = true;
  if (isWord(tokens[i], 'json')) {
    plain = false;
    i++;
  }
  if (isWord(tokens[i], 'distinct')) i++;
  const from = tokens.findIndex((t, at) => at >= i && isWord(t, 'from'));
  if (from < 0) return null;
  const columns = plain ? selection(tokens.slice(i, from)) : null;
  const first = identifier(tokens[from + 1]);
  if (first === null) return null;
  if (isSymbol(tokens[from + 2], '.')) {
    const table = identifier(tokens[from + 3]);
    return table === null ? null : { kind: 'select', keyspace: first, table, columns };
  }
  return { kind: 'select', keyspace: null, table: first, columns };
}

/** `*`, or `a, b AS c` as names; null for anything more (function calls, casts, literals). */
function selection(tokens: readonly CqlToken[]): readonly string[] | '*' | null {
  if (tokens.length === 1 && isSymbol(tokens[0], '*')) return '*';
  const names: string[] = [];
  let i = 0;
  while (i < tokens.length) {
    const name = identifier(tokens[i]);
    if (name === null) return null;
    i++;
    if (isWord(tokens[i], 'as')) {
      if (identifier(tokens[i + 1]) === null) return null;
      i += 2;
    }
    names.push(name);
    if (i === tokens.length) break;
    if (!isSymbol(tokens[i], ',')) return null;
    i++;
  }
  return names.length === 0 ? null : names;
}

function classifyWrite(first: string, tokens: readonly CqlToken[]): Statement {
  let conditional = false;
  let timestamped = false;
  let counter = first === 'begin' && isWord(tokens[1], 'counter');
  for (let i = 1; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.kind !== 'word') continue;
    if (token.text === 'if') conditional = true;
    else if (token.text === 'timestamp' && (isWord(tokens[i - 1], 'using') || isWord(tokens[i - 1], 'and')))
      timestamped = true;
    // c = c + 1 / c = c - ? : a counter update (list appends look alike; they only lose the stamp).
    else if (
      isSymbol(tokens[i + 1], '=') &&
      identifier(tokens[i + 2]) === token.text &&
      (isSymbol(tokens[i + 3], '+') || isSymbol(tokens[i + 3], '-'))
    )
      counter = first === 'update' || first === 'begin' ? true : counter;
  }
  return { kind: 'write', conditional, counter, timestamped };
}

/** Writes that get the proxy's default timestamp, so both clusters store the same writetime. */
export function wantsDefaultTimestamp(statement: Statement): boolean {
  return statement.kind === 'write' && !statement.conditional && !statement.counter && !statement.timestamped;
}
