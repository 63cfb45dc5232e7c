import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import cassandra from 'cassandra-driver';
import type { RunningProxy } from '../../src/proxy/start-proxy.js';
import type { SharedClusters } from '../helpers/clusters.js';
import { plainClusterPair } from '../helpers/keyspace.js';
import { proxyClient, testProxy } from './proxy-support.js';

/**
 * ZDM_REPLACE_CQL_FUNCTIONS and ZDM_TARGET_CONSISTENCY_LEVEL against the real clusters: rows
 * written through proxies with and without each setting, then read from each cluster directly.
 */
const KS = 'proxy_functions_it';
const TABLE = `${KS}.events`;
let clusters: SharedClusters;
let origin: cassandra.Client;
let target: cassandra.Client;
const proxies: RunningProxy[] = [];
const clients: cassandra.Client[] = [];

before(async () => {
  ({ clusters, origin, target } = await plainClusterPair(KS, [
    `CREATE TABLE ${TABLE} (k int PRIMARY KEY, id timeuuid, other timeuuid, at timestamp, note text)`,
  ]));
});

after(async () => {
  for (const client of clients) await client.shutdown();
  for (const proxy of proxies) await proxy.close();
  await origin?.shutdown();
  await target?.shutdown();
});

/** A proxy with `env` and a driver connected through it. */
async function throughProxy(env: Record<string, string>): Promise<cassandra.Client> {
  const proxy = await testProxy(clusters, env);
  proxies.push(proxy);
  const client = await proxyClient(proxy);
  clients.push(client);
  return client;
}

interface Stored {
  readonly id: string | null;
  readonly other: string | null;
  readonly at: number | null;
  readonly note: string | null;
}

/** Row `k` as each cluster stores it, read straight from Origin and from Target. */
async function stored(k: number): Promise<{ origin: Stored | null; target: Stored | null }> {
  const read = async (direct: cassandra.Client): Promise<Stored | null> => {
    const row = (
      await direct.execute(`SELECT id, other, at, note FROM ${TABLE} WHERE k = ?`, [k], { prepare: true })
    ).first();
    if (row === null) return null;
    const text = (v: unknown) => (v === null ? null : String(v));
    const at = row.get('at') as Date | null;
    return {
      id: text(row.get('id')),
      other: text(row.get('other')),
      at: at?.getTime() ?? null,
      note: row.get('note'),
    };
  };
  return { origin: await read(origin), target: await read(target) };
}

/** The milliseconds since the Unix epoch a timeuuid carries. */
function timeOf(uuid: string): number {
  return cassandra.types.TimeUuid.fromString(uuid).getDate().getTime();
}

/** A timeuuid made within the last ten minutes (a loaded machine is slow, never that slow). */
function assertRecent(uuid: string | null, what: string): void {
  assert.ok(uuid !== null, `${what} is set`);
  const age = Date.now() - timeOf(uuid);
  assert.ok(age >= -60_000 && age < 600_000, `${what} ${uuid} carries a current time (age ${age} ms)`);
}

