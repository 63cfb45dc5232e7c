import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type cassandra from 'cassandra-driver';
import type { RunningProxy } from '../../src/proxy/start-proxy.js';
import type { SharedClusters } from '../helpers/clusters.js';
import { freshKeyspace, plainClusterPair, runAll } from '../helpers/keyspace.js';
import { cellWithWritetime, proxyClient, testProxy } from './proxy-support.js';

/**
 * Statement classification seen from outside: long statements keep their IF and counter updates,
 * collection appends and removals get the proxy's shared timestamp (equal WRITETIMEs read straight
 * from both clusters), and a paged DESCRIBE is answered by the primary alone.
 */
const KS = 'proxy_classify_it';
/** Counter columns of one table: updating them all takes one statement of 1,200 tokens, on one partition. */
const COUNTERS = Array.from({ length: 200 }, (_, i) => `c${i}`);
let clusters: SharedClusters;
let proxy: RunningProxy;
let origin: cassandra.Client;
let target: cassandra.Client;
/** No client timestamps: what the clusters store is the proxy's shared timestamp, or their own clocks. */
let client: cassandra.Client;

before(async () => {
  ({ clusters, origin, target } = await plainClusterPair(KS, [
    `CREATE TABLE ${KS}.coll (k int PRIMARY KEY, s set<int>, l list<int>, m map<text, int>)`,
    `CREATE TABLE ${KS}.cnt (k int PRIMARY KEY, ${COUNTERS.map((c) => `${c} counter`).join(', ')})`,
    `CREATE TABLE ${KS}.lwt (k int PRIMARY KEY, v int, l list<int>)`,
  ]));
  proxy = await testProxy(clusters);
  client = await proxyClient(proxy, { clientTimestamps: false });
});

after(async () => {
  await client?.shutdown();
  await proxy?.close();
  await origin?.shutdown();
  await target?.shutdown();
});

async function bothRows(
  cql: string,
  params: unknown[] = [],
): Promise<[cassandra.types.Row[], cassandra.types.Row[]]> {
  const [o, t] = await Promise.all([origin, target].map((c) => c.execute(cql, params, { prepare: true })));
  return [o!.rows, t!.rows];
}

/** The column's value and per-cell writetimes on each cluster: equal on both, and returned. */
async function sameOnBoth(table: string, column: string, k: number) {
  const o = await cellWithWritetime(origin, `${KS}.${table}`, column, 'k = ?', [k]);
  const t = await cellWithWritetime(target, `${KS}.${table}`, column, 'k = ?', [k]);
  assert.ok(o !== null && t !== null, `row ${k} of ${table} on both clusters`);
  assert.deepEqual(o.value, t.value, `${column}: same value on both clusters`);
  assert.equal(o.writetime, t.writetime, `${column}: same writetimes on both clusters`);
  return o;
}

const numbers = (n: number) => Array.from({ length: n }, (_, i) => i).join(', ');

describe('statements longer than 512 tokens', () => {
  test('an IF after 1,200 tokens: the LWT is applied on both clusters, without a client timestamp', async () => {
    await client.execute(`INSERT INTO ${KS}.lwt (k, v) VALUES (1, 0)`);
    // The list literal alone is 1,199 tokens; the condition comes after it.
    const lwt = `UPDATE ${KS}.lwt SET l = [${numbers(600)}] WHERE k = 1 IF v = 0`;
    const applied = await client.execute(lwt);
    assert.equal(applied.first().get('[applied]'), true);
    const again = await client.execute(lwt.replace('IF v = 0', 'IF v = 1'));
    assert.equal(again.first().get('[applied]'), false, 'the condition is evaluated');
    const [o, t] = await bothRows(`SELECT l FROM ${KS}.lwt WHERE k = 1`);
    for (const rows of [o, t]) assert.equal((rows[0]!.get('l') as number[]).length, 600);
  });

  test('a long INSERT ... IF NOT EXISTS and a long prepared LWT', async () => {
    const insert = `INSERT INTO ${KS}.lwt (k, v, l) VALUES (2, 5, [${numbers(600)}]) IF NOT EXISTS`;
    assert.equal((await client.execute(insert)).first().get('[applied]'), true);
    assert.equal((await client.execute(insert)).first().get('[applied]'), false);
    const prepared = `UPDATE ${KS}.lwt SET l = [${numbers(300)}], v = ? WHERE k = ? IF v = ?`;
    const result = await client.execute(prepared, [6, 2, 5], { prepare: true });
    assert.equal(result.first().get('[applied]'), true);
    const [o, t] = await bothRows(`SELECT v FROM ${KS}.lwt WHERE k = 2`);
    assert.deepEqual([o[0]!.get('v'), t[0]!.get('v')], [6, 6]);
  });

  test('a counter update of 1,200 tokens, as text and prepared', async () => {
    await client.execute(
      `UPDATE ${KS}.cnt SET ${COUNTERS.map((c) => `${c} = ${c} + 3`).join(', ')} WHERE k = 1`,
    );
    await client.execute(
      `UPDATE ${KS}.cnt SET ${COUNTERS.map((c) => `${c} = ${c} - ?`).join(', ')} WHERE k = ?`,
      [...COUNTERS.map(() => 1), 1],
      { prepare: true },
    );
    for (const direct of [origin, target]) {
      const row = (await direct.execute(`SELECT * FROM ${KS}.cnt WHERE k = 1`)).first();
      assert.deepEqual(new Set(COUNTERS.map((c) => String(row.get(c)))), new Set(['2']));
    }
  });
});

