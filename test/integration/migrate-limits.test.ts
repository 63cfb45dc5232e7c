import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type cassandra from 'cassandra-driver';
import { scratchDir } from '../helpers/checkpoints.js';
import { migrateArgs, runZdm } from '../helpers/cli.js';
import { clusterPairFixture } from '../helpers/keyspace.js';
import { snapshotDifferences, snapshotTable } from '../helpers/table-snapshot.js';

const KS = 'mig_limits';
const SCHEMA = [
  `CREATE TABLE ${KS}.wide (p int, c int, v blob, n text, PRIMARY KEY (p, c))`,
  `CREATE TABLE ${KS}.mixed (p int, c int, v text, b blob, PRIMARY KEY (p, c))`,
  `CREATE TABLE ${KS}.probe (p int, c int, b blob, PRIMARY KEY (p, c))`,
];

async function seed(
  client: cassandra.Client,
  count: number,
  query: string,
  values: (i: number) => unknown[],
) {
  const inFlight = new Set<Promise<unknown>>();
  for (let i = 0; i < count; i++) {
    const p = client.execute(query, values(i), { prepare: true }).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= 64) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
}

/** Target's system.log when the clusters were started by the test runner (else undefined). */
function targetLog(): string | undefined {
  const dir = process.env.ZDM_TEST_CLUSTER_DIR;
  const file = dir === undefined ? undefined : join(dir, 'target', 'node1', 'logs', 'system.log');
  return file !== undefined && existsSync(file) ? file : undefined;
}

/** Batch-size warnings Target has logged about this test's keyspace. */
function batchWarnings(): string[] {
  const file = targetLog();
  if (file === undefined) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.includes(KS) && /Batch for|Unlogged batch covering/.test(l));
}

describe('zdm migrate within stock Cassandra limits', () => {
  const pair = clusterPairFixture(KS, SCHEMA);

  test('Target runs the stock batch limits: a multi-partition batch over 50 KiB fails, one partition does not', async () => {
    const big = Buffer.alloc(30 * 1024, 7);
    const insert = `INSERT INTO ${KS}.probe (p, c, b) VALUES (?, ?, ?)`;
    await assert.rejects(
      pair.t.batch(
        [
          { query: insert, params: [1, 1, big] },
          { query: insert, params: [2, 1, big] },
        ],
        { prepare: true, logged: false },
      ),
      /Batch too large/,
    );
    // Cassandra checks a batch's size only when it spans partitions: 120 KiB in one partition passes.
    await pair.t.batch(
      [1, 2, 3, 4].map((c) => ({ query: insert, params: [3, c, big] })),
      { prepare: true, logged: false },
    );
    const rows = await pair.t.execute(`SELECT c FROM ${KS}.probe WHERE p = 3`);
    assert.equal(rows.rowLength, 4);
  });

  test('a partition larger than 1 MB: Target equals Origin cell by cell', async () => {
    // 300 rows of 4 KiB: 1.2 MB in one partition, with mixed writetimes and TTLs.
    await seed(
      pair.o,
      300,
      `INSERT INTO ${KS}.wide (p, c, v, n) VALUES (1, ?, ?, ?) USING TIMESTAMP ? AND TTL ?`,
      (i) => [
        i,
        Buffer.alloc(4096, i % 251),
        `row ${i}`,
        BigInt(1_000_000 + (i % 7)),
        i % 3 === 0 ? 86_400 : 0,
      ],
    );
    await seed(pair.o, 20, `INSERT INTO ${KS}.wide (p, c, v, n) VALUES (?, 0, ?, 'small')`, (i) => [
      100 + i,
      Buffer.from([i]),
    ]);
    const before = batchWarnings().length;
    const result = await runZdm(
      migrateArgs(`${KS}.wide`, pair.origin, pair.target, scratchDir('zdm-limits-'), '--splits', '4'),
    );
    assert.equal(result.code, 0, result.stderr);
    const differences = snapshotDifferences(
      await snapshotTable(pair.o, KS, 'wide'),
      await snapshotTable(pair.t, KS, 'wide'),
    );
    assert.deepEqual(differences, []);
    assert.deepEqual(batchWarnings().slice(before), []);
  });

  test('10,000 small partitions followed by a large one: no batch over the stock limits, exact copy', async () => {
    await seed(
      pair.o,
      10_000,
      `INSERT INTO ${KS}.mixed (p, c, v) VALUES (?, 0, ?) USING TIMESTAMP ?`,
      (i) => [i, `small ${i}`, BigInt(2_000_000 + i)],
    );
    // The large partition: 2 MB over 40 rows of 50 KiB, some rows expiring.
    await seed(
      pair.o,
      40,
      `INSERT INTO ${KS}.mixed (p, c, v, b) VALUES (20000, ?, 'large', ?) USING TTL ?`,
      (i) => [i, Buffer.alloc(50 * 1024, i), i % 2 === 0 ? 0 : 50_000],
    );
    const before = batchWarnings().length;
    const result = await runZdm(
      migrateArgs(
        `${KS}.mixed`,
        pair.origin,
        pair.target,
        scratchDir('zdm-limits-'),
        '--splits',
        '8',
        '--fetch-size',
        '1000',
      ),
    );
    assert.equal(result.code, 0, result.stderr);
    const [os, ts] = [await snapshotTable(pair.o, KS, 'mixed'), await snapshotTable(pair.t, KS, 'mixed')];
    assert.equal(os.size, 10_040);
    assert.deepEqual(snapshotDifferences(os, ts), []);
    assert.deepEqual(batchWarnings().slice(before), []);
  });
});
