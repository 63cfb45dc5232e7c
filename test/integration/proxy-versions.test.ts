import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import cassandra from 'cassandra-driver';
import { refusesOlderProtocols } from '../../src/cluster/cql-probe.js';
import type { RunningCluster } from '../../src/cluster/local-cluster.js';
import type { RunningProxy } from '../../src/proxy/start-proxy.js';
import { runProgram } from '../clients/client-session.js';
import { installPythonProgram } from '../helpers/client-install.js';
import { cqlClient, sharedClusters, startExtraCluster } from '../helpers/clusters.js';
import { proxyClient, testProxy } from './proxy-support.js';

/**
 * A v4 client in front of a Target that speaks only v5: Cassandra 5.0 with the stock setting
 * `native_transport_allow_older_protocols: false` (stricter than the default, not a relaxed limit)
 * refuses v4. The Node.js driver speaks v4 at most, so without the proxy's bridge it could not
 * use this Target at all. It runs DDL, simple and prepared statements, a batch and paged reads
 * through the proxy; both clusters are then read directly (Target by the Python driver, in v5):
 * the same rows, the same writetimes.
 */

const KEYSPACE = 'versions_bridge';
const ROWS = 30;

let origin: cassandra.Client;
let target: RunningCluster;
let proxy: RunningProxy;
let client: cassandra.Client;
const reader = installPythonProgram('read_rows.py');
reader.catch(() => undefined); // reported by the test that awaits it

before(async () => {
  const shared = await sharedClusters();
  origin = await cqlClient(shared.origin);
  target = await startExtraCluster({ name: 'v5only', allowOlderProtocols: false });
  proxy = await testProxy({ origin: shared.origin, target });
  client = await proxyClient(proxy);
});

after(async () => {
  await client?.shutdown();
  await proxy?.close();
  await origin?.shutdown();
  await target?.stop();
});

