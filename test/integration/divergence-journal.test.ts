import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import cassandra from 'cassandra-driver';
import { restartClusterAt, stopClusterAt } from '../../src/cluster/local-cluster.js';
import { silentLogger } from '../../src/log/logger.js';
import { journalFiles, murmur3Token } from '../../src/validate/journal-partitions.js';
import { diffArgs, type ProxyProcess, runZdm, startZdmProxy } from '../helpers/cli.js';
import { cqlClient, sharedClusterDir } from '../helpers/clusters.js';
import { clusterPairFixture } from '../helpers/keyspace.js';

/**
 * The divergence journal end to end: Target stopped under a running proxy (real CLI), writes
 * through the proxy succeed on Origin and fail on Target (prepared, plain text and a BATCH); the
 * journal lists those partitions; with Target back, `zdm diff --from-journal --autocorrect`
 * repairs exactly them and a full diff finds nothing.
 */
const KS = 'divergence_journal';
const scratch: string[] = [];
const scratchDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scratch.push(dir);
  return dir;
};
let stateDir: string;
let proxy: ProxyProcess;
let client: cassandra.Client;

const INSERT_EVENT = `INSERT INTO ${KS}.events (tenant, day, seq, v) VALUES (?, ?, ?, ?)`;
const UPDATE_KV = `UPDATE ${KS}.kv SET v = ? WHERE k = ?`;
const journalPath = () => join(stateDir, 'divergence-journal.jsonl');

interface Line {
  table: string | null;
  failed: string;
  error: string;
  request: string;
  key?: Record<string, string>;
  literals?: Record<string, string>;
}
/** Every line of the journal: the proxy runs its default worker processes, each with its own file. */
const readJournal = (): Line[] =>
  journalFiles(journalPath()).flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      // A worker that journaled nothing has an empty file.
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as Line),
  );

/** What a line names: table and key, decoded for comparison. */
function partitionOf(line: Line): string {
  if (line.key !== undefined) {
    const key = line.key;
    return line.table === `${KS}.events`
      ? `events ${Buffer.from(key.tenant!, 'hex').readInt32BE()}/${Buffer.from(key.day!, 'hex').toString()}`
      : `kv ${Buffer.from(key.k!, 'hex').readInt32BE()}`;
  }
  return `${line.table} literals ${JSON.stringify(line.literals)}`;
}

const rowsOf = async (c: cassandra.Client, cql: string) =>
  // Values as text: the exact client gives writetimes as BigInt, the plain one as Long.
  (await c.execute(cql)).rows.map((r) => r.values().map(String).join('|')).sort();

