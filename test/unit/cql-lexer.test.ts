import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { CqlLexer, cqlTokens } from '../../src/proxy/cql-lexer.js';
import { classifyStatement } from '../../src/proxy/statement.js';

describe('cqlTokens', () => {
  const cases: [string, unknown[]][] = [
    ['SELECT a FROM Ks.T', ['w:select', 'w:a', 'w:from', 'w:ks', 's:.', 'w:t']],
    ['"My""Ks"."T"', ['q:My"Ks', 's:.', 'q:T']],
    ["'it''s' $$ body $$ 'x'", ['str', 'str', 'str']],
    ['a -- comment\nb // comment\nc /* comment */ d', ['w:a', 'w:b', 'w:c', 'w:d']],
    ['1.5 1.5.6 0xFF -3', ['w:1.5', 'w:1.5', 's:.', 'w:6', 'w:0xff', 's:-', 'w:3']],
    ['n=n+?', ['w:n', 's:=', 'w:n', 's:+', 's:?']],
    ['SET x = :name', ['w:set', 'w:x', 's:=', 's::', 'w:name']],
    // Unterminated strings, identifiers and comments end the input; nothing throws.
    ["a 'never closed", ['w:a', 'str']],
    ['a "never closed', ['w:a', 'q:never closed']],
    ['a /* never closed', ['w:a']],
    ['a $$ never closed', ['w:a', 'str']],
    ['', []],
  ];
  const show = (t: ReturnType<typeof cqlTokens>[number]) =>
    t.kind === 'string' ? 'str' : `${t.kind === 'word' ? 'w' : t.kind === 'quoted' ? 'q' : 's'}:${t.text}`;
  for (const [text, expected] of cases) {
    test(JSON.stringify(text), () => assert.deepEqual(cqlTokens(text).map(show), expected));
  }

  test('peek looks ahead without consuming', () => {
    const lexer = new CqlLexer('a b c');
    assert.deepEqual(lexer.peek(2), { kind: 'word', text: 'c' });
    assert.deepEqual(lexer.next(), { kind: 'word', text: 'a' });
    assert.deepEqual(lexer.peek(), { kind: 'word', text: 'b' });
    assert.equal(lexer.peek(5), undefined);
    assert.deepEqual(
      [lexer.next(), lexer.next(), lexer.next()].map((t) => t && show(t)),
      ['w:b', 'w:c', undefined],
    );
  });
});

describe('hostile statements', () => {
  const fragments = fc.constantFrom(
    'SELECT',
    'UPDATE',
    'BEGIN',
    'BATCH',
    'IF',
    'USING',
    'TIMESTAMP',
    'TTL',
    'AND',
    'FROM',
    'SET',
    'x',
    '=',
    '+',
    '-',
    '?',
    ':',
    '.',
    "'",
    "''",
    '"',
    '""',
    '$$',
    '--',
    '//',
    '/*',
    '*/',
    '\n',
    ' ',
    '1',
    '1.5',
    '{',
    '[',
    ';',
  );
  const cqlish = fc.array(fragments, { maxLength: 60 }).map((parts) => parts.join(''));

  test('lexing and classifying never throw, and the lexer always advances', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), cqlish), (text) => {
        const tokens = cqlTokens(text);
        // Every token takes at least one character, so a lexer that stops advancing shows here.
        assert.ok(tokens.length <= text.length);
        const statement = classifyStatement(text);
        assert.ok(['select', 'use', 'write', 'read-only', 'other'].includes(statement.kind));
      }),
      { numRuns: 5000 },
    );
  });

  test('a trailing IF or counter update is found however long the statement', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3000 }), (n) => {
        const padding = Array.from({ length: n }, (_, i) => `c${i} = ${i}`).join(', ');
        const set = padding === '' ? '' : `${padding}, `;
        const lwt = classifyStatement(`UPDATE t SET ${set}v = 1 WHERE k = 1 IF v = 0`);
        const counter = classifyStatement(`UPDATE t SET ${set}n = n + 1 WHERE k = 1`);
        return (
          lwt.kind === 'write' && lwt.conditional && counter.kind === 'write' && counter.counter === true
        );
      }),
      { numRuns: 30 },
    );
  });

  // Inputs that trip quadratic lexers: repeated escapes, unclosed runs, dotted numbers, comment openers.
  const MB = 1 << 20;
  const hostile: [string, string][] = [
    ['doubled double quotes', `"${'""'.repeat(2 * MB)}`],
    ['doubled single quotes', `'${"''".repeat(2 * MB)}`],
    ['comment openers', '/*'.repeat(2 * MB)],
    ['line comments without newline', '--'.repeat(2 * MB)],
    ['dotted numbers', '1.'.repeat(2 * MB)],
    ['symbols', `UPDATE t SET ${'(+'.repeat(2 * MB)}`],
    ['a select list without FROM', `SELECT ${'a,'.repeat(2 * MB)}`],
    ['self updates', `UPDATE c SET ${'n = n + ?, '.repeat(MB / 4)}`],
  ];
  for (const [name, text] of hostile) {
    test(`4 MB of ${name} are classified in linear time`, () => {
      const started = performance.now();
      classifyStatement(text);
      const elapsed = performance.now() - started;
      // A linear pass takes well under a second; a quadratic one would take hours.
      assert.ok(elapsed < 10_000, `${name}: ${elapsed.toFixed(0)} ms`);
    });
  }
});
