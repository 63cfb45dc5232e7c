import { BatchType } from './codec/index.js';
import { CqlLexer, type CqlToken, identifier, isNumber, isSymbol, isWord } from './cql-lexer.js';

/**
 * A write updates counters: `true` for `c = c ± 1` or a COUNTER batch; `'bind-marker'` for
 * `x = x ± ?`, which is a counter update or a collection append/removal depending on the column's
 * type (the text cannot tell; a PREPARED result's variable types can, see `settleCounter`);
 * `false` otherwise.
 */
export type CounterUpdate = boolean | 'bind-marker';

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
      /** Lightweight transaction (IF ...): its writetime comes from Paxos, not from a client. */
      readonly conditional: boolean;
      /** Counter updates carry no writetime of their own. */
      readonly counter: CounterUpdate;
      /**
       * USING TIMESTAMP given in the statement. It does not exempt the statement from the shared
       * default timestamp: Cassandra prefers the statement's own, so the shared one is harmless
       * there and still stamps the other statements of a batch.
       */
      readonly timestamped: boolean;
    }
  /** DESCRIBE and LIST (roles, users, permissions): read-only, answered by the primary alone. */
  | { readonly kind: 'read-only' }
  /** DDL, permissions, anything not recognised: sent to both clusters. */
  | { readonly kind: 'other' };

const OTHER: Statement = { kind: 'other' };
const READ_ONLY: Statement = { kind: 'read-only' };

/**
 * Selection lists longer than this are not kept: the selected names only matter to the virtual
 * system tables, and a hostile statement must not make the proxy hold one string per token.
 */
const MAX_SELECTION_TOKENS = 4096;

/**
 * Classifies a statement from its text, reading it to the end whatever its length (an `IF` or a
 * counter update may come last). Unknown or malformed text is `other`, which goes to both clusters.
 */
export function classifyStatement(text: string): Statement {
  const lexer = new CqlLexer(text);
  const first = lexer.next();
  if (first?.kind !== 'word') return OTHER;
  switch (first.text) {
    case 'select':
      return classifySelect(lexer) ?? OTHER;
    case 'use': {
      const keyspace = identifier(lexer.next());
      return keyspace === null ? OTHER : { kind: 'use', keyspace };
    }
    case 'insert':
    case 'update':
    case 'delete':
    case 'begin':
      return classifyWrite(first.text, lexer);
    case 'describe':
    case 'desc':
    case 'list':
      return READ_ONLY;
    default:
      return OTHER;
  }
}

/** `JSON` and `DISTINCT` are keywords unless they are the selected column (`SELECT json FROM t`). */
function skipModifier(lexer: CqlLexer, word: string): boolean {
  if (!isWord(lexer.peek(), word) || isWord(lexer.peek(1), 'from')) return false;
  lexer.next();
  return true;
}

