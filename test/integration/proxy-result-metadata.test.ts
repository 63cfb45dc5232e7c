import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type cassandra from 'cassandra-driver';
import {
  Consistency,
  decodeCell,
  decodeResult,
  encodeExecute,
  encodePrepare,
  Opcode,
  queryParameters,
} from '../../src/proxy/codec/index.js';
import type { RunningProxy } from '../../src/proxy/start-proxy.js';
import { runProgram } from '../clients/client-session.js';
import { installPythonProgram } from '../helpers/client-install.js';
import { cqlClient, type SharedClusters, sharedClusters } from '../helpers/clusters.js';
import { freshKeyspace } from '../helpers/keyspace.js';
import { startV4OnlyGate, type V4OnlyGate } from '../helpers/v4-only-gate.js';
import { RawCqlConnection, testProxy } from './proxy-support.js';

/**
 * Prepared statements whose result columns differ between the clusters: Target's table has a
 * column `a` Origin's lacks (it sorts before `v`, so `SELECT *` returns k, a, v there and k, v on
 * Origin, and Cassandra gives the statement another result metadata id on each side). The Python
 * driver, on protocol v4 and v5, writes and reads through the proxy with asynchronous dual reads,
 * with Origin and with Target primary; then a column is added on Target alone and the same prepared
 * SELECT runs again. The rows the client decodes must be the primary cluster's, column by column,
 * and both clusters must hold every write with the same writetime.
 */

interface Report {
  readonly protocolVersion: number;
  readonly prepared: readonly Record<string, unknown>[];
  readonly named: readonly Record<string, unknown>[];
  readonly simple: readonly Record<string, unknown>[];
  readonly pagedKeys: readonly number[];
  readonly afterAlter: readonly Record<string, unknown>[];
}

let clusters: SharedClusters;
let origin: cassandra.Client;
let target: cassandra.Client;
const program = installPythonProgram('result_metadata.py');
program.catch(() => undefined); // reported by the tests that await it

before(async () => {
  clusters = await sharedClusters();
  origin = await cqlClient(clusters.origin);
  target = await cqlClient(clusters.target);
});

after(async () => {
  await origin?.shutdown();
  await target?.shutdown();
});

/** The table on each cluster, Target's with the extra column. */
async function tables(keyspace: string): Promise<void> {
  await freshKeyspace(origin, keyspace);
  await freshKeyspace(target, keyspace);
  await origin.execute(`CREATE TABLE ${keyspace}.t (k int PRIMARY KEY, v text)`);
  await target.execute(`CREATE TABLE ${keyspace}.t (k int PRIMARY KEY, a int, v text)`);
}

/**
 * What a driver that asks Skip_metadata does (the Java driver, gocql): PREPARE over protocol v4,
 * EXECUTE with Skip_metadata, and decode the rows by the columns of the ROWS answer when it has
 * them, else by those of the PREPARED answer. Returns the row as [column, value] pairs.
 */
async function skipMetadataRead(port: number, keyspace: string, k: number): Promise<[string, unknown][]> {
  const connection = await RawCqlConnection.open(port);
  try {
    connection.send(
      1,
      Opcode.PREPARE,
      encodePrepare({ query: `SELECT * FROM ${keyspace}.t WHERE k = ?`, keyspace: null }, 4),
    );
    const preparedFrame = await connection.answer(1);
    assert.equal(preparedFrame.header.opcode, Opcode.RESULT, 'PREPARE answered with a RESULT');
    const prepared = decodeResult(preparedFrame.body, 4);
    assert.equal(prepared.kind, 'prepared');
    if (prepared.kind !== 'prepared') return [];
    const key = Buffer.alloc(4);
    key.writeInt32BE(k);
    const params = queryParameters(Consistency.ONE, { values: [key], skipMetadata: true });
    connection.send(2, Opcode.EXECUTE, encodeExecute({ id: prepared.id, resultMetadataId: null, params }, 4));
    const rowsFrame = await connection.answer(2);
    assert.equal(rowsFrame.header.opcode, Opcode.RESULT, 'EXECUTE answered with a RESULT');
    const rows = decodeResult(rowsFrame.body, 4);
    assert.equal(rows.kind, 'rows');
    if (rows.kind !== 'rows') return [];
    const columns = rows.metadata.columns ?? prepared.resultMetadata.columns!;
    const row = rows.rows[0]!;
    assert.equal(row.length, columns.length, 'as many cells as the columns the client decodes by');
    return columns.map((column, i) => [column.name, decodeCell(column.type, row[i]!, 4)]);
  } finally {
    connection.close();
  }
}

/** Rows of k, v (and writetime(v)) as one cluster holds them. */
async function stored(client: cassandra.Client, keyspace: string): Promise<Map<number, string>> {
  const result = await client.execute(`SELECT k, v, writetime(v) AS wt FROM ${keyspace}.t`);
  return new Map(result.rows.map((row) => [row.get('k') as number, `${row.get('v')}@${row.get('wt')}`]));
}

