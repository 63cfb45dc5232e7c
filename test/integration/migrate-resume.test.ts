import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { CheckpointStore, listCheckpointFiles } from '../../src/checkpoint/checkpoint-store.js';
import { doneRangeCount, scratchDir, waitForDoneRanges } from '../helpers/checkpoints.js';
import { clusterFlags, migrateArgs as migrateCommand, runZdm, startZdm } from '../helpers/cli.js';
import { clusterPairFixture, seedRows } from '../helpers/keyspace.js';
import { snapshotDifferences, snapshotTable } from '../helpers/table-snapshot.js';

const KS = 'mig_resume';
const ROWS = 30_000;

describe('zdm migrate: interruptions, filters and mappings', () => {
  const schema = [
    `CREATE TABLE ${KS}.events (id int PRIMARY KEY, name text, score double, tags set<text>)`,
    `CREATE TABLE ${KS}.wide (p int, c int, v text, PRIMARY KEY (p, c))`,
    `CREATE TABLE ${KS}.people (id int PRIMARY KEY, region text, name text, secret text, old_name text)`,
  ];
  const pair = clusterPairFixture(KS, schema, [
    schema[0]!,
    schema[1]!,
    `CREATE TABLE ${KS}.people (id int PRIMARY KEY, region text, name text, new_name text)`,
    `CREATE TABLE ${KS}.people_eu (id int PRIMARY KEY, region text, name text, secret text, old_name text)`,
  ]);

  before(async () => {
    await seedRows(
      pair.o,
      ROWS,
      `INSERT INTO ${KS}.events (id, name, score, tags) VALUES (?, ?, ?, ?) USING TIMESTAMP ?`,
      (i) => [i, `event-${i}`, i / 7, new Set([`t${i % 5}`, 'all']), BigInt(1_000_000 + i)],
    );
    await seedRows(pair.o, 100_000, `INSERT INTO ${KS}.wide (p, c, v) VALUES (1, ?, ?)`, (i) => [i, `v${i}`]);
    await seedRows(
      pair.o,
      200,
      `INSERT INTO ${KS}.people (id, region, name, secret, old_name) VALUES (?, ?, ?, ?, ?) USING TIMESTAMP ?`,
      (i) => [i, i % 2 ? 'eu' : 'us', `n${i}`, `s${i}`, `o${i}`, BigInt(i < 100 ? 5_000 : 9_000)],
    );
  });

  /** Arguments of `zdm migrate mig_resume.<table>` against the test clusters. */
  const migrateArgs = (table: string, checkpoints: string, ...extra: string[]) =>
    migrateCommand(`${KS}.${table}`, pair.origin, pair.target, checkpoints, ...extra);

  test('kill -9 three times mid-run, then rerun: Target equals Origin and no finished range is redone', async () => {
    const checkpoints = scratchDir('zdm-kill-');
    const args = migrateArgs(
      'events',
      checkpoints,
      '--splits',
      '200',
      '--concurrency',
      '4',
      '--target-rate-limit',
      '4000',
      '--fetch-size',
      '200',
    );
    const doneBefore = new Map<number, { completedAt: number; attempts: number }>();
    for (let kill = 0; kill < 3; kill++) {
      const run = startZdm(args);
      // Killed once this session has finished a few more ranges, whatever the machine's speed (the
      // rate limit keeps all 200 ranges from finishing in between).
      await waitForDoneRanges(checkpoints, doneRangeCount(checkpoints) + 3, { child: run.child });
      run.child.kill('SIGKILL');
      const result = await run.done;
      assert.equal(
        result.signal,
        'SIGKILL',
        `run ${kill} ended before it was killed: ${result.stdout}${result.stderr}`,
      );
      const [file] = listCheckpointFiles(checkpoints);
      assert.ok(file, 'a checkpoint exists after the first kill');
      const store = CheckpointStore.open(file);
      for (const r of store.ranges('done')) {
        if (!doneBefore.has(r.id))
          doneBefore.set(r.id, { completedAt: r.completedAt!, attempts: r.attempts });
      }
      store.close();
    }
    assert.ok(
      doneBefore.size > 0 && doneBefore.size < 200,
      `some ranges finished before the kills (${doneBefore.size})`,
    );
    const final = await runZdm([
      ...args.filter((a) => a !== '--target-rate-limit' && a !== '4000'),
      '--target-rate-limit',
      '0',
      '--json',
    ]);
    assert.equal(final.code, 0, final.stderr);
    const files = listCheckpointFiles(checkpoints);
    assert.equal(files.length, 1, 'every session used the same run');
    const store = CheckpointStore.open(files[0]!);
    const ranges = store.ranges();
    assert.equal(store.run().sessions, 4);
    assert.ok(ranges.every((r) => r.status === 'done'));
    for (const [id, before] of doneBefore) {
      const r = ranges.find((x) => x.id === id)!;
      assert.equal(
        r.completedAt,
        before.completedAt,
        `range ${id} finished before a kill and was not redone`,
      );
      assert.equal(r.attempts, before.attempts, `range ${id} was not started again`);
    }
    // Counters never count a page twice: pages are committed once, after their writes.
    assert.equal(store.totals().counts.rowsRead, ROWS);
    store.close();
    const [a, b] = await Promise.all([
      snapshotTable(pair.o, KS, 'events'),
      snapshotTable(pair.t, KS, 'events'),
    ]);
    assert.equal(a.size, ROWS);
    assert.deepEqual(snapshotDifferences(a, b), []);
  });

  test('Ctrl-C stops after saving state (exit 130, run interrupted); zdm status shows it; a rerun finishes', async () => {
    const checkpoints = scratchDir('zdm-sigint-');
    const args = migrateArgs(
      'events',
      checkpoints,
      '--splits',
      '50',
      '--target-rate-limit',
      '3000',
      '--fresh',
    );
    const run = startZdm(args);
    await waitForDoneRanges(checkpoints, 2, { child: run.child });
    run.child.kill('SIGINT');
    const stopped = await run.done;
    assert.equal(stopped.code, 130, stopped.stderr);
    assert.match(stopped.stdout, /: interrupted/);
    const status = await runZdm(['status', '--checkpoint-dir', checkpoints, '--json']);
    const line = JSON.parse(status.stdout.trim()) as { status: string; ranges: string; job: string };
    assert.equal(line.job, 'migrate');
    assert.equal(line.status, 'interrupted');
    assert.notEqual(line.ranges, '50/50');
    const finished = await runZdm(
      args.filter((a) => a !== '--fresh' && a !== '3000' && a !== '--target-rate-limit'),
    );
    assert.equal(finished.code, 0, finished.stderr);
    assert.match(finished.stdout, /ranges done\s+50/);
  });

  test('--dry-run shows the plan and neither reads data nor creates a checkpoint', async () => {
    const checkpoints = scratchDir('zdm-dry-');
    const result = await runZdm(migrateArgs('events', checkpoints, '--dry-run', '--splits', '12'));
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /token ranges\s+12/);
    assert.match(result.stdout, /WRITETIME\(name\) AS wt_/);
    assert.deepEqual(listCheckpointFiles(checkpoints), []);
  });

  test('a 100,000-row partition is copied completely', async () => {
    const result = await runZdm(migrateArgs('wide', scratchDir('zdm-wide-'), '--json'));
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Record<string, number>;
    assert.equal(summary['rows written'], 100_000);
    const count = (await pair.t.execute(`SELECT COUNT(*) AS n FROM ${KS}.wide WHERE p = 1`)).first().get('n');
    assert.equal(Number(count), 100_000);
  });

  test('--skip-columns and --rename-columns map Origin columns onto a differently shaped Target', async () => {
    const base = migrateArgs('people', scratchDir('zdm-map-'));
    const refused = await runZdm(base);
    assert.equal(refused.code, 3);
    assert.match(refused.stderr, /column secret of type text is missing on Target/);
    assert.match(refused.stderr, /column old_name of type text is missing on Target/);
    const result = await runZdm([
      ...base,
      '--skip-columns',
      'secret',
      '--rename-columns',
      'old_name:new_name',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const row = (
      await pair.t.execute(`SELECT name, new_name, WRITETIME(new_name) AS w FROM ${KS}.people WHERE id = 150`)
    ).first();
    assert.equal(row.get('new_name'), 'o150');
    assert.equal(String(row.get('w')), '9000');
  });

  test('--where, --token-min/--token-max and --writetime-min select what is copied', async () => {
    const flags = [...clusterFlags(pair.origin, pair.target), '--checkpoint-dir', scratchDir('zdm-filter-')];
    const where = await runZdm([
      'migrate',
      `${KS}.people`,
      ...flags,
      '--target-table',
      `${KS}.people_eu`,
      '--where',
      "region = 'eu'",
      '--writetime-min',
      '6000',
      '--json',
    ]);
    assert.equal(where.code, 0, where.stderr);
    const ids = (await pair.t.execute(`SELECT id FROM ${KS}.people_eu`)).rows
      .map((r) => Number(r.get('id')))
      .sort((x, y) => x - y);
    const expected = Array.from({ length: 200 }, (_, i) => i).filter((i) => i % 2 === 1 && i >= 100);
    assert.deepEqual(ids, expected);
    // Token filters: copy only the upper half of the ring into an empty table and check by token.
    await pair.t.execute(`TRUNCATE ${KS}.people_eu`);
    const tokens = await runZdm([
      'migrate',
      `${KS}.people`,
      ...flags,
      '--fresh',
      '--target-table',
      `${KS}.people_eu`,
      '--token-min',
      '0',
      '--json',
    ]);
    assert.equal(tokens.code, 0, tokens.stderr);
    const copied = (await pair.t.execute(`SELECT token(id) AS tk FROM ${KS}.people_eu`)).rows.map((r) =>
      BigInt(String(r.get('tk'))),
    );
    const originUpper = (
      await pair.o.execute(`SELECT token(id) AS tk FROM ${KS}.people WHERE token(id) >= 0`)
    ).rowLength;
    assert.equal(copied.length, originUpper);
    assert.ok(copied.every((tk) => tk >= 0n));
  });

  test('bad input: missing table, bad flag value, unknown column mapping', async () => {
    const flags = clusterFlags(pair.origin, pair.target);
    const missing = await runZdm(['migrate', `${KS}.nope`, ...flags]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /Table mig_resume.nope does not exist on Origin/);
    const badFlag = await runZdm(['migrate', `${KS}.events`, ...flags, '--concurrency', 'lots']);
    assert.equal(badFlag.code, 2);
    assert.match(badFlag.stderr, /concurrency \(from flag --concurrency\): expected a whole number/);
    const noCluster = await runZdm(['migrate', `${KS}.events`]);
    assert.equal(noCluster.code, 2);
    assert.match(noCluster.stderr, /origin_contact_points .* is required/);
  });
});
