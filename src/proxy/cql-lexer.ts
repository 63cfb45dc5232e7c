/**
 * Just enough of a CQL lexer for routing decisions: words (unquoted identifiers and keywords,
 * lower-cased), quoted identifiers (case kept), string literals and single-character symbols.
 * Comments (`--`, `//`, `/* *\/`) and whitespace are skipped. It never throws.
 */
export type CqlToken =
  | { readonly kind: 'word'; readonly text: string }
  | { readonly kind: 'quoted'; readonly text: string }
  | { readonly kind: 'string' }
  | { readonly kind: 'symbol'; readonly text: string };

const WORD_START = /[A-Za-z_0-9]/;
const WORD_PART = /[A-Za-z_0-9$.]/;

/** Tokens of `text`, at most `limit` of them (statements can be long; decisions need the start). */
export function cqlTokens(text: string, limit = 512): CqlToken[] {
  const tokens: CqlToken[] = [];
  let i = 0;
  const n = text.length;
  while (i < n && tokens.length < limit) {
    const c = text[i]!;
    if (c === ' ' || c === '\n' || c === '\t' || c === '\r') {
      i++;
    } else if ((c === '-' && text[i + 1] === '-') || (c === '/' && text[i + 1] === '/')) {
      const end = text.indexOf('\n', i);
      i = end < 0 ? n : end + 1;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
    } else if (c === "'" || c === '"') {
      let value = '';
      let j = i + 1;
      for (;;) {
        const end = text.indexOf(c, j);
        if (end < 0) {
          value += text.slice(j);
          j = n;
          break;
        }
        value += text.slice(j, end);
        if (text[end + 1] === c) {
          value += c;
          j = end + 2;
        } else {
          j = end + 1;
          break;
        }
      }
      tokens.push(c === '"' ? { kind: 'quoted', text: value } : { kind: 'string' });
      i = j;
    } else if (c === '$' && text[i + 1] === '$') {
      const end = text.indexOf('$$', i + 2);
      tokens.push({ kind: 'string' });
      i = end < 0 ? n : end + 2;
    } else if (WORD_START.test(c)) {
      let j = i + 1;
      // A dot joins words only inside numbers (1.5); ks.table stays three tokens.
      while (j < n && WORD_PART.test(text[j]!) && !(text[j] === '.' && !/^\d+$/.test(text.slice(i, j)))) j++;
      tokens.push({ kind: 'word', text: text.slice(i, j).toLowerCase() });
      i = j;
    } else {
      tokens.push({ kind: 'symbol', text: c });
      i++;
    }
  }
  return tokens;
}

/** An identifier's name: lower-cased when unquoted, as CQL folds it; null for anything else. */
export function identifier(token: CqlToken | undefined): string | null {
  if (token === undefined) return null;
  if (token.kind === 'word' || token.kind === 'quoted') return token.text;
  return null;
}

export function isWord(token: CqlToken | undefined, word: string): boolean {
  return token?.kind === 'word' && token.text === word;
}

export function isSymbol(token: CqlToken | undefined, symbol: string): boolean {
  return token?.kind === 'symbol' && token.text === symbol;
}
