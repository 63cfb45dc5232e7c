import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { OperatorError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { workerJournalPath } from '../proxy/divergence-journal.js';
import { MAX_WORKERS } from '../proxy/workers/worker-count.js';
import type { TokenRange } from '../ranges/token-ring.js';
import type { CqlType } from '../schema/cql-type.js';
import { serializerOf } from '../schema/cql-value/serialize.js';
import type { ColumnSchema, TableSchema } from '../schema/table-schema.js';

/**
 * `zdm diff --from-journal`: the partitions of one table that the proxy's divergence journal
 * (src/proxy/divergence-journal.ts) lists, as the token ranges the diff reads. A partition is the
 * one-token range `(t - 1, t]` of its Murmur3 token, so the range differ reads, compares and
 * repairs exactly the partitions at that token, with the machinery of a full diff.
 */

/** A journal line as read back (the fields the diff uses). */
export interface JournalLine {
  readonly table: string | null;
  readonly key?: Readonly<Record<string, string>>;
  readonly literals?: Readonly<Record<string, string>>;
  readonly statement?: string;
}

export interface ParsedJournal {
  readonly lines: readonly JournalLine[];
  /** Line numbers (1-based) that are not journal lines. */
  readonly corrupt: readonly number[];
  /** The last line was cut short (a crash mid-write): skipped, not an error. */
  readonly tornTail: boolean;
}

/** Reads journal text: one JSON object per line, with at least `table` (string or null). */
export function parseJournal(text: string): ParsedJournal {
  const rows = text.split('\n');
  const tornTail = rows.length > 0 && rows.at(-1) !== '';
  if (!tornTail) rows.pop();
  const lines: JournalLine[] = [];
  const corrupt: number[] = [];
  rows.forEach((row, i) => {
    if (row.trim() === '') return;
    const line = journalLineOf(row);
    if (line !== null) lines.push(line);
    else if (!(tornTail && i === rows.length - 1)) corrupt.push(i + 1);
  });
  return { lines, corrupt, tornTail: tornTail && journalLineOf(rows.at(-1) ?? '') === null };
}

function journalLineOf(row: string): JournalLine | null {
  let value: unknown;
  try {
    value = JSON.parse(row);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const line = value as Record<string, unknown>;
  if (!(typeof line.table === 'string' || line.table === null)) return null;
  if (line.key !== undefined && !isStringRecord(line.key)) return null;
  if (line.literals !== undefined && !isStringRecord(line.literals)) return null;
  return line as unknown as JournalLine;
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === 'string')
  );
}

/** What a journal says about one table. */
export interface JournalPlan {
  /** Murmur3 tokens of the listed partitions, each once, in ring order. */
  readonly tokens: readonly bigint[];
  /** Lines of this table whose partition is unknown: the table needs a full diff. */
  readonly unkeyed: readonly string[];
  /** Every table the journal names (for the message when it lists nothing of this one). */
  readonly tables: ReadonlySet<string>;
  readonly linesOfTable: number;
}

/** The tokens of `schema`'s partitions in the journal; lines of other tables are left alone. */
export function journalPlan(lines: readonly JournalLine[], schema: TableSchema): JournalPlan {
  const name = `${schema.keyspace}.${schema.table}`;
  const tokens = new Set<bigint>();
  const unkeyed: string[] = [];
  const tables = new Set<string>();
  let linesOfTable = 0;
  for (const line of lines) {
    if (line.table !== null) tables.add(line.table);
    if (line.table !== name) continue;
    linesOfTable++;
    const key = partitionKeyBytes(line, schema.partitionKey, schema);
    if (key === null) unkeyed.push(line.statement ?? '(statement not recorded)');
    else tokens.add(murmur3Token(key));
  }
  return { tokens: [...tokens].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)), unkeyed, tables, linesOfTable };
}

/** The one-token ranges `(t - 1, t]` of the tokens (Murmur3 never gives the minimum token). */
export function tokenRanges(tokens: readonly bigint[]): TokenRange[] {
  return tokens.map((t) => ({ start: t - 1n, end: t }));
}