describe('ZDM_REPLACE_CQL_FUNCTIONS', () => {
  let replacing: cassandra.Client;
  let plain: cassandra.Client;
  before(async () => {
    replacing = await throughProxy({ ZDM_REPLACE_CQL_FUNCTIONS: 'true' });
    plain = await throughProxy({});
  });

  test('on: an INSERT with now() stores the same timeuuids on both clusters; strings keep their text', async () => {
    await replacing.execute(
      `INSERT INTO ${TABLE} (k, id, other, at, note) VALUES (1, now(), NOW ( ), toTimestamp(now()), 'now()') /* now() */`,
    );
    const rows = await stored(1);
    assert.ok(rows.origin !== null && rows.target !== null, 'row 1 on both clusters');
    assert.deepEqual(rows.target, rows.origin, 'same values on both clusters');
    assertRecent(rows.origin.id, 'id');
    assert.notEqual(rows.origin.id, rows.origin.other, 'each now() call has its own value, as in Cassandra');
    assert.equal(rows.origin.note, 'now()', 'a string literal is never rewritten');
    assert.ok(rows.origin.at !== null && Math.abs(rows.origin.at - timeOf(rows.origin.id!)) < 1000);
  });

  test('on: UPDATE, LWT and a BATCH of simple statements store the same timeuuids on both clusters', async () => {
    await replacing.execute(`INSERT INTO ${TABLE} (k, note) VALUES (2, 'x')`);
    await replacing.execute(`UPDATE ${TABLE} SET id = system.now() WHERE k = 2`);
    const lwt = await replacing.execute(`UPDATE ${TABLE} SET other = now() WHERE k = 2 IF note = 'x'`);
    assert.equal(lwt.wasApplied(), true, 'the conditional update applied');
    await replacing.execute(
      `BEGIN BATCH INSERT INTO ${TABLE} (k, id) VALUES (3, now()); UPDATE ${TABLE} SET id = now() WHERE k = 4; APPLY BATCH`,
    );
    await replacing.batch(
      [
        { query: `INSERT INTO ${TABLE} (k, id) VALUES (5, now())` },
        { query: `UPDATE ${TABLE} SET id = now(), note = ? WHERE k = 6`, params: ['b'] },
      ],
      { prepare: false },
    );
    for (const k of [2, 3, 4, 5, 6]) {
      const rows = await stored(k);
      assert.ok(rows.origin !== null && rows.target !== null, `row ${k} on both clusters`);
      assertRecent(rows.origin.id, `id of row ${k}`);
      assert.deepEqual(rows.target, rows.origin, `row ${k}: same values on both clusters`);
    }
    assertRecent((await stored(2)).origin!.other, 'the LWT value');
  });

  test('off (the default): each cluster evaluates now() itself, so the values differ', async () => {
    await plain.execute(`INSERT INTO ${TABLE} (k, id) VALUES (10, now())`);
    const rows = await stored(10);
    assertRecent(rows.origin?.id ?? null, 'Origin id');
    assertRecent(rows.target?.id ?? null, 'Target id');
    assert.notEqual(rows.origin!.id, rows.target!.id);
  });

  test('on: prepared statements (positional, named, LWT, BATCH children) store the same timeuuids on both clusters', async () => {
    const prepare = { prepare: true };
    await replacing.execute(
      `INSERT INTO ${TABLE} (k, id, other, at) VALUES (?, now(), now(), toTimestamp(now()))`,
      [11],
      prepare,
    );
    await replacing.execute(
      `UPDATE ${TABLE} SET id = now(), note = :note WHERE k = :k`,
      { k: 12, note: 'named' },
      prepare,
    );
    // The partition key comes after the replaced marker: the client's key index must move down.
    await replacing.execute(`UPDATE ${TABLE} SET id = now() WHERE k = ?`, [13], prepare);
    await replacing.execute(`INSERT INTO ${TABLE} (k, id) VALUES (?, now()) IF NOT EXISTS`, [14], prepare);
    await replacing.batch(
      [
        { query: `INSERT INTO ${TABLE} (k, id, note) VALUES (?, now(), ?)`, params: [15, 'b'] },
        { query: `UPDATE ${TABLE} SET other = now() WHERE k = ?`, params: [15] },
        { query: `INSERT INTO ${TABLE} (k, id) VALUES (16, now())` },
      ],
      prepare,
    );
    for (const k of [11, 12, 13, 14, 15, 16]) {
      const rows = await stored(k);
      assert.ok(rows.origin !== null && rows.target !== null, `row ${k} on both clusters`);
      assertRecent(rows.origin.id, `id of row ${k}`);
      assert.deepEqual(rows.target, rows.origin, `row ${k}: same values on both clusters`);
    }
    assert.equal((await stored(12)).origin!.note, 'named');
    assertRecent((await stored(15)).origin!.other, 'the second child value');
    // Executed again: a fresh value each time, still the same on both.
    const before = (await stored(13)).origin!.id;
    await replacing.execute(`UPDATE ${TABLE} SET id = now() WHERE k = ?`, [13], prepare);
    const again = await stored(13);
    assert.notEqual(again.origin!.id, before);
    assert.deepEqual(again.target, again.origin);
  });

  test('off: a prepared now() is evaluated by each cluster, so the values differ', async () => {
    await plain.execute(`INSERT INTO ${TABLE} (k, id) VALUES (?, now())`, [17], { prepare: true });
    const rows = await stored(17);
    assertRecent(rows.origin?.id ?? null, 'Origin id');
    assertRecent(rows.target?.id ?? null, 'Target id');
    assert.notEqual(rows.origin!.id, rows.target!.id);
  });
});

