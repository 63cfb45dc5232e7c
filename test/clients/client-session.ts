/**
 * Runs a client program's scripted session through the proxy and checks its outcome, the same way for
 * every client: what the driver reports it negotiated and read, and what both clusters hold afterwards,
 * read directly (every row on both, equal writetimes and TTLs, LWT and counters aside).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import type cassandra from 'cassandra-driver';
import type { ClientCommand } from '../helpers/client-install.js';
import { snapshotDifferences, snapshotKey, snapshotTable } from '../helpers/table-snapshot.js';
import { type ClientProfile, expectedNegotiation, type ProxyOffer } from './negotiation.js';
import {
  ADDRESS_TYPE_CQL,
  type ClientReport,
  COUNTER_VALUE,
  expectedKeyValues,
  LWT_VALUE,
  PAGE_SIZE,
  TTL_SECONDS,
  typesInsertCql,
  typesTableCql,
} from './session-spec.js';

/** Where the proxy listens, what it offers, and the clusters behind it (read directly). */
export interface SessionContext {
  readonly proxyHost: string;
  readonly proxyPort: number;
  readonly offer: ProxyOffer;
  readonly origin: cassandra.Client;
  readonly target: cassandra.Client;
  /** The `types` row as written with CQL literals, straight to Origin (see `writeReferenceTypes`). */
  readonly referenceTypes: ReferenceRow;
}

type ReferenceRow = Readonly<Record<string, { readonly value: string }>>;

/**
 * A session taking longer than this hangs somewhere. Warm sessions take seconds to a minute; the
 * margin is for a machine shared with other Cassandra nodes, where a JVM client starts slowly.
 */
const SESSION_TIMEOUT_MS = 600_000;

/** Runs `program HOST PORT KEYSPACE ...extra`; resolves to its stdout, rejects with its output. */
export function runProgram(program: ClientCommand, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      program.command,
      [...program.args, ...args],
      { timeout: SESSION_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error === null) resolve(stdout);
        else
          reject(
            new Error(
              `${program.command} ${[...program.args, ...args].join(' ')} ` +
                (error.killed
                  ? `was stopped after ${SESSION_TIMEOUT_MS / 1000} s without finishing\n`
                  : `failed (${error.message.split('\n')[0]})\n`) +
                `stdout:\n${stdout.slice(-4000)}\nstderr:\n${stderr.slice(-4000)}`,
            ),
          );
      },
    );
  });
}

/** Checks the report against the session and against what the proxy offers, and logs what was negotiated. */
export function checkReport(
  name: string,
  report: ClientReport,
  profile: ClientProfile,
  context: SessionContext,
) {
  console.log(
    `# ${name}: ${report.driver}, protocol v${report.protocolVersion}, compression ${report.compression}`,
  );
  const expected = expectedNegotiation(profile, context.offer);
  assert.equal(report.protocolVersion, expected.protocolVersion, `${name}: negotiated protocol version`);
  assert.equal(report.compression, expected.compression, `${name}: negotiated compression`);
  assert.deepEqual(
    report.hosts,
    [`${context.proxyHost}:${context.proxyPort}`],
    `${name}: sees only the proxy`,
  );
  const rows = expectedKeyValues().size;
  assert.equal(report.pagedRows, rows, `${name}: rows read back by the paged SELECT`);
  assert.ok(
    report.pages >= Math.ceil(rows / PAGE_SIZE),
    `${name}: ${report.pages} pages of ${PAGE_SIZE} rows`,
  );
  assert.deepEqual(report.lwtApplied, [true, false], `${name}: [applied] of INSERT ... IF NOT EXISTS twice`);
}

/** What both clusters hold after a session in `keyspace`, read directly from each. */
export async function checkClusters(name: string, keyspace: string, context: SessionContext): Promise<void> {
  const { origin, target } = context;
  for (const [cluster, client] of [
    ['origin', origin],
    ['target', target],
  ] as const) {
    const kv = await client.execute(`SELECT k, v FROM ${keyspace}.kv`);
    assert.deepEqual(
      new Map(kv.rows.map((r) => [r.get('k') as number, r.get('v') as string])),
      new Map(expectedKeyValues()),
      `${name}: rows of ${keyspace}.kv on ${cluster}`,
    );
    const lwt = await client.execute(`SELECT v FROM ${keyspace}.lwt WHERE k = 1`);
    assert.equal(lwt.first()?.get('v'), LWT_VALUE, `${name}: ${keyspace}.lwt on ${cluster}`);
    const counter = await client.execute(`SELECT c FROM ${keyspace}.counters WHERE k = 1`);
    assert.equal(String(counter.first()?.get('c')), String(COUNTER_VALUE), `${name}: counter on ${cluster}`);
  }
  // Values, writetimes and TTLs cell by cell; LWT writes take their Paxos timestamp on each cluster.
  for (const table of ['kv', 'types', 'lwt']) {
    const differences = snapshotDifferences(
      await snapshotTable(origin, keyspace, table),
      await snapshotTable(target, keyspace, table),
      table === 'lwt' ? { ignoreWritetime: ['v'] } : {},
    );
    assert.deepEqual(differences, [], `${name}: ${keyspace}.${table} differs between origin and target`);
  }
  const kv = await snapshotTable(origin, keyspace, 'kv');
  const now = Date.now() / 1000;
  for (const [key, cells] of kv) {
    const expiry = cells.v?.ttl;
    if (key === snapshotKey(124)) {
      const remaining = Number(expiry) - now;
      assert.ok(
        remaining > TTL_SECONDS - 600 && remaining <= TTL_SECONDS + 2,
        `${name}: TTL of key 124 is ${remaining} s`,
      );
    } else {
      assert.equal(expiry, null, `${name}: key ${key} has no TTL`);
    }
  }
  const types = (await snapshotTable(origin, keyspace, 'types')).get(snapshotKey(1));
  assert.ok(types !== undefined, `${name}: ${keyspace}.types has its row`);
  for (const [column, { value }] of Object.entries(context.referenceTypes)) {
    assert.equal(types[column]?.value, value, `${name}: ${keyspace}.types.${column}`);
  }
}

/**
 * Writes the `types` row with CQL literals straight to Origin, in `keyspace`, and returns it as read
 * back: what every client's row must equal.
 */
export async function writeReferenceTypes(client: cassandra.Client, keyspace: string): Promise<ReferenceRow> {
  await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
  await client.execute(
    `CREATE KEYSPACE ${keyspace} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
  );
  const qualify = (cql: string, word: string) => cql.replace(`${word} `, `${word} ${keyspace}.`);
  await client.execute(qualify(ADDRESS_TYPE_CQL, 'TYPE'));
  await client.execute(qualify(typesTableCql(), 'TABLE'));
  await client.execute(qualify(typesInsertCql(), 'INTO'));
  const row = (await snapshotTable(client, keyspace, 'types')).get(snapshotKey(1));
  assert.ok(row !== undefined, 'the reference types row was written');
  return row;
}
