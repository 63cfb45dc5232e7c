import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type cassandra from 'cassandra-driver';
import { type ReportLine, readReport, reportPathFor } from '../../src/validate/diff-report.js';
import { type ClusterEndpoint, cqlClient, type SharedClusters, sharedClusters } from '../helpers/clusters.js';

const KS = 'diffit';
const BASE_TS = 1_700_000_000_000_000;

interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly summary: Record<string, unknown> | undefined;
}

function clusterFlags(shared: SharedClusters): string[] {
  const flags = (role: string, c: ClusterEndpoint) => [
    `--${role}-contact-points`,
    c.contactPoints.join(','),
    `--${role}-port`,
    String(c.port),
    `--${role}-local-datacenter`,
    c.localDataCenter,
    `--${role}-read-consistency`,
    'ONE',
    `--${role}-write-consistency`,
    'ONE',
  ];
  return [...flags('origin', shared.origin), ...flags('target', shared.target)];
}

/** Starts `zdm diff` as the CLI runs it (node + tsx, so that kill -9 reaches the process itself). */
function startCli(args: readonly string[]): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/zdm.ts', ...args], {
    env: { ...process.env, ZDM_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<CliResult>((resolve) => {
    child.once('exit', (code) => {
      const jsonLine = stdout.split('\n').find((l) => l.startsWith('{"summary"'));
      resolve({ code, stdout, stderr, summary: jsonLine === undefined ? undefined : JSON.parse(jsonLine) });
    });
  });
  return { child, done };
}

const runCli = (args: readonly string[]) => startCli(args).done;

