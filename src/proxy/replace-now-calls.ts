import { CqlLexer, type CqlToken, identifier, isSymbol } from './cql-lexer.js';

/** Statements whose `now()` calls are replaced: the writes (a BATCH starts with BEGIN). */
const WRITES = new Set(['insert', 'update', 'delete', 'begin']);

/**
 * ZDM_REPLACE_CQL_FUNCTIONS: every call of CQL's `now()` in an INSERT, UPDATE, DELETE or BATCH
 * (unqualified or `system.now()`, any case, any spacing or comments inside) becomes a timeuuid
 * literal from `nextTimeUuid`, one per call as Cassandra gives each call its own value. The proxy
 * sends the one rewritten text to both clusters, so both store the same timeuuid where each would
 * otherwise have generated its own.
 *
 * The text is read with the routing lexer, so `now()` inside a string literal, a comment or a
 * quoted identifier is never touched, nor a function `now` of another keyspace. Returns null when
 * the statement is not a write or calls no `now()`: the request then goes out unchanged.
 */
export function replaceNowCalls(text: string, nextTimeUuid: () => string): string | null {
  const lexer = new CqlLexer(text);
  const first = lexer.next();
  if (first?.kind !== 'word' || !WRITES.has(first.text)) return null;
  const parts: string[] = [];
  let copiedTo = 0;
  // The two tokens before the current one, with where they start: `system` `.` announce a qualifier.
  let before: { token: CqlToken; start: number } | undefined;
  let last: { token: CqlToken; start: number } | undefined;
  for (let token = lexer.next(); token !== undefined; token = lexer.next()) {
    const start = lexer.span.start;
    if (isNowName(token) && isSymbol(lexer.peek(), '(') && isSymbol(lexer.peek(1), ')')) {
      const qualified = isSymbol(last?.token, '.');
      if (!qualified || identifier(before?.token) === 'system') {
        const from = qualified ? before!.start : start;
        lexer.next();
        lexer.next();
        parts.push(text.slice(copiedTo, from), nextTimeUuid());
        copiedTo = lexer.span.end;
        before = undefined;
        last = undefined;
        continue;
      }
    }
    before = last;
    last = { token, start };
  }
  if (parts.length === 0) return null;
  parts.push(text.slice(copiedTo));
  return parts.join('');
}

/** `now` unquoted in any case (the lexer lower-cases words), or quoted exactly as `"now"`. */
function isNowName(token: CqlToken): boolean {
  return (token.kind === 'word' || token.kind === 'quoted') && token.text === 'now';
}