describe('ZDM_TARGET_CONSISTENCY_LEVEL', () => {
  // One node per cluster: THREE can never be met on Target, while the client's LOCAL_ONE can.
  let strict: cassandra.Client;
  let plain: cassandra.Client;
  before(async () => {
    strict = await throughProxy({ ZDM_TARGET_CONSISTENCY_LEVEL: 'THREE' });
    plain = await throughProxy({});
  });
  /** No driver retry: the client sees the proxy's answer itself. */
  const once = { retry: new cassandra.policies.retry.FallthroughRetryPolicy() };

  async function assertTargetUnavailable(write: () => Promise<unknown>, what: string): Promise<void> {
    await assert.rejects(write, (error: cassandra.errors.ResponseError) => {
      assert.equal(
        error.code,
        cassandra.types.responseErrorCodes.unavailableException,
        `${what}: ${error.message}`,
      );
      const details = error as unknown as { consistencies: number; required: number; alive: number };
      assert.equal(
        details.consistencies,
        cassandra.types.consistencies.three,
        `${what}: Target judged THREE`,
      );
      assert.equal(details.required, 3);
      assert.equal(details.alive, 1);
      return true;
    });
  }

  test('set to THREE: writes (QUERY, EXECUTE, BATCH) fail with UNAVAILABLE from Target; Origin took them at the client level', async () => {
    await assertTargetUnavailable(
      () => strict.execute(`INSERT INTO ${TABLE} (k, note) VALUES (20, 'q')`, [], once),
      'QUERY',
    );
    await assertTargetUnavailable(
      () =>
        strict.execute(`INSERT INTO ${TABLE} (k, note) VALUES (?, ?)`, [21, 'e'], { ...once, prepare: true }),
      'EXECUTE',
    );
    await assertTargetUnavailable(
      () =>
        strict.batch(
          [
            { query: `INSERT INTO ${TABLE} (k, note) VALUES (?, ?)`, params: [22, 'b'] },
            { query: `INSERT INTO ${TABLE} (k, note) VALUES (23, 'b')` },
          ],
          { ...once, prepare: true },
        ),
      'BATCH',
    );
    for (const k of [20, 21, 22, 23]) {
      const rows = await stored(k);
      assert.ok(rows.origin !== null, `row ${k} written on Origin at the client's consistency`);
      assert.equal(rows.target, null, `row ${k} refused by Target`);
    }
    const read = await strict.execute(`SELECT note FROM ${TABLE} WHERE k = 20`, [], once);
    assert.equal(read.first()?.get('note'), 'q', 'reads keep the client consistency');
  });

  test('unset (the default): the same writes succeed on both clusters', async () => {
    await plain.execute(`INSERT INTO ${TABLE} (k, note) VALUES (30, 'q')`, [], once);
    await plain.execute(`INSERT INTO ${TABLE} (k, note) VALUES (?, ?)`, [31, 'e'], {
      ...once,
      prepare: true,
    });
    await plain.batch([{ query: `INSERT INTO ${TABLE} (k, note) VALUES (?, ?)`, params: [32, 'b'] }], {
      ...once,
      prepare: true,
    });
    for (const k of [30, 31, 32]) {
      const rows = await stored(k);
      assert.ok(rows.origin !== null && rows.target !== null, `row ${k} on both clusters`);
      assert.equal(rows.origin.note, rows.target.note);
    }
  });
});