const FIRST_KEY = 1;
const KEYS = Array.from({ length: 20 }, (_, i) => FIRST_KEY + i);

/**
 * Runs result_metadata.py through the proxy on `port` in `keyspace` and checks what the client
 * decoded (the primary's columns, before and after Target gains a column) and what both clusters hold.
 */
async function checkSession(
  port: number,
  primary: 'ORIGIN' | 'TARGET',
  version: 4 | 5,
  keyspace: string,
): Promise<void> {
  await tables(keyspace);
  const stdout = await runProgram(await program, [
    '127.0.0.1',
    String(port),
    keyspace,
    String(version),
    String(FIRST_KEY),
    clusters.target.contactPoints[0]!,
    String(clusters.target.port),
  ]);
  const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as Report;
  assert.equal(report.protocolVersion, version);

  const onTarget = primary === 'TARGET';
  const row = (k: number, extra: Record<string, unknown>) => ({ k, ...extra, v: `row-${k}` });
  const expected = KEYS.map((k) => row(k, onTarget ? { a: null } : {}));
  // Column order matters: the client decodes each cell by the column at its position.
  const withOrder = (rows: readonly Record<string, unknown>[]) => rows.map((r) => Object.entries(r));
  assert.deepEqual(withOrder(report.prepared), withOrder(expected), 'prepared SELECT *');
  assert.deepEqual(withOrder(report.simple), withOrder(expected), 'simple SELECT *');
  assert.deepEqual(
    report.named,
    KEYS.map((k) => ({ v: `row-${k}` })),
    'prepared SELECT v',
  );
  assert.deepEqual(report.pagedKeys, KEYS, 'prepared SELECT * over several pages');
  const afterAlter = KEYS.map((k) => row(k, onTarget ? { a: null, b: null } : {}));
  assert.deepEqual(
    withOrder(report.afterAlter),
    withOrder(afterAlter),
    'prepared SELECT * after Target gained a column',
  );

  if (version === 4) {
    // A Target-only column `b` now exists too (added by the program above).
    const expectedRow = onTarget
      ? [
          ['k', 3],
          ['a', null],
          ['b', null],
          ['v', 'row-3'],
        ]
      : [
          ['k', 3],
          ['v', 'row-3'],
        ];
    assert.deepEqual(await skipMetadataRead(port, keyspace, 3), expectedRow, 'Skip_metadata read');
  }

  const onOrigin = await stored(origin, keyspace);
  assert.deepEqual(
    [...onOrigin.keys()].sort((x, y) => x - y),
    KEYS,
    'rows on Origin',
  );
  assert.deepEqual(await stored(target, keyspace), onOrigin, 'Target holds the same values and writetimes');
}

for (const primary of ['ORIGIN', 'TARGET'] as const) {
  describe(`primary ${primary}, DUAL_ASYNC_ON_SECONDARY`, () => {
    let proxy: RunningProxy;
    before(async () => {
      proxy = await testProxy(clusters, {
        ZDM_PRIMARY_CLUSTER: primary,
        ZDM_READ_MODE: 'DUAL_ASYNC_ON_SECONDARY',
      });
    });
    after(async () => {
      await proxy?.close();
    });

    for (const version of [4, 5] as const) {
      test(`the Python driver on protocol v${version} decodes the ${primary.toLowerCase()}'s columns`, async () => {
        await checkSession(proxy.port, primary, version, `rmeta_${primary.toLowerCase()}_v${version}`);
      });
    }
  });
}

describe('primary TARGET, a Target that speaks v4 at most (Cassandra 3.x), a v5 client', () => {
  // The proxy speaks v4 to Target and gives its columns result metadata ids of its own: the v5
  // client must still decode Target's columns, skipping them once it holds them, and Target's new
  // columns after it gains one (Cassandra then drops the statement; the re-prepare is bridged too).
  // Metadata_changed itself is checked byte for byte in test/unit/proxy-version-bridge.test.ts.
  let gate: V4OnlyGate;
  let proxy: RunningProxy;
  before(async () => {
    gate = await startV4OnlyGate({ host: clusters.target.contactPoints[0]!, port: clusters.target.port });
    proxy = await testProxy(
      {
        origin: clusters.origin,
        target: { ...clusters.target, contactPoints: [gate.host], port: gate.port },
      },
      { ZDM_PRIMARY_CLUSTER: 'TARGET', ZDM_READ_MODE: 'DUAL_ASYNC_ON_SECONDARY' },
    );
  });
  after(async () => {
    await proxy?.close();
    await gate?.close();
  });

  test("the Python driver on protocol v5 decodes the target's columns through the bridge", async () => {
    await checkSession(proxy.port, 'TARGET', 5, 'rmeta_target_v5_bridged');
    assert.ok(gate.refusedV5() > 0, 'Target refused v5, so the proxy spoke v4 to it');
  });
});
