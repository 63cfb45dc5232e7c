import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type cassandra from 'cassandra-driver';
import { scratchDir } from '../helpers/checkpoints.js';
import { clusterFlags, runZdm } from '../helpers/cli.js';
import { type ClusterEndpoint, sharedClusters } from '../helpers/clusters.js';
import { exactClient, freshKeyspace, runAll } from '../helpers/keyspace.js';
import { snapshotDifferences, snapshotTable } from '../helpers/table-snapshot.js';

/**
 * `zdm migrate ks` / `zdm diff ks` / `ks.t1,ks.t2`: every table of a keyspace (counters included)
 * in one command, each table with its own checkpoint, a table that cannot run not stopping the
 * others, and one summary with each table's exit code.
 */
const KS = 'zdm_it_keyspace_runs';
const TABLES = [
  `CREATE TABLE ${KS}.events (id int, at int, body text, PRIMARY KEY (id, at))`,
  `CREATE TABLE ${KS}.likes (id int PRIMARY KEY, n counter)`,
  `CREATE TABLE ${KS}.users (id int PRIMARY KEY, name text, tags set<text>)`,
];

describe('keyspace-wide and multi-table runs', () => {
  let origin: ClusterEndpoint;
  let target: ClusterEndpoint;
  let o: cassandra.Client;
  let t: cassandra.Client;
  const checkpoints = scratchDir('zdm-it-ks-');

  before(async () => {
    ({ origin, target } = await sharedClusters());
    o = await exactClient(origin, 'origin');
    t = await exactClient(target, 'target');
    await freshKeyspace(o, KS);
    await freshKeyspace(t, KS);
    await runAll(o, TABLES);
    // Target lacks `users`: that table fails (exit 2, table not found), the others are copied.
    await runAll(t, TABLES.slice(0, 2));
    for (let i = 0; i < 300; i++) {
      await o.execute(`INSERT INTO ${KS}.events (id, at, body) VALUES (?, ?, ?)`, [i % 30, i, `e${i}`], {
        prepare: true,
      });
      if (i < 50) {
        await o.execute(`UPDATE ${KS}.likes SET n = n + ? WHERE id = ?`, [BigInt(i + 1), i], {
          prepare: true,
        });
        await o.execute(
          `INSERT INTO ${KS}.users (id, name, tags) VALUES (?, ?, ?)`,
          [i, `u${i}`, new Set(['a'])],
          {
            prepare: true,
          },
        );
      }
    }
  });

  after(async () => {
    await o?.shutdown();
    await t?.shutdown();
  });

  test('migrate ks: every table runs, the one missing on Target fails alone; the worst exit code', async () => {
    const run = await runZdm([
      'migrate',
      KS,
      ...clusterFlags(origin, target),
      '--checkpoint-dir',
      checkpoints,
      '--create-missing-counters',
      '--json',
    ]);
    const summaries = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const tables = summaries.at(-1) as { summary: string; tables: { table: string; exitCode: number }[] };
    assert.equal(tables.summary, 'tables', run.stdout);
    assert.deepEqual(
      tables.tables.map((x) => [x.table, x.exitCode]),
      [
        [`${KS}.events`, 0],
        [`${KS}.likes`, 0],
        [`${KS}.users`, 2],
      ],
    );
    assert.equal(run.code, 2, run.stderr);
    for (const table of ['events', 'likes'])
      assert.deepEqual(
        snapshotDifferences(await snapshotTable(o, KS, table), await snapshotTable(t, KS, table)),
        [],
      );
  });

  test('a rerun of the same keyspace skips the finished tables (each resumes on its own)', async () => {
    await runAll(t, [TABLES[2]!]);
    const run = await runZdm([
      'migrate',
      `${KS}.users,${KS}.events`,
      ...clusterFlags(origin, target),
      '--checkpoint-dir',
      checkpoints,
      '--json',
    ]);
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    // events was completed by the first run: nothing read again.
    const events = lines.find((l) => String(l.summary).includes(`${KS}.events`));
    assert.equal(events?.['this session rows read'] ?? 0, 0, JSON.stringify(lines));
    assert.deepEqual(
      snapshotDifferences(await snapshotTable(o, KS, 'users'), await snapshotTable(t, KS, 'users')),
      [],
    );
  });

  test('diff ks: 0 differences on every table, exit 0; --target-table with several tables is refused', async () => {
    const diff = await runZdm([
      'diff',
      KS,
      ...clusterFlags(origin, target),
      '--checkpoint-dir',
      checkpoints,
      '--json',
    ]);
    assert.equal(diff.code, 0, `${diff.stdout}\n${diff.stderr}`);
    const refused = await runZdm([
      'diff',
      KS,
      ...clusterFlags(origin, target),
      '--checkpoint-dir',
      checkpoints,
      '--target-table',
      `${KS}.other`,
    ]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--target-table applies to one table/);
  });
});
