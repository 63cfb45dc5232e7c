import { parseCqlType } from '../../src/schema/cql-type.js';
import type { ColumnKind, ColumnSchema, TableSchema, UserTypeSchema } from '../../src/schema/table-schema.js';

/** A TableSchema from a compact description, for pure tests: `{ k: 'pk int', c: 'ck int desc', v: 'text' }`. */
export function tableOf(
  columns: Record<string, string>,
  options: { keyspace?: string; table?: string; userTypes?: Record<string, Record<string, string>> } = {},
): TableSchema {
  const parsed: ColumnSchema[] = [];
  const positions: Record<ColumnKind, number> = { partition_key: 0, clustering: 0, static: -1, regular: -1 };
  for (const [name, spec] of Object.entries(columns)) {
    const words = spec.split(' ');
    let kind: ColumnKind = 'regular';
    if (words[0] === 'pk') kind = 'partition_key';
    else if (words[0] === 'ck') kind = 'clustering';
    else if (words[0] === 'static') kind = 'static';
    const typeWords = kind === 'regular' ? words : words.slice(1);
    const desc = typeWords.at(-1) === 'desc';
    const typeText = (desc ? typeWords.slice(0, -1) : typeWords).join(' ');
    const position = kind === 'partition_key' || kind === 'clustering' ? positions[kind]++ : -1;
    parsed.push({
      name,
      kind,
      position,
      type: parseCqlType(typeText),
      typeText,
      clusteringOrder: kind === 'clustering' ? (desc ? 'DESC' : 'ASC') : undefined,
    });
  }
  const keyspace = options.keyspace ?? 'ks';
  const userTypes = new Map<string, UserTypeSchema>(
    Object.entries(options.userTypes ?? {}).map(([name, fields]) => [
      name,
      {
        keyspace,
        name,
        fields: Object.entries(fields).map(([f, t]) => ({ name: f, type: parseCqlType(t), typeText: t })),
      },
    ]),
  );
  return {
    keyspace,
    table: options.table ?? 't',
    partitionKey: parsed.filter((c) => c.kind === 'partition_key'),
    clustering: parsed.filter((c) => c.kind === 'clustering'),
    statics: parsed.filter((c) => c.kind === 'static'),
    regulars: parsed.filter((c) => c.kind === 'regular'),
    defaultTtl: 0,
    userTypes,
  };
}
