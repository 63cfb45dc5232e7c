import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import cassandra from 'cassandra-driver';
import { type ReportLine, readReport, reportPathFor } from '../../src/validate/diff-report.js';
import { scratchDir, waitForDoneRanges } from '../helpers/checkpoints.js';
import { clusterFlags, migrateArgs, runZdm, startZdm, startZdmProxy } from '../helpers/cli.js';
import { clusterPairFixture } from '../helpers/keyspace.js';

const KS = 'mig_lists';
const SCHEMA = [
  `CREATE TABLE ${KS}.rerun (k int, c int, l list<int>, v text, PRIMARY KEY (k, c))`,
  `CREATE TABLE ${KS}.statics (p int, c int, sl list<int> static, l list<text>, v int, PRIMARY KEY (p, c))`,
  `CREATE TABLE ${KS}.killed (p int, c int, sl list<int> static, l list<int>, PRIMARY KEY (p, c))`,
  `CREATE TABLE ${KS}.repaired (k int PRIMARY KEY, l list<int>, v int)`,
  `CREATE TABLE ${KS}.live (p int, c int, sl list<int> static, l list<int>, PRIMARY KEY (p, c))`,
];

async function seed(count: number, write: (i: number) => Promise<unknown>) {
  const inFlight = new Set<Promise<unknown>>();
  for (let i = 0; i < count; i++) {
    const p = write(i).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= 32) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
}

/** Every list of a table, by primary key and column: its elements (JSON) and writetimes. */
async function listsOf(client: cassandra.Client, table: string, keys: string[], lists: string[]) {
  const select = lists.map((l) => `${l}, WRITETIME(${l}) AS wt_${l}`).join(', ');
  const out = new Map<string, { value: string; writetimes: string }>();
  const rows = await client.execute(`SELECT ${keys.join(', ')}, ${select} FROM ${KS}.${table}`, [], {
    prepare: true,
    fetchSize: 5000,
    autoPage: true,
  });
  for (const row of rows.rows) {
    for (const l of lists) {
      const key = `${keys.map((k) => String(row.get(k))).join('|')}.${l}`;
      out.set(key, {
        value: JSON.stringify(row.get(l)),
        writetimes: JSON.stringify((row.get(`wt_${l}`) as unknown[] | null)?.map(String) ?? null),
      });
    }
  }
  return out;
}

/**
 * Rows whose lists differ between the two clusters: content in order, and each element's writetime
 * (migrate keeps them exactly) except for the keys in `wholeWritten` (lists migrate had to write whole).
 */
async function listDifferences(
  o: cassandra.Client,
  t: cassandra.Client,
  table: string,
  keys: string[],
  lists: string[],
  wholeWritten: readonly string[] = [],
): Promise<string[]> {
  const [a, b] = await Promise.all([listsOf(o, table, keys, lists), listsOf(t, table, keys, lists)]);
  const out: string[] = [];
  for (const [key, cell] of a) {
    const other = b.get(key);
    if (other?.value !== cell.value) out.push(`${key}: Origin ${cell.value}, Target ${other?.value}`);
    else if (other.writetimes !== cell.writetimes && !wholeWritten.includes(key))
      out.push(`${key}: writetimes Origin ${cell.writetimes}, Target ${other.writetimes}`);
  }
  for (const key of b.keys()) if (!a.has(key)) out.push(`${key}: only on Target`);
  return out;
}

const big = (n: number) => BigInt(n);