/** Serialized key values, in key order; null when the line does not give every key column. */
export function partitionKeyBytes(
  line: JournalLine,
  columns: readonly ColumnSchema[],
  schema: TableSchema,
): Buffer[] | null {
  const out: Buffer[] = [];
  for (const column of columns) {
    const hex = line.key?.[column.name];
    if (hex !== undefined) {
      if (!/^([0-9a-f]{2})*$/i.test(hex)) return null;
      out.push(Buffer.from(hex, 'hex'));
      continue;
    }
    const literal = line.literals?.[column.name];
    const bytes = literal === undefined ? null : literalBytes(literal, column.type, schema);
    if (bytes === null) return null;
    out.push(bytes);
  }
  return out;
}

/**
 * The bytes of a CQL literal as the statement wrote it, for the native types a partition key
 * usually has; null for anything else (the line then asks for a full diff).
 */
export function literalBytes(literal: string, type: CqlType, schema: TableSchema): Buffer | null {
  if (type.kind !== 'native') return null;
  const value = literalValue(literal, type.name);
  if (value === undefined) return null;
  try {
    return serializerOf(type, schema.userTypes)(value);
  } catch {
    return null;
  }
}

function literalValue(literal: string, typeName: string): unknown {
  if (literal.startsWith("'")) {
    if (!literal.endsWith("'") || literal.length < 2) return undefined;
    const text = literal.slice(1, -1).replaceAll("''", "'");
    return ['text', 'varchar', 'ascii', 'uuid', 'timeuuid', 'inet'].includes(typeName) ? text : undefined;
  }
  switch (typeName) {
    case 'int':
    case 'smallint':
    case 'tinyint':
      return /^[-+]?\d+$/.test(literal) ? Number(literal) : undefined;
    case 'double':
    case 'float':
      return /^[-+]?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(literal) ? Number(literal) : undefined;
    case 'bigint':
    case 'varint':
      return /^[-+]?\d+$/.test(literal) ? BigInt(literal) : undefined;
    case 'timestamp':
      return /^[-+]?\d+$/.test(literal) ? new Date(Number(literal)) : undefined;
    case 'boolean':
      return literal === 'true' ? true : literal === 'false' ? false : undefined;
    case 'blob':
      return /^0x([0-9a-f]{2})*$/i.test(literal) ? Buffer.from(literal.slice(2), 'hex') : undefined;
    case 'uuid':
    case 'timeuuid':
      return literal;
    default:
      return undefined;
  }
}

/** The driver's Murmur3 (Cassandra's variant), not part of its typed public surface. */
const { Murmur3Tokenizer } = createRequire(import.meta.url)('cassandra-driver/lib/tokenizer.js') as {
  Murmur3Tokenizer: new () => { hash(key: Buffer): { toString(): string } };
};
const murmur3 = new Murmur3Tokenizer();

/**
 * Murmur3Partitioner's token of a partition key: the hash of its routing key, which for a
 * composite key is each component as [short length][bytes][0x00] (Cassandra's CompositeType).
 */
export function murmur3Token(components: readonly Buffer[]): bigint {
  const routingKey =
    components.length === 1
      ? components[0]!
      : Buffer.concat(
          components.flatMap((c) => {
            const length = Buffer.alloc(2);
            length.writeUInt16BE(c.length);
            return [length, c, Buffer.from([0])];
          }),
        );
  return BigInt(murmur3.hash(routingKey).toString());
}

/**
 * The journal files of a configured journal path: the file itself (a proxy of one process) and the
 * file of each worker process (`divergence-journal.worker2.jsonl`), each with the files rotated from
 * it (`PATH.1`, `PATH.2`, ...), oldest first.
 */