/** Rows straight from the v5-only Target, read by the Python driver. */
async function targetRows(
  query: string,
): Promise<{ protocolVersion: number; rows: Record<string, unknown>[] }> {
  const stdout = await runProgram(await reader, [target.contactPoints[0]!, String(target.port), query]);
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

/** k → "v@writetime(v)" of the test table, as one cluster holds it. */
function byKey(rows: readonly Record<string, unknown>[]): Map<number, string> {
  return new Map(rows.map((row) => [Number(row.k), `${row.v}@${row.wt}`]));
}

describe('a v4 client, a Target that speaks only v5', () => {
  test('the Target really refuses v4 (what the bridge is for)', async () => {
    const direct = new cassandra.Client({
      contactPoints: [...target.contactPoints],
      protocolOptions: { port: target.port, maxVersion: 4 },
      localDataCenter: target.localDataCenter,
    });
    await assert.rejects(direct.connect());
    await direct.shutdown().catch(() => undefined);
    assert.equal(await refusesOlderProtocols(target.contactPoints[0]!, target.port), true);
  });

  test('the proxy reports both clusters ready (its probe speaks v4, which Target refuses)', async () => {
    const deadline = Date.now() + 60_000;
    while (!(proxy.health().origin && proxy.health().target)) {
      assert.ok(Date.now() < deadline, `readiness stayed ${JSON.stringify(proxy.health())}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });

  test('the Node.js driver connects through the proxy in v4', () => {
    assert.equal(client.getState().getConnectedHosts().length > 0, true);
    const internal = client as unknown as { controlConnection: { protocolVersion: number } };
    assert.equal(internal.controlConnection.protocolVersion, 4);
  });

  test('DDL, simple and prepared writes, a batch, paged prepared reads; both clusters hold the same', async () => {
    await client.execute(`DROP KEYSPACE IF EXISTS ${KEYSPACE}`);
    await client.execute(
      `CREATE KEYSPACE ${KEYSPACE} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
    );
    await client.execute(`CREATE TABLE ${KEYSPACE}.kv (k int PRIMARY KEY, v text)`);
    await client.execute(`INSERT INTO ${KEYSPACE}.kv (k, v) VALUES (0, 'simple')`);
    const insert = `INSERT INTO ${KEYSPACE}.kv (k, v) VALUES (?, ?)`;
    for (let k = 1; k < ROWS - 2; k++) await client.execute(insert, [k, `row-${k}`], { prepare: true });
    await client.batch(
      [
        { query: insert, params: [ROWS - 2, `row-${ROWS - 2}`] },
        { query: `INSERT INTO ${KEYSPACE}.kv (k, v) VALUES (${ROWS - 1}, 'row-${ROWS - 1}')` },
      ],
      { prepare: true },
    );
    await client.execute(`UPDATE ${KEYSPACE}.kv SET v = ? WHERE k = ?`, ['updated', 1], { prepare: true });

    // Reads: one prepared SELECT, then the whole table in pages of 7.
    const one = await client.execute(`SELECT k, v FROM ${KEYSPACE}.kv WHERE k = ?`, [2], { prepare: true });
    assert.deepEqual(
      one.rows.map((r) => [r.k, r.v]),
      [[2, 'row-2']],
    );
    const paged: number[] = [];
    let pageState: string | undefined;
    let pages = 0;
    do {
      const page = await client.execute(`SELECT k FROM ${KEYSPACE}.kv`, [], {
        prepare: true,
        fetchSize: 7,
        ...(pageState === undefined ? {} : { pageState }),
      });
      paged.push(...page.rows.map((r) => r.k as number));
      pageState = page.pageState ?? undefined;
      pages++;
    } while (pageState !== undefined);
    assert.deepEqual(
      paged.sort((a, b) => a - b),
      Array.from({ length: ROWS }, (_, k) => k),
    );
    assert.ok(pages >= 5, `read in ${pages} pages`);

    // An error answered by the v5 Target reaches the v4 client as a v4 error.
    await assert.rejects(client.execute(`SELECT nope FROM ${KEYSPACE}.kv`), /nope/);

    const query = `SELECT k, v, writetime(v) AS wt FROM ${KEYSPACE}.kv`;
    const onOrigin = byKey((await origin.execute(query)).rows as unknown as Record<string, unknown>[]);
    const onTarget = await targetRows(query);
    assert.equal(onTarget.protocolVersion, 5, 'the Python driver read Target in v5');
    assert.equal(onOrigin.size, ROWS);
    assert.equal(onOrigin.get(1)?.startsWith('updated@'), true);
    assert.deepEqual(byKey(onTarget.rows), onOrigin, 'Target holds the same values and writetimes');
  });

  test('reads from the v5-only Target as primary: prepared, simple and paged', async () => {
    const shared = await sharedClusters();
    const targetPrimary = await testProxy(
      { origin: shared.origin, target },
      { ZDM_PRIMARY_CLUSTER: 'TARGET' },
    );
    const reads = await proxyClient(targetPrimary);
    try {
      const prepared = await reads.execute(`SELECT k, v FROM ${KEYSPACE}.kv WHERE k = ?`, [3], {
        prepare: true,
      });
      assert.deepEqual(
        prepared.rows.map((r) => [r.k, r.v]),
        [[3, 'row-3']],
      );
      const again = await reads.execute(`SELECT k, v FROM ${KEYSPACE}.kv WHERE k = ?`, [4], {
        prepare: true,
      });
      assert.deepEqual(
        again.rows.map((r) => [r.k, r.v]),
        [[4, 'row-4']],
      );
      const simple = await reads.execute(`SELECT k, v FROM ${KEYSPACE}.kv WHERE k = 5`);
      assert.deepEqual(
        simple.rows.map((r) => [r.k, r.v]),
        [[5, 'row-5']],
      );
      const keys: number[] = [];
      await new Promise<void>((resolve, reject) =>
        reads.eachRow(
          `SELECT k FROM ${KEYSPACE}.kv`,
          [],
          { prepare: true, fetchSize: 4, autoPage: true },
          (_n, row) => keys.push(row.k as number),
          (error) => (error ? reject(error) : resolve()),
        ),
      );
      assert.deepEqual(
        keys.sort((a, b) => a - b),
        Array.from({ length: ROWS }, (_, k) => k),
      );
    } finally {
      await reads.shutdown();
      await targetPrimary.close();
    }
  });
});
