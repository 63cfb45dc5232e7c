import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import cassandra from 'cassandra-driver';
import {
  Consistency,
  decodeError,
  decodeResult,
  ErrorCode,
  encodeExecute,
  encodePrepare,
  Opcode,
  queryParameters,
  type RawFrame,
} from '../../src/proxy/codec/index.js';
import { type SharedClusters, sharedClusters } from '../helpers/clusters.js';
import {
  childPids,
  clustersWithKv,
  isAlive,
  type ProxyProcess,
  proxyClient,
  proxyLogLines,
  RawCqlConnection,
  spawnProxy,
  workersStarted,
} from './proxy-support.js';

/**
 * The real `zdm-proxy start` with ZDM_PROXY_WORKERS=2: clients spread over both worker processes,
 * a statement prepared through one worker executes through the other (it answers UNPREPARED and
 * the driver prepares again), writes land on both clusters, /metrics sums both workers, a killed
 * worker is replaced, and SIGTERM drains everything to exit 0 with no worker left behind.
 */
const KS = 'proxy_workers';
let clusters: SharedClusters;
let origin: cassandra.Client;
let target: cassandra.Client;
let proxy: ProxyProcess;
const clients: cassandra.Client[] = [];

async function scrape(): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${proxy.metricsPort}/metrics`);
  assert.equal(response.status, 200);
  return response.text();
}

/** The value of one sample line of /metrics (`name{labels}`), 0 when absent. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${proxy.log().slice(-3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Every key of the kv table on a cluster, read straight from it. */
async function keysOn(direct: cassandra.Client): Promise<Set<number>> {
  const keys = new Set<number>();
  const rows = direct.stream(`SELECT k FROM ${KS}.kv`, [], { prepare: true, fetchSize: 5000 });
  for await (const row of rows as unknown as AsyncIterable<cassandra.types.Row>) keys.add(row.get('k'));
  return keys;
}

function execute(connection: RawCqlConnection, stream: number, id: Buffer, k: number): Promise<RawFrame> {
  const value = Buffer.alloc(4);
  value.writeInt32BE(k);
  connection.send(
    stream,
    Opcode.EXECUTE,
    encodeExecute(
      { id, resultMetadataId: null, params: queryParameters(Consistency.ONE, { values: [value] }) },
      4,
    ),
  );
  return connection.answer(stream);
}

before(async () => {
  clusters = await sharedClusters();
  ({ origin, target } = await clustersWithKv(clusters, KS));
  proxy = await spawnProxy(clusters, {
    ZDM_PROXY_WORKERS: '2',
    ZDM_LOG_LEVEL: 'INFO',
    ZDM_LOG_FORMAT: 'json',
    ZDM_PROXY_SHUTDOWN_TIMEOUT_MS: '10000',
  });
});

after(async () => {
  if (proxy !== undefined) {
    const workers = childPids(proxy.pid);
    proxy.kill('SIGKILL');
    for (const pid of workers) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  }
  await origin?.shutdown();
  await target?.shutdown();
});

describe('zdm-proxy with ZDM_PROXY_WORKERS=2', () => {
  // Before the next suite: drivers left reconnecting to a stopped proxy keep the test process alive.
  after(async () => {
    for (const client of clients.splice(0)) await client.shutdown().catch(() => undefined);
  });
  test('two worker processes, announced once', () => {
    const started = workersStarted(proxy);
    assert.equal(started.size, 2, proxy.log());
    assert.equal(new Set(started.values()).size, 2);
    assert.ok(!started.has(proxy.pid) && ![...started.values()].includes(proxy.pid));
    assert.equal(proxyLogLines(proxy).filter((l) => /^zdm-proxy listening on/.test(String(l.msg))).length, 1);
  });

  test('client connections spread over both workers; /metrics shows each and their sum', async () => {
    for (let i = 0; i < 6; i++) clients.push(await proxyClient(proxy, { keyspace: KS }));
    const text = await scrape();
    const perWorker = [...workersStarted(proxy).keys()].map((worker) =>
      sample(text, `zdm_proxy_worker_client_connections{worker="${worker}"}`),
    );
    // Six drivers keep one connection each (the Node driver closes its first, DSE-version probe at
    // once); the primary hands each to the worker with the fewest open.
    assert.ok(
      perWorker.every((n) => n >= 2),
      `connections per worker: ${perWorker.join(', ')}`,
    );
    assert.equal(
      sample(text, 'zdm_client_connections_total'),
      perWorker.reduce((a, b) => a + b),
    );
    const readiness = await fetch(`http://127.0.0.1:${proxy.metricsPort}/health/readiness`);
    assert.equal(readiness.status, 200);
    assert.equal(((await readiness.json()) as { status: string }).status, 'UP');
  });

  test('an id prepared through one worker: the other answers UNPREPARED with that id, then prepares it', async () => {
    const query = `INSERT INTO ${KS}.kv (k, v) VALUES (?, 'raw')`;
    const connections = await Promise.all(Array.from({ length: 6 }, () => RawCqlConnection.open(proxy.port)));
    try {
      const [first, ...others] = connections as [RawCqlConnection, ...RawCqlConnection[]];
      first.send(1, Opcode.PREPARE, encodePrepare({ query, keyspace: null }, 4));
      const prepared = decodeResult((await first.answer(1)).body, 4);
      assert.equal(prepared.kind, 'prepared');
      const id = (prepared as { id: Buffer }).id;
      let unprepared = 0;
      for (const [i, connection] of others.entries()) {
        const answer = await execute(connection, 2, id, 100 + i);
        if (answer.header.opcode === Opcode.RESULT) continue;
        // This connection's worker never saw the id: it says so, with the id, as Cassandra does.
        const error = decodeError(answer.body, 4);
        assert.equal(error.code, ErrorCode.UNPREPARED, error.message);
        assert.deepEqual((error as { id: Buffer }).id, id);
        unprepared++;
        connection.send(3, Opcode.PREPARE, encodePrepare({ query, keyspace: null }, 4));
        assert.deepEqual((decodeResult((await connection.answer(3)).body, 4) as { id: Buffer }).id, id);
        assert.equal((await execute(connection, 4, id, 100 + i)).header.opcode, Opcode.RESULT);
      }
      // Connections are handed to the workers in turn: some of the five landed on the other one.
      assert.ok(
        unprepared >= 1 && unprepared < others.length,
        `${unprepared} of ${others.length} UNPREPARED`,
      );
      for (const direct of [origin, target]) {
        const rows = await direct.execute(`SELECT k FROM ${KS}.kv WHERE k IN (100, 101, 102, 103, 104)`);
        assert.equal(rows.rowLength, 5);
      }
    } finally {
      for (const connection of connections) connection.close();
    }
  });

  test('the Node driver over connections on both workers: prepared writes reach both clusters, /metrics sums them', async () => {
    const before = await scrape();
    const client = new cassandra.Client(<cassandra.ClientOptions>(<unknown>{
      contactPoints: [`127.0.0.1:${proxy.port}`],
      protocolOptions: { port: proxy.port, maxVersion: 4 },
      localDataCenter: 'datacenter1',
      keyspace: KS,
      pooling: { coreConnectionsPerHost: { [cassandra.types.distance.local]: 4 } },
      socketOptions: { readTimeout: 30000 },
    }));
    clients.push(client);
    await client.connect();
    const WRITES = 400;
    await Promise.all(
      Array.from({ length: WRITES }, (_, i) =>
        client.execute(`INSERT INTO ${KS}.kv (k, v) VALUES (?, ?)`, [1000 + i, `w${i}`], { prepare: true }),
      ),
    );
    for (const [name, direct] of [
      ['origin', origin],
      ['target', target],
    ] as const) {
      const stored = await keysOn(direct);
      const missing = Array.from({ length: WRITES }, (_, i) => 1000 + i).filter((k) => !stored.has(k));
      assert.deepEqual(missing, [], `writes missing on ${name}`);
      const sampleRow = (await direct.execute(`SELECT v FROM ${KS}.kv WHERE k = 1234`)).first();
      assert.equal(sampleRow?.get('v'), 'w234');
    }
    const afterText = await scrape();
    const writes = (text: string) => sample(text, 'zdm_proxy_request_duration_seconds_count{type="writes"}');
    // Every write counted, whichever worker carried it (with the driver's USE and PREPAREs, sent
    // to both clusters too); one worker's count alone would be about half.
    const counted = writes(afterText) - writes(before);
    assert.ok(counted >= WRITES && counted < WRITES + 50, `${counted} writes counted for ${WRITES}`);
    // The driver prepared on one connection and executed on all four: the other worker's misses
    // made it prepare again there.
    assert.ok(
      sample(afterText, 'zdm_pscache_miss_total') > sample(before, 'zdm_pscache_miss_total'),
      'no EXECUTE reached a worker that had not seen the statement',
    );
  });

  test('a worker killed by SIGKILL is logged and replaced; the proxy keeps serving', async () => {
    const [victimWorker, victim] = [...workersStarted(proxy)][0]!;
    process.kill(victim, 'SIGKILL');
    await waitFor('the crash to be logged', () =>
      proxyLogLines(proxy).find((l) => l.worker === victimWorker && l.signal === 'SIGKILL' && l.level === 50),
    );
    const replacement = await waitFor('a replacement worker', () => {
      const started = workersStarted(proxy);
      return started.size === 3 ? [...started.values()].at(-1) : undefined;
    });
    assert.ok(isAlive(replacement));
    await waitFor('the replacement in /metrics', async () => {
      // A scrape sent while the killed worker is still listed waits for it, then fails: not yet.
      const response = await fetch(`http://127.0.0.1:${proxy.metricsPort}/metrics`);
      const text = await response.text();
      return response.status === 200 && text.includes('zdm_proxy_worker_client_connections{worker="3"}')
        ? true
        : undefined;
    });
    // The drivers whose connections the crash cut reconnect; every write succeeds again.
    for (const [i, client] of clients.entries()) {
      await waitFor(`client ${i} writing again`, () =>
        client.execute(`INSERT INTO ${KS}.kv (k, v) VALUES (?, 'after')`, [5000 + i], { prepare: true }).then(
          () => true,
          () => undefined,
        ),
      );
    }
    const rows = await target.execute(
      `SELECT k FROM ${KS}.kv WHERE k IN ?`,
      [clients.map((_, i) => 5000 + i)],
      {
        prepare: true,
      },
    );
    assert.equal(rows.rowLength, clients.length);
  });

  test('SIGTERM under a write load drains every worker: exit 0, acknowledged writes on both clusters, no worker left', async () => {
    const workers = childPids(proxy.pid).filter((pid) => [...workersStarted(proxy).values()].includes(pid));
    assert.equal(workers.length, 2, `worker processes running: ${workers.join(', ')}`);
    const acknowledged: number[] = [];
    let next = 10_000;
    let stop = false;
    const writers = clients.map(async (client) => {
      while (!stop) {
        const k = next++;
        try {
          await client.execute(`INSERT INTO ${KS}.kv (k, v) VALUES (?, 'drain')`, [k], { prepare: true });
          acknowledged.push(k);
        } catch {
          // Refused or cut by the shutdown: not acknowledged. A short pause, so the loop yields.
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    });
    while (acknowledged.length < 300) await new Promise((resolve) => setTimeout(resolve, 50));
    proxy.kill('SIGTERM');
    const code = await proxy.exited;
    stop = true;
    await Promise.all(writers);
    assert.equal(code, 0, proxy.log().slice(-3000));
    assert.deepEqual(
      workers.filter((pid) => isAlive(pid)),
      [],
      'worker processes outlived the proxy',
    );
    for (const [name, direct] of [
      ['origin', origin],
      ['target', target],
    ] as const) {
      const stored = await keysOn(direct);
      const missing = acknowledged.filter((k) => !stored.has(k));
      assert.deepEqual(missing.slice(0, 10), [], `${missing.length} acknowledged writes missing on ${name}`);
    }
  });
});
