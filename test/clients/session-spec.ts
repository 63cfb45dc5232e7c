/**
 * The scripted session every client program runs through the proxy (test/clients/README.md lists
 * its steps), and what it must leave on both clusters. Each program hard-codes the same steps in its
 * own language; this module is the one place the expected outcome is written down.
 */

/** Rows `SELECT k, v FROM kv` is read with, per page (fewer than the rows, so paging is exercised). */
export const PAGE_SIZE = 50;

/** The rows of `kv` after the session: key → value. */
export function expectedKeyValues(): ReadonlyMap<number, string> {
  const rows = new Map<number, string>([[0, 'simple-updated']]);
  // Prepared inserts 1..120, then a prepared DELETE of key 2.
  for (let k = 1; k <= 120; k++) if (k !== 2) rows.set(k, `row-${k}`);
  for (let k = 121; k <= 123; k++) rows.set(k, `batch-${k}`);
  rows.set(124, 'ttl');
  return rows;
}

/** `USING TTL` of key 124. */
export const TTL_SECONDS = 86400;

/** The session's `lwt` table after INSERT ... IF NOT EXISTS twice: the first one applied. */
export const LWT_VALUE = 'first';
/** `c = c + 5`, then a prepared `c = c + 2`. */
export const COUNTER_VALUE = 7;

export const ADDRESS_TYPE_CQL = 'CREATE TYPE address (street text, number int)';

/**
 * Every column of the `types` table with the value each client binds at k = 1, as a CQL literal
 * (cqlsh writes the literals themselves; the other clients bind native values equal to them).
 */
export const TYPE_VALUES: ReadonlyArray<readonly [column: string, type: string, literal: string]> = [
  ['ascii_v', 'ascii', "'ascii'"],
  // Above 2^53: a client that went through a double would lose the last digit.
  ['bigint_v', 'bigint', '9007199254740993'],
  ['blob_v', 'blob', '0xcafebabe'],
  ['boolean_v', 'boolean', 'true'],
  ['date_v', 'date', "'2024-02-29'"],
  ['decimal_v', 'decimal', '12345.6789'],
  ['double_v', 'double', '3.5'],
  ['duration_v', 'duration', '1mo2d3h'],
  ['float_v', 'float', '1.25'],
  ['inet_v', 'inet', "'127.0.0.1'"],
  ['int_v', 'int', '2147483647'],
  ['smallint_v', 'smallint', '-32768'],
  ['text_v', 'text', "'héllo wörld ✓'"],
  ['time_v', 'time', "'12:34:56.789'"],
  ['timestamp_v', 'timestamp', "'2024-02-29T12:34:56.789Z'"],
  ['timeuuid_v', 'timeuuid', '50554d6e-29bb-11e5-b345-feff819cdc9f'],
  ['tinyint_v', 'tinyint', '-128'],
  ['uuid_v', 'uuid', '6f1a1c1e-5d2c-4c5b-9f1a-2b3c4d5e6f70'],
  ['varint_v', 'varint', '123456789012345678901234567890'],
  ['list_v', 'list<int>', '[1, 2, 3]'],
  ['set_v', 'set<text>', "{'a', 'b'}"],
  ['map_v', 'map<text, int>', "{'x': 1, 'y': 2}"],
  ['tuple_v', 'tuple<int, text>', "(7, 'seven')"],
  ['udt_v', 'frozen<address>', "{street: 'Main', number: 5}"],
];

export function typesTableCql(): string {
  return `CREATE TABLE types (k int PRIMARY KEY, ${TYPE_VALUES.map(([c, t]) => `${c} ${t}`).join(', ')})`;
}

export function typesInsertCql(): string {
  const columns = TYPE_VALUES.map(([c]) => c).join(', ');
  const literals = TYPE_VALUES.map(([, , l]) => l).join(', ');
  return `INSERT INTO types (k, ${columns}) VALUES (1, ${literals})`;
}

/** The last line a client program prints: what it saw, read from its driver. */
export interface ClientReport {
  /** Driver name and version as the driver reports them. */
  readonly driver: string;
  /** The native protocol version the driver negotiated. */
  readonly protocolVersion: number;
  /** The compression the connections use: `lz4`, `snappy` or `none`. */
  readonly compression: string;
  /** Hosts the driver knows of, as `address:port` (only the proxy). */
  readonly hosts: readonly string[];
  /** Rows read back by the paged SELECT, and in how many pages. */
  readonly pagedRows: number;
  readonly pages: number;
  /** `[applied]` of the two INSERT ... IF NOT EXISTS. */
  readonly lwtApplied: readonly boolean[];
}

/** Parses the report line (the last line of stdout that is a JSON object). */
export function parseReport(stdout: string): ClientReport {
  const line = stdout
    .trimEnd()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  if (line === undefined) throw new Error(`the client printed no report line:\n${stdout}`);
  return JSON.parse(line) as ClientReport;
}