describe('collection appends and removals get the shared timestamp', () => {
  test('set, list and map: append, prepend, remove, as text', async () => {
    await client.execute(`INSERT INTO ${KS}.coll (k, s, l, m) VALUES (1, {1}, [1], {'a': 1, 'b': 2})`);
    await client.execute(`UPDATE ${KS}.coll SET s = s + {2} WHERE k = 1`);
    await client.execute(`UPDATE ${KS}.coll SET l = l + [3] WHERE k = 1`);
    await client.execute(`UPDATE ${KS}.coll SET l = [0] + l WHERE k = 1`);
    // A removal alone leaves only a tombstone; beside an append its timestamp shows in the appended cell.
    await client.execute(`UPDATE ${KS}.coll SET m = m - {'a'}, s = s + {3} WHERE k = 1`);
    await client.execute(`UPDATE ${KS}.coll SET s = s - {1} WHERE k = 1`);
    const s = await sameOnBoth('coll', 's', 1);
    const l = await sameOnBoth('coll', 'l', 1);
    const m = await sameOnBoth('coll', 'm', 1);
    assert.deepEqual(s.value, [2, 3]);
    assert.deepEqual(l.value, [0, 1, 3]);
    assert.deepEqual(m.value, { b: 2 });
    // Cells written by different statements have different writetimes: each statement was stamped.
    assert.equal(new Set(l.writetime.split(',')).size, 3, `three list writes: ${l.writetime}`);
  });

  test('appends and removals in a BEGIN BATCH text', async () => {
    await client.execute(
      `BEGIN BATCH UPDATE ${KS}.coll SET s = s + {7} WHERE k = 2; UPDATE ${KS}.coll SET l = l + [7], m = m - {'x'} WHERE k = 2; APPLY BATCH`,
    );
    await sameOnBoth('coll', 's', 2);
    await sameOnBoth('coll', 'l', 2);
  });

  test('prepared appends (x = x + ?) are settled by the PREPARED variable types', async () => {
    await client.execute(`UPDATE ${KS}.coll SET s = s + ?, l = l + ? WHERE k = ?`, [[5], [5], 3], {
      prepare: true,
    });
    await client.execute(`UPDATE ${KS}.coll SET m = m + ? WHERE k = ?`, [{ z: 26 }, 3], { prepare: true });
    await sameOnBoth('coll', 's', 3);
    await sameOnBoth('coll', 'l', 3);
    await sameOnBoth('coll', 'm', 3);
  });
});

describe('DESCRIBE goes to the primary only', () => {
  test('a paged DESCRIBE through the proxy reads every page from Origin', async () => {
    const ks = `${KS}_describe`;
    for (const direct of [origin, target]) await freshKeyspace(direct, ks);
    // Origin alone has these tables: only the primary's schema can list them.
    const tables = Array.from({ length: 7 }, (_, i) => `origin_only_${i}`);
    await runAll(
      origin,
      tables.map((t) => `CREATE TABLE ${ks}.${t} (k int PRIMARY KEY, v text)`),
    );
    const names: string[] = [];
    let pageState: string | undefined;
    let pages = 0;
    do {
      // cqlsh pages DESCRIBE output like this (a small fetch size makes several pages).
      const page = await client.execute(`DESCRIBE KEYSPACE ${ks}`, [], { fetchSize: 2, pageState });
      pages++;
      for (const row of page.rows) names.push(String(row.get('name')));
      pageState = page.pageState ?? undefined;
    } while (pageState !== undefined);
    assert.ok(pages >= 4, `several pages (${pages})`);
    for (const table of tables) assert.ok(names.includes(table), `${table} in ${names.join(', ')}`);
  });

  test('the driver auto-pages DESCRIBE KEYSPACES', async () => {
    const names: string[] = [];
    await new Promise<void>((resolve, reject) =>
      client.eachRow(
        'DESCRIBE KEYSPACES',
        [],
        { fetchSize: 1, autoPage: true },
        (_n, row) => names.push(String(row.get('name'))),
        (error) => (error ? reject(error) : resolve()),
      ),
    );
    assert.ok(names.includes(KS) && names.includes('system'), names.join(', '));
  });
});