function classifySelect(lexer: CqlLexer): Statement | null {
  const plain = !skipModifier(lexer, 'json');
  skipModifier(lexer, 'distinct');
  let selected: CqlToken[] | null = plain ? [] : null;
  let token = lexer.next();
  for (; token !== undefined && !isWord(token, 'from'); token = lexer.next()) {
    if (selected !== null && selected.length < MAX_SELECTION_TOKENS) selected.push(token);
    else selected = null;
  }
  if (token === undefined) return null;
  const columns = selected === null ? null : selection(selected);
  const first = identifier(lexer.next());
  if (first === null) return null;
  if (isSymbol(lexer.peek(), '.')) {
    lexer.next();
    const table = identifier(lexer.next());
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

function classifyWrite(first: string, lexer: CqlLexer): Statement {
  let conditional = false;
  let counter: CounterUpdate = first === 'begin' && isWord(lexer.peek(), 'counter');
  const using = new UsingClause();
  // Only UPDATE (alone or in a batch) can do `c = c + 1`; INSERT and DELETE cannot.
  const mayCount = first === 'update' || first === 'begin';
  // The four tokens before the current one, oldest first: `c = c +` announces an operand.
  const recent: (CqlToken | undefined)[] = [undefined, undefined, undefined, undefined];
  for (let token = lexer.next(); token !== undefined; token = lexer.next()) {
    // IF is a reserved word: unquoted, it only starts a condition (IF EXISTS, IF NOT EXISTS, IF c = 1).
    if (isWord(token, 'if')) conditional = true;
    using.feed(token);
    if (mayCount && counter !== true && isSelfUpdate(recent)) {
      const operand = operandKind(token, lexer.peek());
      if (operand === 'number') counter = true;
      else if (operand === 'bind-marker') counter = 'bind-marker';
    }
    recent.shift();
    recent.push(token);
  }
  return { kind: 'write', conditional, counter, timestamped: using.timestamped };
}

/** `x = x +` or `x = x -`: the start of a counter update or of a collection append/removal. */
function isSelfUpdate(recent: readonly (CqlToken | undefined)[]): boolean {
  const [name, equals, again, sign] = recent;
  const column = identifier(name);
  return (
    column !== null &&
    isSymbol(equals, '=') &&
    identifier(again) === column &&
    (isSymbol(sign, '+') || isSymbol(sign, '-'))
  );
}

/**
 * What follows `x = x ±`: a number only makes sense for a counter; `{...}`, `[...]` and anything
 * else is a collection; a bind marker (`?`, `:name`) can be either.
 */
function operandKind(
  token: CqlToken,
  following: CqlToken | undefined,
): 'number' | 'bind-marker' | 'collection' {
  if (isNumber(token) || (isSymbol(token, '-') && isNumber(following))) return 'number';
  if (isSymbol(token, '?') || (isSymbol(token, ':') && identifier(following) !== null)) return 'bind-marker';
  return 'collection';
}

/**
 * Follows `USING TTL <v> AND TIMESTAMP <v>` (either order, either alone) token by token, so a
 * column named `timestamp` elsewhere (`WHERE a = 1 AND timestamp = 2`) is not mistaken for it.
 */
class UsingClause {
  timestamped = false;
  #expect: 'nothing' | 'option' | 'value' | 'name' | 'and' = 'nothing';

  feed(token: CqlToken): void {
    switch (this.#expect) {
      case 'option':
        if (isWord(token, 'timestamp')) this.timestamped = true;
        this.#expect = isWord(token, 'timestamp') || isWord(token, 'ttl') ? 'value' : 'nothing';
        return;
      case 'value':
        if (isSymbol(token, ':')) this.#expect = 'name';
        else if (!isSymbol(token, '-'))
          this.#expect = isSymbol(token, '?') || isNumber(token) ? 'and' : 'nothing';
        return;
      case 'name':
        this.#expect = identifier(token) === null ? 'nothing' : 'and';
        return;
      default:
        this.#expect =
          isWord(token, 'using') || (this.#expect === 'and' && isWord(token, 'and')) ? 'option' : 'nothing';
    }
  }
}

/**
 * A write whose counter update rested on a bind marker, settled by the statement's variable
 * types from its PREPARED result: `true` when one of them is a counter.
 */
export function settleCounter(statement: Statement, bindsCounter: boolean): Statement {
  if (statement.kind !== 'write' || statement.counter !== 'bind-marker') return statement;
  return { ...statement, counter: bindsCounter };
}

/**
 * Writes that get the proxy's shared default timestamp (spec v4 §4.1.4 flag 0x20), so both
 * clusters store the same writetime. Lightweight transactions and counter updates are exempt:
 * their writetimes are the server's (Paxos ballot, counter shards). A write that may be a counter
 * update (`x = x + ?` not settled by a PREPARED result) is treated as one.
 */
export function wantsDefaultTimestamp(statement: Statement): boolean {
  return statement.kind === 'write' && !statement.conditional && statement.counter === false;
}

/**
 * The same decision for a BATCH message (spec v4 §4.1.7): its `type` and the statements of its
 * children (query texts or prepared statements). One conditional or counter child exempts the
 * whole batch, as Cassandra applies a batch's conditions and counters to all of it.
 */
export function batchWantsDefaultTimestamp(type: number, children: readonly Statement[]): boolean {
  return type !== BatchType.COUNTER && children.every(wantsDefaultTimestamp);
}