describe('divergence journal', () => {
  const pair = clusterPairFixture(KS, [
    `CREATE TABLE ${KS}.events (tenant int, day text, seq int, v text, PRIMARY KEY ((tenant, day), seq))`,
    `CREATE TABLE ${KS}.kv (k int PRIMARY KEY, v text)`,
  ]);

  before(async () => {
    stateDir = scratchDir('zdm-journal-state-');
    // A short request timeout: writes to the stopped Target fail within it rather than after 10 s.
    proxy = await startZdmProxy(pair.origin, pair.target, {
      ZDM_PROXY_STATE_DIR: stateDir,
      ZDM_PROXY_REQUEST_TIMEOUT_MS: '3000',
    });
    client = new cassandra.Client({
      contactPoints: ['127.0.0.1'],
      protocolOptions: { port: proxy.port },
      localDataCenter: pair.origin.localDataCenter,
    });
    await client.connect();
  });

  after(async () => {
    await client?.shutdown();
    await proxy?.stop();
    for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
  });

  test('writes that failed on Target only are journaled and repaired from the journal', async () => {
    // Before the outage: rows on both clusters, statements prepared on both.
    await client.execute(INSERT_EVENT, [1, 'd0', 1, 'both'], { prepare: true });
    await client.execute(UPDATE_KV, ['both', 1], { prepare: true });
    const targetDir = sharedClusterDir('target');
    await stopClusterAt(targetDir, silentLogger());
    let restarted = false;
    try {
      const failsOnTarget = (work: Promise<unknown>) =>
        assert.rejects(work, (error: Error) => {
          assert.match(error.message, /Target/, error.message);
          return true;
        });
      await failsOnTarget(client.execute(INSERT_EVENT, [1, 'd1', 1, 'during'], { prepare: true }));
      await failsOnTarget(client.execute(INSERT_EVENT, [2, 'd2', 5, 'during'], { prepare: true }));
      await failsOnTarget(client.execute(UPDATE_KV, ['during', 2], { prepare: true }));
      await failsOnTarget(client.execute(`INSERT INTO ${KS}.kv (k, v) VALUES (3, 'text')`));
      await failsOnTarget(
        client.execute(`UPDATE ${KS}.events SET v = 'text' WHERE tenant = 4 AND day = 'd4' AND seq = 2`),
      );
      await failsOnTarget(
        client.batch(
          [
            { query: INSERT_EVENT, params: [5, 'd5', 1, 'batch'] },
            { query: UPDATE_KV, params: ['batch', 6] },
          ],
          { prepare: true },
        ),
      );
    } finally {
      await restartClusterAt(targetDir, silentLogger(), { detached: true });
      restarted = true;
    }
    assert.ok(restarted);

    // The journal: every diverged write with its partition, Target named as the failed side.
    const lines = readJournal();
    assert.ok(
      lines.every((l) => l.failed === 'target' && l.error.length > 0),
      JSON.stringify(lines),
    );
    assert.deepEqual(
      [...new Set(lines.map(partitionOf))].sort(),
      [
        'events 1/d1',
        'events 2/d2',
        'events 5/d5',
        `${KS}.events literals {"tenant":"4","day":"'d4'","seq":"2"}`,
        `${KS}.kv literals {"k":"3","v":"'text'"}`,
        'kv 2',
        'kv 6',
      ].sort(),
    );
    assert.ok(lines.some((l) => l.request === 'BATCH'));

    // The tokens the diff reads are Cassandra's own.
    const origin = pair.o;
    const token = (
      await origin.execute(`SELECT token(tenant, day) AS t FROM ${KS}.events WHERE tenant = 2 AND day = 'd2'`)
    )
      .first()
      .get('t');
    const int = (n: number) => {
      const b = Buffer.alloc(4);
      b.writeInt32BE(n);
      return b;
    };
    assert.equal(murmur3Token([int(2), Buffer.from('d2')]), BigInt(token.toString()));

    // restartClusterAt returns once Target answers CQL again.
    const target = await cqlClient(pair.target);
    try {
      const events = `SELECT tenant, day, seq, v, writetime(v) AS wt FROM ${KS}.events`;
      const kv = `SELECT k, v, writetime(v) AS wt FROM ${KS}.kv`;
      assert.notDeepEqual(
        await rowsOf(target, events),
        await rowsOf(origin, events),
        'Target really missed the writes',
      );

      const checkpoints = scratchDir('zdm-journal-diff-');
      for (const table of ['events', 'kv']) {
        const repaired = await runZdm(
          diffArgs(
            `${KS}.${table}`,
            pair.origin,
            pair.target,
            checkpoints,
            '--from-journal',
            journalPath(),
            '--autocorrect',
            '--json',
          ),
        );
        assert.equal(repaired.code, 0, `${table}: ${repaired.stdout}\n${repaired.stderr}`);
        const summary = JSON.parse(repaired.stdout) as Record<string, unknown>;
        assert.equal(summary['journal partitions'], table === 'events' ? 4 : 3, repaired.stdout);
        assert.equal(summary.corrected, table === 'events' ? 4 : 3, repaired.stdout);
      }
      assert.deepEqual(await rowsOf(target, events), await rowsOf(origin, events));
      assert.deepEqual(await rowsOf(target, kv), await rowsOf(origin, kv));
      for (const table of ['events', 'kv']) {
        const full = await runZdm(
          diffArgs(`${KS}.${table}`, pair.origin, pair.target, checkpoints, '--json'),
        );
        assert.equal(full.code, 0, `full diff of ${table}: ${full.stdout}\n${full.stderr}`);
        assert.equal((JSON.parse(full.stdout) as Record<string, unknown>)['differences remaining'], 0);
      }
    } finally {
      await target.shutdown();
    }
  });

  test('a corrupt journal and a table the journal does not list are refused with a clear message', async () => {
    const dir = scratchDir('zdm-journal-bad-');
    const corrupt = join(dir, 'corrupt.jsonl');
    writeFileSync(corrupt, `{"table":"${KS}.kv","key":{"k":"00000001"}}\nnot a journal line\n`);
    const checkpoints = join(dir, 'checkpoints');
    const bad = await runZdm(
      diffArgs(`${KS}.kv`, pair.origin, pair.target, checkpoints, '--from-journal', corrupt),
    );
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /line 2 is not/);
    const other = join(dir, 'other.jsonl');
    writeFileSync(other, `{"table":"${KS}.kv","key":{"k":"00000001"}}\n`);
    const none = await runZdm(
      diffArgs(`${KS}.events`, pair.origin, pair.target, checkpoints, '--from-journal', other),
    );
    assert.equal(none.code, 2, none.stderr);
    assert.match(none.stderr, new RegExp(`lists no write of ${KS}\\.events; it lists ${KS}\\.kv`));
  });
});