describe('zdm migrate never duplicates lists', () => {
  const pair = clusterPairFixture(KS, SCHEMA);

  const migrate = (table: string, ...extra: string[]) =>
    runZdm(
      migrateArgs(
        `${KS}.${table}`,
        pair.origin,
        pair.target,
        scratchDir('zdm-lists-'),
        '--splits',
        '16',
        ...extra,
      ),
    );

  test('reruns: regular lists (uniform, appended, prepended, expiring) and a list Target holds twice', async () => {
    await seed(300, async (i) => {
      const k = i % 100;
      const c = Math.floor(i / 100);
      await pair.o.execute(
        `INSERT INTO ${KS}.rerun (k, c, l, v) VALUES (?, ?, ?, 'x') USING TIMESTAMP ? AND TTL ?`,
        [k, c, [i, i + 1], big(1_000 + i), i % 4 === 0 ? 80_000 : 0],
        { prepare: true },
      );
      if (i % 3 === 0)
        await pair.o.execute(
          `UPDATE ${KS}.rerun USING TIMESTAMP ? SET l = l + [99] WHERE k = ? AND c = ?`,
          [big(5_000 + i), k, c],
          {
            prepare: true,
          },
        );
      if (i % 5 === 0)
        await pair.o.execute(
          `UPDATE ${KS}.rerun USING TIMESTAMP ? SET l = [-1] + l WHERE k = ? AND c = ?`,
          [big(9_000 + i), k, c],
          {
            prepare: true,
          },
        );
    });
    // A list Target already holds twice (as an older copy would have left it), at Origin's writetime.
    await pair.o.execute(`INSERT INTO ${KS}.rerun (k, c, l) VALUES (500, 0, [5, 6]) USING TIMESTAMP 7000`);
    await pair.t.execute(`INSERT INTO ${KS}.rerun (k, c, l) VALUES (500, 0, [5, 6]) USING TIMESTAMP 7000`);
    await pair.t.execute(
      `UPDATE ${KS}.rerun USING TIMESTAMP 7000 SET l = l + [5, 6] WHERE k = 500 AND c = 0`,
    );
    for (let run = 1; run <= 3; run++) {
      const result = await migrate('rerun');
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(
        await listDifferences(pair.o, pair.t, 'rerun', ['k', 'c'], ['l'], ['500|0.l']),
        [],
        `after run ${run}`,
      );
    }
    // Prepended, inserted and appended elements each keep their own writetime on Target.
    const written = await listsOf(pair.t, 'rerun', ['k', 'c'], ['l']);
    assert.equal(written.get('0|0.l')?.value, '[-1,0,1,99]');
    assert.equal(written.get('0|0.l')?.writetimes, '["9000","1000","1000","5000"]');
    assert.equal(written.get('500|0.l')?.value, '[5,6]');
  });

  test('reruns: static lists and regular lists of the same partitions', async () => {
    await seed(100, async (p) => {
      for (let c = 0; c < 3; c++)
        await pair.o.execute(
          `INSERT INTO ${KS}.statics (p, c, l, v) VALUES (?, ?, ?, ?)`,
          [p, c, [`a${c}`, `b${c}`], c],
          {
            prepare: true,
          },
        );
      await pair.o.execute(
        `UPDATE ${KS}.statics USING TIMESTAMP ? SET sl = ? WHERE p = ?`,
        [big(2_000 + p), [7, 8], p],
        {
          prepare: true,
        },
      );
      if (p % 2 === 0)
        await pair.o.execute(`UPDATE ${KS}.statics SET sl = sl + [9] WHERE p = ?`, [p], { prepare: true });
    });
    // A partition with static cells and no rows.
    await pair.o.execute(`UPDATE ${KS}.statics SET sl = [1, 2] WHERE p = 1000`);
    for (let run = 1; run <= 3; run++) {
      const result = await migrate('statics');
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(
        await listDifferences(pair.o, pair.t, 'statics', ['p', 'c'], ['sl', 'l']),
        [],
        `after run ${run}`,
      );
    }
    const sl = await pair.t.execute(`SELECT sl FROM ${KS}.statics WHERE p = 3 LIMIT 1`);
    assert.deepEqual(sl.first()?.get('sl'), [7, 8]);
  });

  test('resume after kill -9, then a full rerun', async () => {
    await seed(1500, async (p) => {
      await pair.o.execute(
        `UPDATE ${KS}.killed USING TIMESTAMP ? SET sl = ? WHERE p = ?`,
        [big(100 + p), [p, -p], p],
        {
          prepare: true,
        },
      );
      await pair.o.execute(
        `BEGIN UNLOGGED BATCH ${[0, 1, 2, 3].map((c) => `INSERT INTO ${KS}.killed (p, c, l) VALUES (?, ${c}, [${c}, ${c + 1}]);`).join(' ')} APPLY BATCH`,
        [p, p, p, p],
        { prepare: true },
      );
      if (p % 2 === 0)
        await pair.o.execute(
          `UPDATE ${KS}.killed SET l = l + [42], sl = sl + [42] WHERE p = ? AND c = 1`,
          [p],
          {
            prepare: true,
          },
        );
    });
    const checkpoints = scratchDir('zdm-lists-kill-');
    const args = migrateArgs(
      `${KS}.killed`,
      pair.origin,
      pair.target,
      checkpoints,
      '--splits',
      '64',
      '--concurrency',
      '2',
    );
    for (let kill = 1; kill <= 2; kill++) {
      const run = startZdm(args);
      await waitForDoneRanges(checkpoints, kill * 8);
      run.child.kill('SIGKILL');
      const result = await run.done;
      assert.equal(result.signal, 'SIGKILL', 'the run was still going when killed');
    }
    const resumed = await runZdm(args);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.deepEqual(await listDifferences(pair.o, pair.t, 'killed', ['p', 'c'], ['sl', 'l']), []);
    const again = await migrate('killed');
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(await listDifferences(pair.o, pair.t, 'killed', ['p', 'c'], ['sl', 'l']), []);
  });

  test('diff --autocorrect on differing lists leaves exactly Origin’s elements; a newer delete supersedes a repair', async () => {
    const checkpoints = scratchDir('zdm-lists-diff-');
    const diff = (...extra: string[]) =>
      runZdm([
        'diff',
        `${KS}.repaired`,
        ...clusterFlags(pair.origin, pair.target),
        '--checkpoint-dir',
        checkpoints,
        '--splits',
        '8',
        '--recheck-delay-ms',
        '0',
        ...extra,
      ]);
    // 1: [1,2] then an append on Origin, before the migrate (elements of two writetimes).
    await pair.o.execute(`INSERT INTO ${KS}.repaired (k, l, v) VALUES (1, [1, 2], 1) USING TIMESTAMP 1000`);
    await pair.o.execute(`UPDATE ${KS}.repaired USING TIMESTAMP 2000 SET l = l + [3] WHERE k = 1`);
    // 2: the append reaches Origin only, after the migrate.
    await pair.o.execute(`INSERT INTO ${KS}.repaired (k, l, v) VALUES (2, [1, 2], 1) USING TIMESTAMP 1000`);
    // 3: Target has a newer value elsewhere in the row; its list is Origin's.
    await pair.o.execute(`INSERT INTO ${KS}.repaired (k, l, v) VALUES (3, [1, 2], 1) USING TIMESTAMP 1000`);
    const migrated = await migrate('repaired');
    assert.equal(migrated.code, 0, migrated.stderr);
    await pair.o.execute(`UPDATE ${KS}.repaired USING TIMESTAMP 3000 SET l = l + [3] WHERE k = 2`);
    await pair.t.execute(`UPDATE ${KS}.repaired USING TIMESTAMP 4000 SET v = 2 WHERE k = 3`);
    // 4: Target deleted the row after Origin's write: the repair loses to the newer delete.
    await pair.o.execute(`INSERT INTO ${KS}.repaired (k, l, v) VALUES (4, [4], 4) USING TIMESTAMP 1000`);
    await pair.t.execute(`DELETE FROM ${KS}.repaired USING TIMESTAMP 5000 WHERE k = 4`);

    const repaired = await diff('--autocorrect');
    assert.notEqual(repaired.code, 2, repaired.stderr);
    const lists = async () =>
      Object.fromEntries(
        (await pair.t.execute(`SELECT k, l FROM ${KS}.repaired`)).rows.map((r) => [r.get('k'), r.get('l')]),
      );
    assert.deepEqual(await lists(), { 1: [1, 2, 3], 2: [1, 2, 3], 3: [1, 2] });
    // The append that reached Origin only is appended to Target at its own writetime.
    const repairedWritetimes = await listsOf(pair.t, 'repaired', ['k'], ['l']);
    assert.equal(repairedWritetimes.get('2.l')?.writetimes, '["1000","1000","3000"]');
    assert.equal(repairedWritetimes.get('1.l')?.writetimes, '["1000","1000","2000"]');
    const report = latestReport(checkpoints);
    const outcome = (k: number) =>
      report.find((l) => l.kind === 'mismatch' && (l.key.partition as Record<string, unknown>).k === k)
        ?.repair;
    assert.equal(outcome(3), 'superseded');
    const missing = report.find(
      (l) => l.kind === 'missing' && (l.key.partition as Record<string, unknown>).k === 4,
    );
    assert.equal(missing?.repair, 'superseded', JSON.stringify(missing));
    assert.notEqual(outcome(1), 'failed');
    // A second pass changes nothing.
    await diff('--autocorrect');
    assert.deepEqual(await lists(), { 1: [1, 2, 3], 2: [1, 2, 3], 3: [1, 2] });
  });

  test('appends through zdm-proxy while migrate runs: both clusters end with the same lists', async () => {
    // Data from before the proxy: on Origin only.
    await seed(2000, (p) =>
      pair.o.execute(
        `BEGIN UNLOGGED BATCH UPDATE ${KS}.live SET sl = [1, 2] WHERE p = ?; INSERT INTO ${KS}.live (p, c, l) VALUES (?, 0, [1, 2]); INSERT INTO ${KS}.live (p, c, l) VALUES (?, 1, [1, 2]); APPLY BATCH`,
        [p, p, p],
        { prepare: true },
      ),
    );
    const proxy = await startZdmProxy(pair.origin, pair.target, { ZDM_METRICS_ENABLED: 'false' });
    const client = new cassandra.Client({
      contactPoints: [`127.0.0.1:${proxy.port}`],
      localDataCenter: 'datacenter1',
      socketOptions: { readTimeout: 30_000 },
    });
    try {
      await client.connect();
      let appending = true;
      let appends = 0;
      const writers = Array.from({ length: 4 }, async (_, w) => {
        for (let n = 0; appending; n++) {
          // Each writer owns 500 partitions: appends from two clients to one list at the same moment
          // may reach the two clusters in either order, which no copy can make equal. One append in
          // four goes to the writer's hot partition, whose lists change many times a second while
          // migrate copies them.
          const p = w * 500 + (n % 4 === 1 ? 0 : (n * 7) % 500);
          await client.execute(
            n % 3 === 0
              ? `UPDATE ${KS}.live SET sl = sl + ? WHERE p = ?`
              : `UPDATE ${KS}.live SET l = l + ? WHERE p = ? AND c = ${n % 2}`,
            [[n], p],
            { prepare: true },
          );
          appends++;
        }
      });
      // Target already holds appends when migrate starts, as when the proxy went in front earlier.
      for (const started = Date.now(); appends < 200; ) {
        assert.ok(Date.now() - started < 120_000, `only ${appends} appends through the proxy in 120 s`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const result = await migrate('live', '--concurrency', '2');
      appending = false;
      await Promise.all(writers);
      assert.equal(result.code, 0, result.stderr);
      assert.doesNotMatch(result.stdout, /lists still changing/, 'every list settled during the run');
      assert.ok(appends > 100, `appends sent while migrate ran: ${appends}`);
      assert.deepEqual(await listDifferences(pair.o, pair.t, 'live', ['p', 'c'], ['sl', 'l']), []);
    } finally {
      await client.shutdown();
      await proxy.stop();
    }
  });
});

/** The report of the latest diff run in `dir`. */
function latestReport(dir: string): ReportLine[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.sqlite'))
    .sort();
  return readReport(reportPathFor(join(dir, files.at(-1)!)));
}
