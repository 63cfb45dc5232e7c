/**
 * CQL types as Cassandra spells them in `system_schema.columns.type`, parsed into a tree so that
 * the jobs can tell frozen from multi-cell values and generate CQL, and printed back canonically.
 */
export type CqlType =
  | { readonly kind: 'native'; readonly name: string }
  | { readonly kind: 'list' | 'set'; readonly element: CqlType; readonly frozen: boolean }
  | { readonly kind: 'map'; readonly key: CqlType; readonly value: CqlType; readonly frozen: boolean }
  | { readonly kind: 'tuple'; readonly elements: readonly CqlType[] }
  | { readonly kind: 'udt'; readonly name: string; readonly frozen: boolean }
  | { readonly kind: 'vector'; readonly element: CqlType; readonly dimension: number }
  | { readonly kind: 'custom'; readonly className: string };

export const NATIVE_TYPES = new Set([
  'ascii',
  'bigint',
  'blob',
  'boolean',
  'counter',
  'date',
  'decimal',
  'double',
  'duration',
  'float',
  'inet',
  'int',
  'smallint',
  'text',
  'time',
  'timestamp',
  'timeuuid',
  'tinyint',
  'uuid',
  'varchar',
  'varint',
]);

export class CqlTypeParseError extends Error {
  override readonly name = 'CqlTypeParseError';
}

/** Tokens: identifiers (optionally double-quoted), numbers, `<`, `>`, `,`, and quoted class names. */
function tokenize(text: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n') {
      i++;
    } else if (c === '<' || c === '>' || c === ',') {
      tokens.push(c);
      i++;
    } else if (c === '"' || c === "'") {
      // A quoted identifier ("MyType", "" escapes a quote) or a quoted custom class name.
      let j = i + 1;
      while (j < text.length) {
        if (text[j] === c && text[j + 1] === c) j += 2;
        else if (text[j] === c) break;
        else j++;
      }
      if (j >= text.length) throw new CqlTypeParseError(`unterminated quote in type "${text}"`);
      tokens.push(text.slice(i, j + 1));
      i = j + 1;
    } else {
      let j = i;
      while (j < text.length && !' \t\n<>,"\''.includes(text[j]!)) j++;
      tokens.push(text.slice(i, j));
      i = j;
    }
  }
  return tokens;
}

function unquote(token: string): string {
  return token.startsWith('"') ? token.slice(1, -1).replaceAll('""', '"') : token;
}

export function parseCqlType(text: string): CqlType {
  const tokens = tokenize(text);
  let at = 0;
  const peek = () => tokens[at];
  const next = () => {
    const token = tokens[at++];
    if (token === undefined) throw new CqlTypeParseError(`unexpected end of type "${text}"`);
    return token;
  };
  const expect = (token: string) => {
    const got = next();
    if (got !== token)
      throw new CqlTypeParseError(`expected "${token}" but found "${got}" in type "${text}"`);
  };
  const args = (): CqlType[] => {
    expect('<');
    const out = [parse(false)];
    while (peek() === ',') {
      next();
      out.push(parse(false));
    }
    expect('>');
    return out;
  };
  const parse = (frozen: boolean): CqlType => {
    const head = next();
    if (head.startsWith("'")) return { kind: 'custom', className: head.slice(1, -1) };
    const word = head.startsWith('"') ? undefined : head.toLowerCase();
    switch (word) {
      case 'frozen': {
        expect('<');
        const inner = parse(true);
        expect('>');
        return inner;
      }
      case 'list':
      case 'set': {
        const [element] = args();
        return { kind: word, element: element!, frozen };
      }
      case 'map': {
        const [key, value] = args();
        return { kind: 'map', key: key!, value: value!, frozen };
      }
      case 'tuple':
        return { kind: 'tuple', elements: args() };
      case 'vector': {
        expect('<');
        const element = parse(false);
        expect(',');
        const dimension = Number(next());
        expect('>');
        if (!Number.isInteger(dimension) || dimension <= 0) {
          throw new CqlTypeParseError(`bad vector dimension in type "${text}"`);
        }
        return { kind: 'vector', element, dimension };
      }
      default:
        if (word !== undefined && NATIVE_TYPES.has(word))
          return { kind: 'native', name: word === 'varchar' ? 'text' : word };
        return { kind: 'udt', name: unquote(head), frozen };
    }
  };
  const type = parse(false);
  if (at !== tokens.length) throw new CqlTypeParseError(`unexpected "${tokens[at]}" in type "${text}"`);
  return type;
}

const SIMPLE_IDENTIFIER = /^[a-z][a-z0-9_]*$/;

/** Canonical CQL text of a type; UDT names are quoted when they need it. */
export function formatCqlType(type: CqlType): string {
  const wrap = (frozen: boolean, inner: string) => (frozen ? `frozen<${inner}>` : inner);
  switch (type.kind) {
    case 'native':
      return type.name;
    case 'list':
    case 'set':
      return wrap(type.frozen, `${type.kind}<${formatCqlType(type.element)}>`);
    case 'map':
      return wrap(type.frozen, `map<${formatCqlType(type.key)}, ${formatCqlType(type.value)}>`);
    case 'tuple':
      return `frozen<tuple<${type.elements.map(formatCqlType).join(', ')}>>`;
    case 'udt':
      return wrap(
        type.frozen,
        SIMPLE_IDENTIFIER.test(type.name) ? type.name : `"${type.name.replaceAll('"', '""')}"`,
      );
    case 'vector':
      return `vector<${formatCqlType(type.element)}, ${type.dimension}>`;
    case 'custom':
      return `'${type.className}'`;
  }
}

/**
 * A multi-cell value is stored as one cell per element or field, each with its own writetime and
 * TTL: non-frozen collections and non-frozen UDTs. Everything else is a single cell.
 */
export function isMultiCell(type: CqlType): boolean {
  return (
    (type.kind === 'list' || type.kind === 'set' || type.kind === 'map' || type.kind === 'udt') &&
    type.frozen === false
  );
}

export function isCounter(type: CqlType): boolean {
  return type.kind === 'native' && type.name === 'counter';
}