describe('zdm diff', () => {
  let shared: SharedClusters;
  let origin: cassandra.Client;
  let target: cassandra.Client;
  let dir: string;

  const both = async (cql: string, params: unknown[] = []) => {
    await Promise.all([
      origin.execute(cql, params, { prepare: true }),
      target.execute(cql, params, { prepare: true }),
    ]);
  };
  /** CLI arguments of a diff of `table`; flags in `extra` replace the defaults. */
  const diffArgs = (table: string, ...extra: string[]) => {
    const defaults: Record<string, string> = {
      '--splits': '32',
      '--concurrency': '4',
      '--recheck-delay-ms': '0',
      '--retry-delay-ms': '100',
    };
    return [
      'diff',
      `${KS}.${table}`,
      ...clusterFlags(shared),
      '--checkpoint-dir',
      join(dir, table),
      '--json',
      ...Object.entries(defaults).flatMap(([flag, value]) => (extra.includes(flag) ? [] : [flag, value])),
      ...extra,
    ];
  };
  /** The report of the latest run of `table`. */
  const latestReport = (table: string): ReportLine[] => {
    const d = join(dir, table);
    const files = readdirSync(d)
      .filter((f) => f.endsWith('.sqlite'))
      .sort();
    return readReport(reportPathFor(join(d, files.at(-1)!)));
  };
  const describeLine = (l: ReportLine) =>
    `${l.kind} ${JSON.stringify(l.key.partition)} ${JSON.stringify(l.key.clustering)}${l.column === undefined ? '' : ` ${l.column}:${l.aspects?.join('+')}`}`;

  before(async () => {
    shared = await sharedClusters();
    origin = await cqlClient(shared.origin);
    target = await cqlClient(shared.target);
    await both(
      `CREATE KEYSPACE IF NOT EXISTS ${KS} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
    );
    dir = mkdtempSync(join(tmpdir(), 'zdm-diff-it-'));
  });

  after(async () => {
    await Promise.allSettled([origin?.shutdown(), target?.shutdown()]);
  });

  test('finds each kind of difference exactly once; autocorrect repairs them; a second diff is clean', async () => {
    await both(`DROP TABLE IF EXISTS ${KS}.kinds`);
    await both(
      `CREATE TABLE ${KS}.kinds (k int, c int, s int STATIC, v text, tags set<text>, PRIMARY KEY (k, c))`,
    );
    // 30 partitions x 3 rows, identical on both sides, with static cells.
    for (let k = 1; k <= 30; k++) {
      await both(`UPDATE ${KS}.kinds USING TIMESTAMP ? SET s = ? WHERE k = ?`, [BASE_TS, k, k]);
      for (let c = 1; c <= 3; c++) {
        await both(`INSERT INTO ${KS}.kinds (k, c, v, tags) VALUES (?, ?, ?, ?) USING TIMESTAMP ?`, [
          k,
          c,
          `v${k}-${c}`,
          ['a', 'b'],
          BASE_TS,
        ]);
      }
    }
    const o = (cql: string, params: unknown[]) => origin.execute(cql, params, { prepare: true });
    const t = (cql: string, params: unknown[]) => target.execute(cql, params, { prepare: true });
    // missing row
    await o(`INSERT INTO ${KS}.kinds (k, c, v) VALUES (1, 10, 'only on origin') USING TIMESTAMP ?`, [
      BASE_TS,
    ]);
    // extra row
    await t(`INSERT INTO ${KS}.kinds (k, c, v) VALUES (2, 10, 'only on target') USING TIMESTAMP ?`, [
      BASE_TS,
    ]);
    // changed value (Origin has a newer write)
    await o(`UPDATE ${KS}.kinds USING TIMESTAMP ? SET v = 'v3-1b' WHERE k = 3 AND c = 1`, [BASE_TS + 5]);
    // changed writetime: same value, older on Target
    await o(`UPDATE ${KS}.kinds USING TIMESTAMP ? SET v = 'v4-1' WHERE k = 4 AND c = 1`, [BASE_TS + 7]);
    // changed TTL (Target's shorter) and missing TTL (none on Target), same writetime
    await o(`UPDATE ${KS}.kinds USING TIMESTAMP ? AND TTL 500000 SET v = 'ttl' WHERE k = 5 AND c = 1`, [
      BASE_TS + 9,
    ]);
    await t(`UPDATE ${KS}.kinds USING TIMESTAMP ? AND TTL 100000 SET v = 'ttl' WHERE k = 5 AND c = 1`, [
      BASE_TS + 9,
    ]);
    await o(`UPDATE ${KS}.kinds USING TIMESTAMP ? AND TTL 500000 SET v = 'ttl' WHERE k = 6 AND c = 1`, [
      BASE_TS + 9,
    ]);
    await t(`UPDATE ${KS}.kinds USING TIMESTAMP ? SET v = 'ttl' WHERE k = 6 AND c = 1`, [BASE_TS + 9]);
    // static column
    await o(`UPDATE ${KS}.kinds USING TIMESTAMP ? SET s = 700 WHERE k = 7`, [BASE_TS + 11]);
    // static-only partition, missing on Target
    await o(`UPDATE ${KS}.kinds USING TIMESTAMP ? SET s = 800 WHERE k = 800`, [BASE_TS]);
    // collection element missing on Target
    await o(`UPDATE ${KS}.kinds USING TIMESTAMP ? SET tags = tags + {'c'} WHERE k = 9 AND c = 1`, [
      BASE_TS + 13,
    ]);

    await both(`DROP TABLE IF EXISTS ${KS}.hits`);
    await both(`CREATE TABLE ${KS}.hits (k int PRIMARY KEY, n counter)`);
    for (let k = 1; k <= 5; k++) await both(`UPDATE ${KS}.hits SET n = n + 10 WHERE k = ?`, [k]);
    await o(`UPDATE ${KS}.hits SET n = n + 5 WHERE k = 3`, []);

    const expected = [
      'missing {"k":1} {"c":10}',
      'extra {"k":2} {"c":10}',
      'mismatch {"k":3} {"c":1} v:value+writetime',
      'mismatch {"k":4} {"c":1} v:writetime',
      'mismatch {"k":5} {"c":1} v:ttl',
      'mismatch {"k":6} {"c":1} v:ttl',
      'mismatch {"k":7} null s:value+writetime',
      'missing {"k":800} null',
      'mismatch {"k":9} {"c":1} tags:value',
    ].sort();

    const first = await runCli(diffArgs('kinds'));
    assert.equal(first.code, 1, first.stderr);
    const report = latestReport('kinds');
    assert.deepEqual(report.map(describeLine).sort(), expected);
    assert.ok(report.every((l) => l.repair === 'reported'));
    assert.equal(first.summary?.missing, 2);
    assert.equal(first.summary?.extra, 1);
    assert.equal(first.summary?.mismatched, 6);
    assert.equal(first.summary?.['rows compared'], 30 * 3 + 1);

    const counters = await runCli(diffArgs('hits'));
    assert.equal(counters.code, 1, counters.stderr);
    assert.deepEqual(latestReport('hits').map(describeLine), ['mismatch {"k":3} {} n:value']);

    // Autocorrect only the ranges that differed, after "review".
    const checkpoint = String(first.summary?.checkpoint);
    const repair = await runCli(
      diffArgs('kinds', '--rerun', checkpoint, '--autocorrect', '--autocorrect-extra'),
    );
    assert.equal(repair.code, 0, `${repair.stderr}\n${repair.stdout}`);
    assert.ok(
      Number(repair.summary?.['ranges done']) < 32,
      'the rerun reads only the ranges with differences',
    );
    assert.equal(repair.summary?.corrected, 9);
    assert.ok(latestReport('kinds').every((l) => l.repair === 'corrected'));
    const counterRepair = await runCli(diffArgs('hits', '--autocorrect'));
    assert.equal(counterRepair.code, 0, counterRepair.stderr);

    const second = await runCli(diffArgs('kinds'));
    assert.equal(second.code, 0, second.stderr);
    assert.equal(latestReport('kinds').length, 0);
    assert.equal((await runCli(diffArgs('hits'))).code, 0);

    // Read back what the repairs left on Target.
    const row = (
      await t(`SELECT v, WRITETIME(v) AS w, TTL(v) AS ttl FROM ${KS}.kinds WHERE k = ? AND c = ?`, [1, 10])
    ).first();
    assert.equal(row?.get('v'), 'only on origin');
    assert.equal(String(row?.get('w')), String(BASE_TS));
    assert.equal((await t(`SELECT * FROM ${KS}.kinds WHERE k = 2 AND c = 10`, [])).rowLength, 0);
    const ttlRow = (await t(`SELECT TTL(v) AS ttl FROM ${KS}.kinds WHERE k = 6 AND c = 1`, [])).first();
    assert.ok(Number(ttlRow?.get('ttl')) > 400000);
    assert.equal((await t(`SELECT s FROM ${KS}.kinds WHERE k = 800`, [])).first()?.get('s'), 800);
    assert.deepEqual(
      [...((await t(`SELECT tags FROM ${KS}.kinds WHERE k = 9 AND c = 1`, [])).first()?.get('tags') ?? [])],
      ['a', 'b', 'c'],
    );
    assert.equal(String((await t(`SELECT n FROM ${KS}.hits WHERE k = 3`, [])).first()?.get('n')), '15');
  });

  test('a repair that loses to a newer Target write is reported as superseded and leaves the newer cell', async () => {
    await both(`DROP TABLE IF EXISTS ${KS}.newer`);
    await both(`CREATE TABLE ${KS}.newer (k int PRIMARY KEY, v text)`);
    await both(`INSERT INTO ${KS}.newer (k, v) VALUES (1, 'same') USING TIMESTAMP ?`, [BASE_TS]);
    await origin.execute(`INSERT INTO ${KS}.newer (k, v) VALUES (2, 'origin') USING TIMESTAMP ?`, [BASE_TS], {
      prepare: true,
    });
    await target.execute(
      `INSERT INTO ${KS}.newer (k, v) VALUES (2, 'newer') USING TIMESTAMP ?`,
      [BASE_TS + 10],
      {
        prepare: true,
      },
    );
    const result = await runCli(diffArgs('newer', '--autocorrect'));
    assert.equal(result.code, 1, result.stderr);
    const report = latestReport('newer');
    assert.equal(report.length, 1);
    assert.equal(report[0]!.repair, 'superseded');
    assert.equal(result.summary?.superseded, 1);
    assert.equal(result.summary?.corrected, 0);
    const row = (
      await target.execute(`SELECT v, WRITETIME(v) AS w FROM ${KS}.newer WHERE k = 2`, [], { prepare: true })
    ).first();
    assert.equal(row?.get('v'), 'newer');
    assert.equal(String(row?.get('w')), String(BASE_TS + 10));
  });

  test("the merge follows Cassandra's order for uuid, timeuuid, text, blob and DESC clustering keys", async () => {
    await both(`DROP TABLE IF EXISTS ${KS}.ordering`);
    await both(
      `CREATE TABLE ${KS}.ordering (p text, q blob, u uuid, t timeuuid, x text, b blob, n bigint, v int,
       PRIMARY KEY ((p, q), u, t, x, b, n)) WITH CLUSTERING ORDER BY (u ASC, t DESC, x ASC, b DESC, n ASC)`,
    );
    const { types } = (await import('cassandra-driver')).default;
    const texts = ['', 'a', 'B', 'é', '\uFFFD', '😀', 'ab'];
    let v = 0;
    for (let i = 0; i < 400; i++) {
      const params = [
        texts[i % 3]!,
        Buffer.from([i % 2 === 0 ? 0x80 : 0x01]),
        i % 5 === 0 ? types.TimeUuid.now() : types.Uuid.random(),
        types.TimeUuid.fromDate(
          new Date(1_700_000_000_000 + (i % 7)),
          i % 3,
          Buffer.from([i % 256, 0x80, 0, 0, 0, 1]),
          Buffer.from([i % 2 === 0 ? 0x80 : 0x00, 1]),
        ),
        texts[i % texts.length]!,
        Buffer.from([i % 4 === 0 ? 0xff : 0x00, i % 256]),
        (i % 9) - 4,
        v++,
      ];
      await both(
        `INSERT INTO ${KS}.ordering (p, q, u, t, x, b, n, v) VALUES (?, ?, ?, ?, ?, ?, ?, ?) USING TIMESTAMP ?`,
        [...params, BASE_TS],
      );
    }
    const result = await runCli(diffArgs('ordering'));
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.summary?.['rows compared'], 400);
    assert.equal(result.summary?.['rows equal'], 400);
  });

  test('kill -9 in the middle, then rerun: resumes, counts every row once, no duplicate report lines', async () => {
    await both(`DROP TABLE IF EXISTS ${KS}.big`);
    await both(`CREATE TABLE ${KS}.big (k int, c int, v text, PRIMARY KEY (k, c))`);
    const rows = 6000;
    const insert = `INSERT INTO ${KS}.big (k, c, v) VALUES (?, ?, ?) USING TIMESTAMP ${BASE_TS}`;
    const missing = new Set<number>();
    for (let k = 0; k < rows / 10; k++) if (k % 20 === 7) missing.add(k);
    const queue = [];
    for (let k = 0; k < rows / 10; k++) {
      for (let c = 0; c < 10; c++) {
        queue.push(origin.execute(insert, [k, c, `v${k}`], { prepare: true }));
        if (!(missing.has(k) && c === 0))
          queue.push(target.execute(insert, [k, c, `v${k}`], { prepare: true }));
      }
      if (queue.length > 200) await Promise.all(queue.splice(0));
    }
    await Promise.all(queue);
    const args = diffArgs(
      'big',
      '--splits',
      '32',
      '--concurrency',
      '2',
      '--fetch-size',
      '50',
      '--origin-rate-limit',
      '2000',
    );
    const first = startCli(args);
    // Wait until some differences are reported, then kill -9 mid-run.
    const reportDir = join(dir, 'big');
    for (let i = 0; i < 300; i++) {
      await new Promise((r) => setTimeout(r, 100));
      if (
        existsSync(reportDir) &&
        readdirSync(reportDir).some((f) => f.endsWith('.jsonl')) &&
        latestReport('big').length >= 5
      )
        break;
    }
    first.child.kill('SIGKILL');
    const killed = await first.done;
    assert.equal(killed.code, null, 'the first run was killed before it finished');
    const before = latestReport('big').length;
    assert.ok(before >= 5 && before < missing.size, `killed mid-run with ${before} lines`);

    const second = await runCli(args);
    assert.equal(second.code, 1, second.stderr);
    const report = latestReport('big');
    const keys = report.map((l) => `${l.kind} ${l.key.partition.k} ${l.key.clustering?.c}`);
    assert.equal(new Set(keys).size, keys.length, 'no duplicate lines');
    assert.deepEqual(keys.sort(), [...missing].map((k) => `missing ${k} 0`).sort());
    assert.equal(second.summary?.['rows compared'], rows, 'every row counted once over both sessions');
    assert.equal(second.summary?.missing, missing.size);
    assert.equal(
      readdirSync(reportDir).filter((f) => f.endsWith('.sqlite')).length,
      1,
      'the same run resumed',
    );
  });

  test('a writer updating both clusters as the proxy does causes no reported difference', async () => {
    await both(`DROP TABLE IF EXISTS ${KS}.live`);
    await both(`CREATE TABLE ${KS}.live (k int, c int, v text, n int, PRIMARY KEY (k, c))`);
    for (let k = 0; k < 200; k++) {
      await both(`INSERT INTO ${KS}.live (k, c, v, n) VALUES (?, ?, ?, ?) USING TIMESTAMP ?`, [
        k,
        0,
        'init',
        0,
        BASE_TS,
      ]);
    }
    let stop = false;
    let writes = 0;
    // The proxy forwards the same request (same client timestamp) to both clusters; Target may lag.
    const writer = (async () => {
      let i = 0;
      while (!stop) {
        const k = i % 300;
        const ts = Date.now() * 1000 + (i % 1000);
        const cql =
          i % 3 === 0
            ? `INSERT INTO ${KS}.live (k, c, v, n) VALUES (?, ?, ?, ?) USING TIMESTAMP ?`
            : `UPDATE ${KS}.live USING TIMESTAMP ? SET v = ?, n = ? WHERE k = ? AND c = ?`;
        const params = i % 3 === 0 ? [k, i % 4, `w${i}`, i, ts] : [ts, `u${i}`, i, k, i % 4];
        const originWrite = origin.execute(cql, params, { prepare: true });
        const targetWrite = new Promise((r) => setTimeout(r, i % 7 === 0 ? 40 : 2)).then(() =>
          target.execute(cql, params, { prepare: true }),
        );
        await Promise.all([originWrite, targetWrite]);
        writes++;
        i++;
      }
    })();
    try {
      const result = await runCli(diffArgs('live', '--recheck-delay-ms', '500'));
      assert.equal(result.code, 0, `${result.stderr}\n${JSON.stringify(latestReport('live').slice(0, 3))}`);
      assert.equal(latestReport('live').length, 0);
      assert.ok(Number(result.summary?.['rows compared']) >= 200);
      console.log(
        `# live writes: ${result.summary?.['transient (gone on recheck)']} differences seen in the scan were gone on recheck`,
      );
    } finally {
      stop = true;
      await writer;
    }
    assert.ok(writes > 50, `the writer made ${writes} writes during the diff`);
  });

  test('--no-writetime and --no-ttl narrow the comparison', async () => {
    await both(`DROP TABLE IF EXISTS ${KS}.narrow`);
    await both(`CREATE TABLE ${KS}.narrow (k int PRIMARY KEY, v text)`);
    await origin.execute(
      `INSERT INTO ${KS}.narrow (k, v) VALUES (1, 'x') USING TIMESTAMP ? AND TTL 90000`,
      [BASE_TS],
      {
        prepare: true,
      },
    );
    await target.execute(`INSERT INTO ${KS}.narrow (k, v) VALUES (1, 'x') USING TIMESTAMP ?`, [BASE_TS - 1], {
      prepare: true,
    });
    assert.equal((await runCli(diffArgs('narrow', '--no-writetime'))).code, 1);
    assert.deepEqual(latestReport('narrow').map(describeLine), ['mismatch {"k":1} {} v:ttl']);
    const narrowed = await runCli(diffArgs('narrow', '--no-writetime', '--no-ttl'));
    assert.equal(narrowed.code, 0, narrowed.stderr);
  });

  test('--sample validates a share of the ranges', async () => {
    const result = await runCli(diffArgs('newer', '--splits', '16', '--sample', '25'));
    assert.equal(result.summary?.['ranges done'], 4, result.stderr);
  });

  test('exit code 2 when the run fails; --help documents the exit codes', async () => {
    const bad = await runCli(diffArgs('no_such_table'));
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /no_such_table/);
    const help = await runCli(['diff', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Exit codes: 0 no difference remains, 1 differences found/);
  });
});
