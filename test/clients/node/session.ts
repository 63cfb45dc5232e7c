/**
 * The scripted client session (test/clients/README.md) with the Node.js driver (cassandra-driver).
 *
 * Usage: node --import tsx session.ts HOST PORT KEYSPACE MAX_PROTOCOL_VERSION. Prints one JSON report
 * line last.
 */
import cassandra from 'cassandra-driver';
import { TYPE_VALUES } from '../session-spec.js';

const { types } = cassandra;
const [host, port, keyspace, maxVersion] = process.argv.slice(2) as [string, string, string, string];

const client = new cassandra.Client({
  contactPoints: [`${host}:${port}`],
  localDataCenter: 'datacenter1',
  protocolOptions: { port: Number(port), maxVersion: Number(maxVersion) },
  // Only timeouts are raised: schema changes go to both clusters through the proxy on a busy machine.
  socketOptions: { readTimeout: 60_000, connectTimeout: 30_000 },
});
await client.connect();
const prepare = { prepare: true };

await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
await client.execute(
  `CREATE KEYSPACE ${keyspace} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
);
await client.execute(`USE ${keyspace}`);
for (const ddl of [
  'CREATE TYPE address (street text, number int)',
  'CREATE TABLE kv (k int PRIMARY KEY, v text)',
  'CREATE TABLE lwt (k int PRIMARY KEY, v text)',
  'CREATE TABLE counters (k int PRIMARY KEY, c counter)',
  'CREATE TABLE types (k int PRIMARY KEY, ascii_v ascii, bigint_v bigint, blob_v blob, boolean_v boolean,' +
    ' date_v date, decimal_v decimal, double_v double, duration_v duration, float_v float, inet_v inet,' +
    ' int_v int, smallint_v smallint, text_v text, time_v time, timestamp_v timestamp, timeuuid_v timeuuid,' +
    ' tinyint_v tinyint, uuid_v uuid, varint_v varint, list_v list<int>, set_v set<text>,' +
    ' map_v map<text, int>, tuple_v tuple<int, text>, udt_v frozen<address>)',
]) {
  await client.execute(ddl);
}

// Simple statements.
await client.execute("INSERT INTO kv (k, v) VALUES (0, 'simple')");
await client.execute("UPDATE kv SET v = 'simple-updated' WHERE k = 0");

// Prepared statements.
const insert = 'INSERT INTO kv (k, v) VALUES (?, ?)';
for (let k = 1; k <= 120; k++) await client.execute(insert, [k, `row-${k}`], prepare);
await client.execute('DELETE FROM kv WHERE k = ?', [2], prepare);

await client.batch(
  [121, 122, 123].map((k) => ({ query: insert, params: [k, `batch-${k}`] })),
  { prepare: true, logged: true },
);

await client.execute('INSERT INTO kv (k, v) VALUES (?, ?) USING TTL 86400', [124, 'ttl'], prepare);

// Paging: each page asked for with the paging state of the previous one.
let pagedRows = 0;
let pages = 0;
let pageState: string | undefined;
do {
  const page = await client.execute('SELECT k, v FROM kv', [], {
    fetchSize: 50,
    ...(pageState === undefined ? {} : { pageState }),
  });
  pages++;
  pagedRows += page.rows.length;
  pageState = page.pageState ?? undefined;
} while (pageState !== undefined);

const lwtApplied = [
  (await client.execute("INSERT INTO lwt (k, v) VALUES (1, 'first') IF NOT EXISTS")).wasApplied(),
  (await client.execute("INSERT INTO lwt (k, v) VALUES (1, 'second') IF NOT EXISTS")).wasApplied(),
];

await client.execute('UPDATE counters SET c = c + 5 WHERE k = 1');
await client.execute('UPDATE counters SET c = c + ? WHERE k = ?', [types.Long.fromInt(2), 1], prepare);

const typeValues: Record<string, unknown> = {
  ascii_v: 'ascii',
  bigint_v: types.Long.fromString('9007199254740993'),
  blob_v: Buffer.from('cafebabe', 'hex'),
  boolean_v: true,
  date_v: types.LocalDate.fromString('2024-02-29'),
  decimal_v: types.BigDecimal.fromString('12345.6789'),
  double_v: 3.5,
  duration_v: new types.Duration(1, 2, types.Long.fromString('10800000000000')),
  float_v: 1.25,
  inet_v: types.InetAddress.fromString('127.0.0.1'),
  int_v: 2147483647,
  smallint_v: -32768,
  text_v: 'héllo wörld ✓',
  time_v: types.LocalTime.fromString('12:34:56.789'),
  timestamp_v: new Date('2024-02-29T12:34:56.789Z'),
  timeuuid_v: types.TimeUuid.fromString('50554d6e-29bb-11e5-b345-feff819cdc9f'),
  tinyint_v: -128,
  uuid_v: types.Uuid.fromString('6f1a1c1e-5d2c-4c5b-9f1a-2b3c4d5e6f70'),
  varint_v: types.Integer.fromString('123456789012345678901234567890'),
  list_v: [1, 2, 3],
  set_v: ['a', 'b'],
  map_v: { x: 1, y: 2 },
  tuple_v: new types.Tuple(7, 'seven'),
  udt_v: { street: 'Main', number: 5 },
};
// smallint, tinyint, date and time came with protocol v4 (spec v4 §10); over v3 Cassandra describes them
// as custom types the driver cannot encode, so a v3 session writes them as literals.
const V4_TYPES = new Set(['smallint_v', 'tinyint_v', 'date_v', 'time_v']);
const bound = TYPE_VALUES.filter(([column]) => Number(maxVersion) >= 4 || !V4_TYPES.has(column));
await client.execute(
  `INSERT INTO types (k, ${TYPE_VALUES.map(([c]) => c).join(', ')}) VALUES (1, ${TYPE_VALUES.map(
    ([c, , literal]) => (bound.some(([b]) => b === c) ? '?' : literal),
  ).join(', ')})`,
  bound.map(([column]) => typeValues[column]),
  prepare,
);

// What the driver negotiated, read from its control connection and its pooled connections.
interface Internals {
  readonly controlConnection: { readonly protocolVersion: number };
}
const internals = client as unknown as Internals;
const hosts = client.hosts.values().map((h) => h.address);
const report = {
  driver: `cassandra-driver (Node.js) ${cassandra.version}`,
  protocolVersion: internals.controlConnection.protocolVersion,
  compression: 'none',
  hosts: hosts.sort(),
  pagedRows,
  pages,
  lwtApplied,
};
await client.shutdown();
console.log(JSON.stringify(report));
