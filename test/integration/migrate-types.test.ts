import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import cassandra from 'cassandra-driver';
import { scratchDir } from '../helpers/checkpoints.js';
import { migrateArgs, runZdm } from '../helpers/cli.js';
import { type ClusterEndpoint, sharedClusters } from '../helpers/clusters.js';
import { exactClient, freshKeyspace, runAll, setupWrite } from '../helpers/keyspace.js';
import { snapshotDifferences, snapshotTable } from '../helpers/table-snapshot.js';

const { types } = cassandra;
const KS = 'mig_types';

const SCHEMA = [
  `CREATE TYPE ${KS}.addr (street text, zip int, tags frozen<set<text>>)`,
  `CREATE TYPE ${KS}."Point" ("X" double, y double)`,
  `CREATE TABLE ${KS}.all_types (
     id int, "Part" text, ck1 timeuuid, ck2 text,
     s_static text static,
     a ascii, bi bigint, bl blob, bo boolean, da date, de decimal, dbl double, du duration, fl float,
     ine inet, i int, si smallint, te text, ti time, ts timestamp, tu timeuuid, tiny tinyint, u uuid,
     vc varchar, vi varint,
     li list<int>, se set<text>, ma map<text, bigint>, fli frozen<list<text>>, fse frozen<set<int>>,
     fma frozen<map<int, text>>, tup tuple<int, text, double>, ud addr, fud frozen<addr>, pt frozen<"Point">,
     nested map<text, frozen<list<frozen<map<int, text>>>>>, vec vector<float, 4>, "MixedCase" text,
     PRIMARY KEY ((id, "Part"), ck1, ck2)
   ) WITH CLUSTERING ORDER BY (ck1 DESC, ck2 ASC)`,
  `CREATE TABLE ${KS}.counts (k text, c int, hits counter, misses counter, PRIMARY KEY (k, c))`,
];