export function journalFiles(path: string): string[] {
  const bases = [path, ...Array.from({ length: MAX_WORKERS }, (_, i) => workerJournalPath(path, i + 1))];
  const files = bases.filter(existsSync).flatMap((base) => {
    const rotated: string[] = [];
    for (let i = 1; existsSync(`${base}.${i}`); i++) rotated.push(`${base}.${i}`);
    return [...rotated.reverse(), base];
  });
  if (files.length === 0) {
    throw new OperatorError(
      'JOURNAL_NOT_FOUND',
      `No divergence journal ${path} (nor a worker's ${workerJournalPath(path, 1)}, ...).`,
      "Pass the proxy's journal file (divergence_journal_path, by default divergence-journal.jsonl in proxy_state_dir): the files of its worker processes are found beside it.",
    );
  }
  return files;
}

/** What `--from-journal` found for the table: the ranges to diff, and what to tell the operator. */
export interface JournalSelection {
  readonly ranges: TokenRange[];
  readonly plan: JournalPlan;
  readonly files: readonly string[];
  /** Lines cut short by a crash mid-write, skipped. */
  readonly tornLines: number;
}

/**
 * Reads the journal (and its rotated files) for `schema`'s table. Corrupt lines and a journal that
 * lists nothing of the table are operator errors: a diff of "nothing" must not pass for clean.
 */
export function selectFromJournal(path: string, schema: TableSchema): JournalSelection {
  const files = journalFiles(path);
  const lines: JournalLine[] = [];
  let tornLines = 0;
  for (const file of files) {
    const parsed = parseJournal(readFileSync(file, 'utf8'));
    if (parsed.corrupt.length > 0) {
      const shown = parsed.corrupt.slice(0, 5).join(', ');
      throw new OperatorError(
        'JOURNAL_CORRUPT',
        `${file} is not a divergence journal: line${parsed.corrupt.length > 1 ? 's' : ''} ${shown}${parsed.corrupt.length > 5 ? ', ...' : ''} ${parsed.corrupt.length > 1 ? 'are' : 'is'} not journal lines (one JSON object with a "table" per line).`,
        'Pass the file the proxy wrote (divergence_journal_path), unedited; if it was damaged, run a full zdm diff of the tables it covered instead.',
      );
    }
    if (parsed.tornTail) tornLines++;
    lines.push(...parsed.lines);
  }
  const plan = journalPlan(lines, schema);
  if (plan.linesOfTable === 0) {
    const listed = [...plan.tables].sort();
    throw new OperatorError(
      'JOURNAL_NO_TABLE',
      `The divergence journal ${path} lists no write of ${schema.keyspace}.${schema.table}${listed.length > 0 ? `; it lists ${listed.join(', ')}` : ' (it lists no table at all)'}.`,
      'Run zdm diff --from-journal for a table the journal lists; a table it does not list had no diverging write recorded.',
    );
  }
  return { ranges: tokenRanges(plan.tokens), plan, files, tornLines };
}

/** Summary lines of a diff run from a journal. */
export function journalFields(selection: JournalSelection): Record<string, string | number> {
  const { plan } = selection;
  return {
    'journal lines of the table': plan.linesOfTable,
    'journal partitions': plan.tokens.length,
    'journal writes without a key': plan.unkeyed.length,
    ...(plan.unkeyed.length > 0 ? { 'needs a full diff': 'yes: run zdm diff of the whole table' } : {}),
  };
}

/** Tells the operator what the journal gives, and which writes only a full diff covers. */
export function logJournalSelection(selection: JournalSelection, table: string, logger: Logger): void {
  const { plan, files, tornLines } = selection;
  logger.info(
    { files, lines: plan.linesOfTable, partitions: plan.tokens.length },
    `divergence journal: ${plan.tokens.length} partition(s) of ${table} to validate`,
  );
  if (tornLines > 0)
    logger.warn({ files }, 'a journal line was cut short (the proxy stopped mid-write) and is skipped');
  if (plan.unkeyed.length > 0)
    logger.warn(
      { table, writes: plan.unkeyed.length, statements: [...new Set(plan.unkeyed)].slice(0, 5) },
      `${plan.unkeyed.length} journal write(s) of ${table} name no partition: run a full zdm diff ${table} (without --from-journal)`,
    );
}
