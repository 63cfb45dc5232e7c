/**
 * Just enough of a CQL lexer for routing decisions: words (unquoted identifiers, keywords and
 * numbers, lower-cased), quoted identifiers (case kept), string literals and single-character
 * symbols. Comments (`--`, `//`, `/* *\/`) and whitespace are skipped.
 *
 * Statements come from clients, so the lexer is hostile-input safe: it never throws, each
 * character is looked at a bounded number of times (linear time), and tokens are produced one at
 * a time, so a statement of millions of tokens is classified in constant memory.
 */
export type CqlToken =
  | { readonly kind: 'word'; readonly text: string }
  | { readonly kind: 'quoted'; readonly text: string }
  /** `text` (the literal's value, quotes undone) only from a lexer asked for string values. */
  | { readonly kind: 'string'; readonly text?: string }
  | { readonly kind: 'symbol'; readonly text: string };

const STRING: CqlToken = { kind: 'string' };

function isWordStart(code: number): boolean {
  return (
    (code >= 0x61 && code <= 0x7a) || // a-z
    (code >= 0x41 && code <= 0x5a) || // A-Z
    (code >= 0x30 && code <= 0x39) || // 0-9
    code === 0x5f // _
  );
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

/** Reads tokens from the front of a statement, with a small lookahead for the classifier. */
export class CqlLexer {
  readonly #text: string;
  #at = 0;
  /** Where the token `#read` returned last starts. */
  #readStart = 0;
  /** Tokens read ahead by `peek`, not yet consumed, with where each starts and ends. */
  readonly #ahead: { token: CqlToken; start: number; end: number }[] = [];
  #start = 0;
  #end = 0;

  /** `stringValues`: string tokens carry their text (routing needs none, so the default keeps none). */
  constructor(
    text: string,
    private readonly stringValues = false,
  ) {
    this.#text = text;
  }

  /** The token `n` places ahead (0: the next one) without consuming it; undefined past the end. */
  peek(n = 0): CqlToken | undefined {
    while (this.#ahead.length <= n) {
      const token = this.#read();
      if (token === undefined) return undefined;
      this.#ahead.push({ token, start: this.#readStart, end: this.#at });
    }
    return this.#ahead[n]!.token;
  }

  /** Consumes and returns the next token; undefined at the end. */
  next(): CqlToken | undefined {
    const ahead = this.#ahead.shift();
    if (ahead !== undefined) {
      this.#start = ahead.start;
      this.#end = ahead.end;
      return ahead.token;
    }
    const token = this.#read();
    this.#start = this.#readStart;
    this.#end = this.#at;
    return token;
  }

  /** Where the token `next` returned last sits in the text: [start, end). */
  get span(): { readonly start: number; readonly end: number } {
    return { start: this.#start, end: this.#end };
  }

  #read(): CqlToken | undefined {
    const text = this.#text;
    const n = text.length;
    while (this.#at < n) {
      const i = this.#at;
      this.#readStart = i;
      const c = text[i]!;
      const following = text[i + 1];
      if (c === ' ' || c === '\n' || c === '\t' || c === '\r') {
        this.#at = i + 1;
      } else if ((c === '-' && following === '-') || (c === '/' && following === '/')) {
        const end = text.indexOf('\n', i + 2);
        this.#at = end < 0 ? n : end + 1;
      } else if (c === '/' && following === '*') {
        const end = text.indexOf('*/', i + 2);
        this.#at = end < 0 ? n : end + 2;
      } else if (c === "'") {
        const end = this.#closingQuote(i, "'");
        this.#at = end < 0 ? n : end + 1;
        if (this.stringValues)
          return { kind: 'string', text: text.slice(i + 1, end < 0 ? n : end).replaceAll("''", "'") };
        return STRING;
      } else if (c === '"') {
        const end = this.#closingQuote(i, '"');
        this.#at = end < 0 ? n : end + 1;
        return { kind: 'quoted', text: text.slice(i + 1, end < 0 ? n : end).replaceAll('""', '"') };
      } else if (c === '$' && following === '$') {
        const end = text.indexOf('$$', i + 2);
        this.#at = end < 0 ? n : end + 2;
        if (this.stringValues) return { kind: 'string', text: text.slice(i + 2, end < 0 ? n : end) };
        return STRING;
      } else if (isWordStart(text.charCodeAt(i))) {
        return this.#word(i);
      } else {
        this.#at = i + 1;
        return { kind: 'symbol', text: c };
      }
    }
    return undefined;
  }

  /** Index of the quote closing the run opened at `start` (a doubled quote stands for itself); -1 if unclosed. */
  #closingQuote(start: number, quote: string): number {
    const text = this.#text;
    let j = start + 1;
    for (;;) {
      const end = text.indexOf(quote, j);
      if (end < 0 || text[end + 1] !== quote) return end;
      j = end + 2;
    }
  }

  #word(start: number): CqlToken {
    const text = this.#text;
    const n = text.length;
    let j = start + 1;
    let digits = isDigit(text.charCodeAt(start));
    let dotSeen = false;
    while (j < n) {
      const code = text.charCodeAt(j);
      if (isWordStart(code) || code === 0x24 /* $ */) {
        digits &&= isDigit(code);
      } else if (code === 0x2e /* . */ && digits && !dotSeen) {
        // A dot joins words only inside numbers (1.5); ks.table stays three tokens.
        dotSeen = true;
      } else {
        break;
      }
      j++;
    }
    this.#at = j;
    return { kind: 'word', text: text.slice(start, j).toLowerCase() };
  }
}

/** Every token of `text` (for tests and small inputs; the classifier streams with CqlLexer). */
export function cqlTokens(text: string): CqlToken[] {
  const lexer = new CqlLexer(text);
  const tokens: CqlToken[] = [];
  for (let token = lexer.next(); token !== undefined; token = lexer.next()) tokens.push(token);
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

/** A number literal (`1`, `1.5`, `0x1f`): a word starting with a digit. */
export function isNumber(token: CqlToken | undefined): boolean {
  return token?.kind === 'word' && isDigit(token.text.charCodeAt(0));
}