const FULL_INSERT = `INSERT INTO ${KS}.all_types (id, "Part", ck1, ck2, s_static, a, bi, bl, bo, da, de, dbl, du, fl, ine, i, si, te, ti, ts, tu, tiny, u, vc, vi,
  li, se, ma, fli, fse, fma, tup, ud, fud, pt, nested, vec, "MixedCase")
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/** Deterministic timeuuid (fixed node and clock), so later updates address the same row. */
const ck1Of = (id: number) =>
  types.TimeUuid.fromDate(
    new Date(1_700_000_000_000 + id),
    id % 10_000,
    Buffer.from('0a0b0c0d0e0f', 'hex'),
    Buffer.from('0102', 'hex'),
  );

function fullRow(id: number, variant: 'plain' | 'edge') {
  const edge = variant === 'edge';
  return [
    id,
    edge ? '' : 'P-1',
    ck1Of(id),
    edge ? '' : `c${id}`,
    `static-${id}`,
    edge ? '' : 'ascii',
    edge ? -(2n ** 63n) : 2n ** 62n + 7n,
    edge ? Buffer.alloc(0) : Buffer.from([0, 1, 2, 255]),
    !edge,
    edge ? new types.LocalDate(-5000, 1, 1) : new types.LocalDate(2024, 2, 29),
    edge
      ? types.BigDecimal.fromString('-0.000000000000000000000000000001')
      : types.BigDecimal.fromString('12345678901234567890.123456789'),
    edge ? Number.NaN : 2.718281828459045e10,
    edge ? types.Duration.fromString('-1y2mo3d4h5m6s7ms8us9ns') : types.Duration.fromString('1h30m'),
    edge ? Number.NEGATIVE_INFINITY : 1.5,
    edge ? '::1' : '192.168.1.20',
    edge ? -2147483648 : 42,
    edge ? -32768 : 7,
    edge ? '' : 'héllo wörld ✓',
    edge ? types.LocalTime.fromString('23:59:59.999999999') : types.LocalTime.fromString('08:00:00'),
    edge ? new Date(-62135596800000) : new Date(1_700_000_000_123),
    types.TimeUuid.fromDate(new Date(1_600_000_000_000), 1),
    edge ? -128 : 127,
    types.Uuid.fromString('550e8400-e29b-41d4-a716-446655440000'),
    edge ? '' : 'varchar',
    edge ? -(10n ** 40n) - 1n : 10n ** 30n,
    [3, 1, 2],
    ['b', 'a'],
    new Map([
      ['x', 1n],
      ['y', -1n],
    ]),
    ['f1', 'f2'],
    [5, 4],
    new Map([[1, 'one']]),
    new types.Tuple(1, 'two', edge ? Number.POSITIVE_INFINITY : 3.5),
    { street: 'Main', zip: 12345, tags: ['home'] },
    { street: 'Frozen', zip: null, tags: null },
    { X: 1.5, y: -2.5 },
    new Map([['n', [new Map([[1, 'a']]), new Map([[2, 'b']])]]]),
    new types.Vector(new Float32Array(edge ? [Number.NaN, 0, -0, 1e-40] : [0.5, 1.5, 2.5, 3.5]), 'float'),
    'Mixed',
  ];
}

describe('zdm migrate: every CQL type, every cell with its own writetime and TTL', () => {
  let origin: ClusterEndpoint;
  let target: ClusterEndpoint;
  let o: cassandra.Client;
  let t: cassandra.Client;
  const checkpoints = scratchDir('zdm-ck-');

  before(async () => {
    ({ origin, target } = await sharedClusters());
    o = await exactClient(origin, 'origin');
    t = await exactClient(target, 'target');
    for (const c of [o, t]) {
      await freshKeyspace(c, KS);
      await runAll(c, SCHEMA);
    }
    const opts = { prepare: true };
    // Rows written by one INSERT with a timestamp and TTL, then cells overwritten at other times.
    for (let id = 1; id <= 20; id++) {
      await setupWrite(
        o,
        `${FULL_INSERT} USING TIMESTAMP ${1_000_000 + id} AND TTL ${id % 2 ? 86400 : 0}`,
        fullRow(id, 'plain'),
        opts,
      );
    }
    await setupWrite(o, `${FULL_INSERT} USING TIMESTAMP 2000000`, fullRow(100, 'edge'), opts);
    const ck = (id: number) => [id, 'P-1', ck1Of(id), `c${id}`];
    const where = `WHERE id = ? AND "Part" = ? AND ck1 = ? AND ck2 = ?`;
    await setupWrite(
      o,
      `UPDATE ${KS}.all_types USING TIMESTAMP 3000000 AND TTL 5000 SET te = 'later', i = 43 ${where}`,
      ck(1),
      opts,
    );
    await setupWrite(
      o,
      `UPDATE ${KS}.all_types USING TIMESTAMP 3000001 SET se = se + {'c'}, ma = ma + {'z': 26} ${where}`,
      ck(1),
      opts,
    );
    await setupWrite(
      o,
      `UPDATE ${KS}.all_types USING TIMESTAMP 3000002 AND TTL 7000 SET se = se + {'d'} ${where}`,
      ck(1),
      opts,
    );
    await setupWrite(
      o,
      `UPDATE ${KS}.all_types USING TIMESTAMP 3000003 SET ud.zip = 99999 ${where}`,
      ck(1),
      opts,
    );
    await setupWrite(
      o,
      `UPDATE ${KS}.all_types USING TIMESTAMP 3000004 SET "MixedCase" = 'x', bl = ? ${where}`,
      [Buffer.alloc(3 * 1024 * 1024, 7), ...ck(2)],
      opts,
    );
    await setupWrite(
      o,
      `UPDATE ${KS}.all_types USING TIMESTAMP 3000005 SET s_static = 'newer static' WHERE id = 3 AND "Part" = 'P-1'`,
    );
    // A row with key columns only, a row with one cell, and a partition with static data only.
    await setupWrite(
      o,
      `INSERT INTO ${KS}.all_types (id, "Part", ck1, ck2) VALUES (?, ?, ?, ?)`,
      ck(200),
      opts,
    );
    await setupWrite(o, `UPDATE ${KS}.all_types USING TIMESTAMP 4000000 SET i = 1 ${where}`, ck(201), opts);
    await setupWrite(
      o,
      `INSERT INTO ${KS}.all_types (id, "Part", s_static) VALUES (300, 'static-only', 'alone') USING TIMESTAMP 5000000 AND TTL 9000`,
    );
    // Counters.
    for (let c = 0; c < 30; c++) {
      await o.execute(
        `UPDATE ${KS}.counts SET hits = hits + ?, misses = misses + ? WHERE k = ? AND c = ?`,
        [BigInt(c * 3), BigInt(-c), `k${c % 4}`, c],
        opts,
      );
    }
  });

  /** `zdm migrate mig_types.<table>` against the test clusters, sharing one checkpoint directory. */
  const migrate = (table: string, ...extra: string[]) =>
    runZdm(migrateArgs(`${KS}.${table}`, origin, target, checkpoints, ...extra));

  after(async () => {
    await o?.shutdown();
    await t?.shutdown();
  });

  test('Target equals Origin cell by cell: values, writetimes, TTLs (within 2 s)', async () => {
    const result = await migrate('all_types', '--splits', '37');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /rows read\s+24/);
    const [a, b] = await Promise.all([snapshotTable(o, KS, 'all_types'), snapshotTable(t, KS, 'all_types')]);
    assert.equal(a.size, 24);
    assert.deepEqual(snapshotDifferences(a, b), []);
  });

  test('rows with key columns only exist on Target; the static-only partition keeps its static cell', async () => {
    const pkOnly = await t.execute(`SELECT id FROM ${KS}.all_types WHERE id = 200 AND "Part" = 'P-1'`);
    assert.equal(pkOnly.rowLength, 1);
    const query = `SELECT ck1, s_static, WRITETIME(s_static) AS w, TTL(s_static) AS l FROM ${KS}.all_types WHERE id = 300 AND "Part" = 'static-only'`;
    // Both read at once: the TTL (9000 s at set-up) has been ticking since then, for however long a
    // loaded machine took, so Target's is compared with Origin's now, not with the set-up value.
    const [originRow, staticOnly] = await Promise.all([o.execute(query), t.execute(query)]);
    assert.equal(staticOnly.rowLength, 1);
    assert.equal(staticOnly.first().get('ck1'), null);
    assert.equal(staticOnly.first().get('s_static'), 'alone');
    assert.equal(String(staticOnly.first().get('w')), '5000000');
    const ttl = Number(staticOnly.first().get('l'));
    const originTtl = Number(originRow.first().get('l'));
    assert.ok(ttl > 0 && Math.abs(ttl - originTtl) <= 2, `TTL ${ttl} on Target, ${originTtl} on Origin`);
  });

  test('a rerun of a completed run does nothing; --fresh copies again idempotently', async () => {
    const again = await migrate('all_types');
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /already completed/);
    const fresh = await migrate('all_types', '--fresh', '--splits', '5');
    assert.equal(fresh.code, 0, fresh.stderr);
    const [a, b] = await Promise.all([snapshotTable(o, KS, 'all_types'), snapshotTable(t, KS, 'all_types')]);
    assert.deepEqual(snapshotDifferences(a, b), []);
  });

  test('counter table: Target reaches Origin by added differences; a rerun changes nothing', async () => {
    await t.execute(`UPDATE ${KS}.counts SET hits = hits + 1000 WHERE k = 'k1' AND c = 1`);
    const first = await migrate('counts');
    assert.equal(first.code, 0, first.stderr);
    // Only the row Target already had is brought to Origin's value; the others are missing and left alone.
    assert.match(first.stdout, /rows skipped\s+29/);
    const created = await migrate('counts', '--fresh', '--create-missing-counters');
    assert.equal(created.code, 0, created.stderr);
    const rerun = await migrate('counts', '--fresh', '--create-missing-counters', '--json');
    assert.equal(rerun.code, 0, rerun.stderr);
    const summary = JSON.parse(rerun.stdout.trim().split('\n').at(-1)!) as Record<string, number>;
    assert.equal(summary['rows written'], 0);
    assert.equal(summary['rows unchanged'], 30);
    const read = async (c: cassandra.Client) =>
      (await c.execute(`SELECT k, c, hits, misses FROM ${KS}.counts`)).rows
        .map((r) => `${r.k}/${r.c}=${r.hits}/${r.misses}`)
        .sort();
    assert.deepEqual(await read(t), await read(o));
  });
});
