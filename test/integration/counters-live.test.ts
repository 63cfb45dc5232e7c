import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import cassandra from 'cassandra-driver';
import { scratchDir } from '../helpers/checkpoints.js';
import {
  type CliResult,
  diffArgs,
  migrateArgs,
  type ProxyProcess,
  runZdm,
  startZdm,
  startZdmProxy,
} from '../helpers/cli.js';
import { type ClusterEndpoint, sharedClusters } from '../helpers/clusters.js';
import { exactClient, freshKeyspace, runAll } from '../helpers/keyspace.js';

const KS = 'ctr_live';
const ROWS = 300;

/** Every row's counter on one cluster, read directly (not through the proxy). */
async function readCounters(client: cassandra.Client): Promise<Map<number, bigint>> {
  const out = new Map<number, bigint>();
  const rows = await client.execute(`SELECT k, hits FROM ${KS}.c`, [], { fetchSize: 10_000 });
  for (const row of rows.rows) out.set(Number(row.get('k')), BigInt(String(row.get('hits'))));
  return out;
}

/** Rows whose counter differs between the clusters, with Target minus Origin. */
function drift(origin: Map<number, bigint>, target: Map<number, bigint>): Map<number, bigint> {
  const out = new Map<number, bigint>();
  for (const [k, v] of origin) {
    const d = (target.get(k) ?? 0n) - v;
    if (d !== 0n) out.set(k, d);
  }
  for (const k of target.keys()) if (!origin.has(k)) out.set(k, target.get(k)!);
  return out;
}

/** The JSON summary a job printed last. */
const summaryOf = (result: CliResult): Record<string, number> =>
  JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Record<string, number>;

/**
 * Increments through the proxy, every row in turn, until stopped; counts what each row received.
 * Counter updates are not idempotent, so the driver never retries them: a failure is recorded instead.
 */
function incrementLoad(client: cassandra.Client, workers: number) {
  const acked = new Map<number, number>();
  const failures: unknown[] = [];
  let next = 0;
  let stopping = false;
  const work = Array.from({ length: workers }, async () => {
    while (!stopping) {
      const k = next++ % ROWS;
      try {
        await client.execute(`UPDATE ${KS}.c SET hits = hits + 1 WHERE k = ?`, [k], { prepare: true });
        acked.set(k, (acked.get(k) ?? 0) + 1);
      } catch (error) {
        // A failed increment fails the test; stop this worker rather than spin on a dead proxy.
        failures.push(error);
        return;
      }
    }
  });
  return {
    acked,
    failures,
    total: () => [...acked.values()].reduce((a, b) => a + b, 0),
    async stop() {
      stopping = true;
      await Promise.all(work);
    },
  };
}

describe('counters: increments through the real proxy while migrate copies the table', () => {
  let origin: ClusterEndpoint;
  let target: ClusterEndpoint;
  let o: cassandra.Client;
  let t: cassandra.Client;
  let proxy: ProxyProcess | undefined;
  let viaProxy: cassandra.Client | undefined;

  before(async () => {
    ({ origin, target } = await sharedClusters());
    o = await exactClient(origin, 'origin');
    t = await exactClient(target, 'target');
    for (const c of [o, t]) {
      await freshKeyspace(c, KS);
      await runAll(c, [`CREATE TABLE ${KS}.c (k int PRIMARY KEY, hits counter)`]);
    }
    // History from before dual writes: on Origin only.
    for (let k = 0; k < ROWS; k++)
      await o.execute(`UPDATE ${KS}.c SET hits = hits + ? WHERE k = ?`, [BigInt(1000 + k), k], {
        prepare: true,
      });
    proxy = await startZdmProxy(origin, target);
    viaProxy = new cassandra.Client({
      contactPoints: [`127.0.0.1:${proxy.port}`],
      localDataCenter: origin.localDataCenter,
      socketOptions: { readTimeout: 30_000 },
    });
    await viaProxy.connect();
  });

  after(async () => {
    await viaProxy?.shutdown();
    await proxy?.stop();
    await o?.shutdown();
    await t?.shutdown();
  });

  test('migrate under live increments can leave Target off; diff after writes settle finds exactly those rows and --autocorrect makes them exact', async () => {
    const dir = scratchDir('zdm-counters-');
    const diff = (...extra: string[]) =>
      diffArgs(`${KS}.c`, origin, target, scratchDir('zdm-counters-diff-'), '--json', ...extra);
    const load = incrementLoad(viaProxy!, 4);
    // One page per range read at once, then one Target read per row at 40 rows/s: rows late in the
    // page are compared with Origin's value of seconds ago, while increments keep landing on both.
    const migrate = startZdm(
      migrateArgs(
        `${KS}.c`,
        origin,
        target,
        dir,
        '--create-missing-counters',
        '--splits',
        '2',
        '--concurrency',
        '1',
        '--write-concurrency',
        '1',
        '--fetch-size',
        String(ROWS),
        '--target-rate-limit',
        '40',
        '--json',
      ),
    );
    const copied = await migrate.done;
    const duringMigrate = load.total();
    // A diff while increments still arrive: a row written between its two reads is read again
    // (--recheck-delay-ms) until both reads agree, so in-flight writes are mostly not reported.
    const live = await runZdm(diff('--recheck-delay-ms', '200'));
    await load.stop();
    assert.equal(copied.code, 0, copied.stderr);
    assert.ok([0, 1].includes(live.code ?? -1), live.stderr);
    assert.ok(proxy!.running(), `the proxy ran throughout:\n${proxy!.log()}`);
    assert.deepEqual(load.failures, [], 'every increment reached both clusters through the proxy');
    assert.ok(duringMigrate > ROWS, `increments kept arriving while migrate ran (${duringMigrate})`);

    // Writes have settled (every increment was acknowledged by both clusters): Origin holds exactly
    // its history plus every increment.
    const [originNow, targetNow] = await Promise.all([readCounters(o), readCounters(t)]);
    for (let k = 0; k < ROWS; k++)
      assert.equal(originNow.get(k), BigInt(1000 + k + (load.acked.get(k) ?? 0)), `Origin row ${k}`);
    const off = drift(originNow, targetNow);
    const offBy = [...off.values()].reduce((a, b) => a + (b < 0n ? -b : b), 0n);
    const liveSummary = summaryOf(live);
    console.log(
      `# ${load.total()} increments through the proxy (${duringMigrate} while migrate ran): ` +
        `Target off on ${off.size}/${ROWS} rows by ${offBy} in all after migrate; ` +
        `a diff under live writes reported ${liveSummary.mismatched} mismatched, ${liveSummary['transient (gone on recheck)']} transient`,
    );

    // After the writes settle, diff reports exactly the rows that differ...
    const settled = await runZdm(diff());
    assert.equal(settled.code, off.size === 0 ? 0 : 1, settled.stderr);
    assert.equal(summaryOf(settled).mismatched, off.size);
    assert.equal(summaryOf(settled).missing, 0);
    // ...and --autocorrect adds each difference once, so Target equals Origin exactly.
    const repaired = await runZdm(diff('--autocorrect'));
    assert.equal(repaired.code, 0, repaired.stderr);
    assert.equal(summaryOf(repaired).corrected, off.size);
    assert.deepEqual(drift(await readCounters(o), await readCounters(t)), new Map());
    const clean = await runZdm(diff());
    assert.equal(clean.code, 0, clean.stderr);
    assert.equal(summaryOf(clean).mismatched, 0);
  });
});
