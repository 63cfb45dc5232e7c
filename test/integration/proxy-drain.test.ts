import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type cassandra from 'cassandra-driver';
import { type SharedClusters, sharedClusters } from '../helpers/clusters.js';
import { clustersWithKv, type ProxyProcess, proxyClient, spawnProxy } from './proxy-support.js';

/**
 * SIGTERM while clients write through the proxy: it stops taking requests, answers those in
 * flight, closes its connections and exits 0 within its bound; every write a client saw
 * acknowledged is on both clusters.
 */
const KS = 'proxy_drain';
const SHUTDOWN_MS = 10_000;
let clusters: SharedClusters;
let origin: cassandra.Client;
let target: cassandra.Client;
let proxy: ProxyProcess | undefined;

before(async () => {
  clusters = await sharedClusters();
  ({ origin, target } = await clustersWithKv(clusters, KS));
});

after(async () => {
  proxy?.kill('SIGKILL');
  await origin?.shutdown();
  await target?.shutdown();
});

for (const round of [1, 2, 3]) {
  test(`SIGTERM under a write load (round ${round}): exit 0 within the bound, every acknowledged write on both clusters`, async () => {
    const running = await spawnProxy(clusters, { ZDM_PROXY_SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_MS) });
    proxy = running;
    const client = await proxyClient(running);
    const acknowledged: number[] = [];
    let next = round * 1_000_000;
    let stop = false;
    const writers = Array.from({ length: 16 }, async () => {
      while (!stop) {
        const k = next++;
        try {
          await client.execute(`INSERT INTO ${KS}.kv (k, v) VALUES (?, 'w')`, [k], { prepare: true });
          acknowledged.push(k);
        } catch {
          // Refused or cut by the shutdown: not acknowledged, so it may be anywhere or nowhere.
          // Wait a little: a driver with no connection rejects at once, and a loop of microtasks
          // would starve the event loop (the proxy's exit would never be seen).
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    });
    while (acknowledged.length < 500) await new Promise((resolve) => setTimeout(resolve, 50));
    const signalled = Date.now();
    running.kill('SIGTERM');
    const code = await running.exited;
    const took = Date.now() - signalled;
    stop = true;
    await Promise.all(writers);
    await client.shutdown().catch(() => undefined);
    console.log(
      `# round ${round}: exit ${code} ${took} ms after SIGTERM; ${acknowledged.length} writes acknowledged`,
    );
    assert.equal(code, 0);
    assert.ok(took < SHUTDOWN_MS + 5000, `exited ${took} ms after SIGTERM`);
    for (const [name, direct] of [
      ['origin', origin],
      ['target', target],
    ] as const) {
      const stored = new Set<number>();
      const rows = direct.stream(`SELECT k FROM ${KS}.kv`, [], { prepare: true, fetchSize: 5000 });
      for await (const row of rows as unknown as AsyncIterable<cassandra.types.Row>) stored.add(row.get('k'));
      const missing = acknowledged.filter((k) => !stored.has(k));
      assert.deepEqual(missing.slice(0, 10), [], `${missing.length} acknowledged writes missing on ${name}`);
    }
  });
}
