import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import cassandra from 'cassandra-driver';
import {
  decodeError,
  ErrorCode,
  encodeFrame,
  encodeQuery,
  encodeStartup,
  Framer,
  Opcode,
  queryParameters,
  type RawFrame,
} from '../../src/proxy/codec/index.js';
import type { RunningProxy } from '../../src/proxy/start-proxy.js';
import { cqlClient, type SharedClusters, sharedClusters } from '../helpers/clusters.js';
import { freshKeyspace } from '../helpers/keyspace.js';
import { cellWithWritetime, proxyClient, testProxy } from './proxy-support.js';

const KS = 'proxy_it';
let clusters: SharedClusters;
let proxy: RunningProxy;
let origin: cassandra.Client;
let target: cassandra.Client;
let client: cassandra.Client;

before(async () => {
  clusters = await sharedClusters();
  origin = await cqlClient(clusters.origin);
  target = await cqlClient(clusters.target);
  for (const direct of [origin, target]) await freshKeyspace(direct, KS);
  proxy = await testProxy(clusters);
  client = await proxyClient(proxy);
});

after(async () => {
  await client?.shutdown();
  await proxy?.close();
  await origin?.shutdown();
  await target?.shutdown();
});

/** The same cell with the same writetime in both clusters, read straight from each. */
async function assertOnBoth(
  table: string,
  column: string,
  where: string,
  params: unknown[],
  expected: unknown,
) {
  const o = await cellWithWritetime(origin, `${KS}.${table}`, column, where, params);
  const t = await cellWithWritetime(target, `${KS}.${table}`, column, where, params);
  assert.ok(
    o !== null && t !== null,
    `row ${where} ${JSON.stringify(params)} must exist in both clusters (origin ${JSON.stringify(o)}, target ${JSON.stringify(t)})`,
  );
  assert.deepEqual(o.value, expected, 'origin value');
  assert.deepEqual(t.value, expected, 'target value');
  assert.equal(o.writetime, t.writetime, `same writetime on both clusters for ${column}`);
  return o.writetime;
}

async function assertGoneFromBoth(table: string, where: string, params: unknown[]) {
  for (const [name, c] of [
    ['origin', origin],
    ['target', target],
  ] as const) {
    const rows = (await c.execute(`SELECT * FROM ${KS}.${table} WHERE ${where}`, params, { prepare: true }))
      .rows;
    assert.equal(rows.length, 0, `row deleted on ${name}`);
  }
}

describe('Node driver through the proxy', () => {
  test('only the proxy is discovered (system.local / system.peers are virtual)', () => {
    assert.deepEqual(client.hosts.keys(), [`127.0.0.1:${proxy.port}`]);
    const host = client.hosts.values()[0]!;
    assert.equal(host.datacenter, 'datacenter1');
    assert.equal(host.rack, 'rack0');
    assert.equal(host.tokens.length, 8);
  });

  test('DDL reaches both clusters', async () => {
    await client.execute(`CREATE TABLE ${KS}.kv (k int PRIMARY KEY, v text, n int)`);
    await client.execute(`CREATE TABLE ${KS}.counts (k int PRIMARY KEY, c counter)`);
    await client.execute(`CREATE TABLE ${KS}.rows (p int, c int, v text, PRIMARY KEY (p, c))`);
    for (const direct of [origin, target]) {
      const tables = (
        await direct.execute('SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?', [KS])
      ).rows.map((r) => r.get('table_name'));
      assert.deepEqual(tables.sort(), ['counts', 'kv', 'rows']);
    }
  });

  test('INSERT, UPDATE, DELETE (simple and prepared) land in both with the same writetime', async () => {
    await client.execute(`INSERT INTO ${KS}.kv (k, v) VALUES (1, 'one')`);
    await client.execute(`INSERT INTO ${KS}.kv (k, v) VALUES (?, ?)`, [2, 'two'], { prepare: true });
    await client.execute(`UPDATE ${KS}.kv SET v = ? WHERE k = ?`, ['uno', 1], { prepare: true });
    await client.execute(`INSERT INTO ${KS}.kv (k, v) VALUES (3, 'three')`);
    await client.execute(`DELETE FROM ${KS}.kv WHERE k = ?`, [3], { prepare: true });
    await assertOnBoth('kv', 'v', 'k = ?', [1], 'uno');
    await assertOnBoth('kv', 'v', 'k = ?', [2], 'two');
    await assertGoneFromBoth('kv', 'k = ?', [3]);
  });

  test('writes without a client timestamp get one default timestamp from the proxy, identical on both', async () => {
    const bare = await proxyClient(proxy, { clientTimestamps: false });
    try {
      const before = BigInt(Date.now()) * 1000n;
      await bare.execute(`INSERT INTO ${KS}.kv (k, v) VALUES (10, 'ten')`);
      await bare.execute(`INSERT INTO ${KS}.kv (k, v) VALUES (?, ?)`, [11, 'eleven'], { prepare: true });
      await bare.batch(
        [
          { query: `INSERT INTO ${KS}.kv (k, v) VALUES (?, ?)`, params: [12, 'twelve'] },
          { query: `INSERT INTO ${KS}.kv (k, v) VALUES (13, 'thirteen')` },
        ],
        { prepare: true },
      );
      for (const [k, v] of [
        [10, 'ten'],
        [11, 'eleven'],
        [12, 'twelve'],
        [13, 'thirteen'],
      ] as const) {
        const writetime = BigInt(await assertOnBoth('kv', 'v', 'k = ?', [k], v));
        assert.ok(writetime >= before - 1_000_000n, 'a current timestamp in microseconds');
      }
    } finally {
      await bare.shutdown();
    }
  });

  test('an explicit USING TIMESTAMP is kept', async () => {
    await client.execute(`INSERT INTO ${KS}.kv (k, v) VALUES (20, 'old') USING TIMESTAMP 12345`);
    assert.equal(await assertOnBoth('kv', 'v', 'k = ?', [20], 'old'), '12345');
  });

  test('TTLs apply on both clusters', async () => {
    await client.execute(`INSERT INTO ${KS}.kv (k, v) VALUES (?, ?) USING TTL 600`, [30, 'ttl'], {
      prepare: true,
    });
    for (const direct of [origin, target]) {
      const ttl = (await direct.execute(`SELECT TTL(v) AS t FROM ${KS}.kv WHERE k = 30`))
        .first()
        ?.get('t') as number;
      assert.ok(ttl > 500 && ttl <= 600, `ttl ${ttl}`);
    }
  });

  test('batches (logged, with prepared and simple children) reach both', async () => {
    await client.batch(
      [
        { query: `INSERT INTO ${KS}.rows (p, c, v) VALUES (?, ?, ?)`, params: [1, 1, 'a'] },
        { query: `INSERT INTO ${KS}.rows (p, c, v) VALUES (?, ?, ?)`, params: [1, 2, 'b'] },
        { query: `UPDATE ${KS}.kv SET v = ? WHERE k = ?`, params: ['batched', 2] },
      ],
      { prepare: true },
    );
    await client.batch([{ query: `INSERT INTO ${KS}.rows (p, c, v) VALUES (1, 3, 'c')` }], {
      prepare: false,
      logged: false,
    });
    for (const c of [1, 2, 3])
      await assertOnBoth('rows', 'v', 'p = 1 AND c = ?', [c], ['a', 'b', 'c'][c - 1]);
    await assertOnBoth('kv', 'v', 'k = ?', [2], 'batched');
  });

  test('lightweight transactions run on both and report [applied]', async () => {
    const first = await client.execute(`INSERT INTO ${KS}.kv (k, v) VALUES (40, 'lwt') IF NOT EXISTS`);
    assert.equal(first.wasApplied(), true);
    const second = await client.execute(
      `INSERT INTO ${KS}.kv (k, v) VALUES (?, ?) IF NOT EXISTS`,
      [40, 'again'],
      { prepare: true },
    );
    assert.equal(second.wasApplied(), false);
    const cas = await client.execute(`UPDATE ${KS}.kv SET v = 'swapped' WHERE k = 40 IF v = 'lwt'`);
    assert.equal(cas.wasApplied(), true);
    for (const direct of [origin, target]) {
      assert.equal(
        (await direct.execute(`SELECT v FROM ${KS}.kv WHERE k = 40`)).first()?.get('v'),
        'swapped',
      );
    }
  });

  test('counters are incremented once on each cluster', async () => {
    await client.execute(`UPDATE ${KS}.counts SET c = c + 1 WHERE k = 1`);
    await client.execute(
      `UPDATE ${KS}.counts SET c = c + ? WHERE k = ?`,
      [cassandra.types.Long.fromNumber(4), 1],
      { prepare: true },
    );
    await client.batch([{ query: `UPDATE ${KS}.counts SET c = c + 2 WHERE k = 1` }], { counter: true });
    for (const direct of [origin, target]) {
      assert.equal(
        String((await direct.execute(`SELECT c FROM ${KS}.counts WHERE k = 1`)).first()?.get('c')),
        '7',
      );
    }
  });

  test('SELECT with paging returns every row', async () => {
    const insert = `INSERT INTO ${KS}.rows (p, c, v) VALUES (?, ?, ?)`;
    await Promise.all(
      Array.from({ length: 230 }, (_, c) => client.execute(insert, [2, c, `v${c}`], { prepare: true })),
    );
    const seen: number[] = [];
    let pageState: string | undefined;
    let pages = 0;
    do {
      const page = await client.execute(`SELECT c FROM ${KS}.rows WHERE p = 2`, [], {
        prepare: true,
        fetchSize: 50,
        pageState,
      });
      seen.push(...page.rows.map((r) => r.get('c') as number));
      pageState = page.pageState ?? undefined;
      pages++;
    } while (pageState !== undefined);
    assert.equal(pages, 5);
    assert.deepEqual(
      seen,
      Array.from({ length: 230 }, (_, c) => c),
    );
    const streamed = await new Promise<number>((resolve, reject) => {
      let rows = 0;
      client.eachRow(
        `SELECT c FROM ${KS}.rows WHERE p = 2`,
        [],
        { prepare: false, fetchSize: 40, autoPage: true },
        () => rows++,
        (error) => (error ? reject(error) : resolve(rows)),
      );
    });
    assert.equal(streamed, 230, 'auto-paging over simple (unprepared) statements');
  });

  test('USE applies on both connections: unqualified names work, for writes and reads', async () => {
    const scoped = await proxyClient(proxy, { keyspace: KS });
    try {
      await scoped.execute(`INSERT INTO kv (k, v) VALUES (50, 'unqualified')`);
      await scoped.execute('INSERT INTO kv (k, v) VALUES (?, ?)', [51, 'prepared unqualified'], {
        prepare: true,
      });
      assert.equal((await scoped.execute('SELECT v FROM kv WHERE k = 50')).first()?.get('v'), 'unqualified');
      await assertOnBoth('kv', 'v', 'k = ?', [50], 'unqualified');
      await assertOnBoth('kv', 'v', 'k = ?', [51], 'prepared unqualified');
    } finally {
      await scoped.shutdown();
    }
  });

  test('protocol v3 works end to end (prepared write, read back from both)', async () => {
    const v3 = new cassandra.Client({
      contactPoints: [`127.0.0.1:${proxy.port}`],
      protocolOptions: { port: proxy.port, maxVersion: 3 },
      localDataCenter: 'datacenter1',
    });
    await v3.connect();
    try {
      assert.equal(
        (v3 as unknown as { controlConnection: { protocolVersion: number } }).controlConnection
          .protocolVersion,
        3,
      );
      await v3.execute(`INSERT INTO ${KS}.kv (k, v) VALUES (?, ?)`, [60, 'v3'], { prepare: true });
      assert.equal(
        (await v3.execute(`SELECT v FROM ${KS}.kv WHERE k = ?`, [60], { prepare: true })).first()?.get('v'),
        'v3',
      );
      await assertOnBoth('kv', 'v', 'k = ?', [60], 'v3');
    } finally {
      await v3.shutdown();
    }
  });

  test("DUAL_ASYNC_ON_SECONDARY: the client still gets the primary's answer", async () => {
    await origin.execute(`INSERT INTO ${KS}.kv (k, v) VALUES (61, 'origin copy')`);
    await target.execute(`INSERT INTO ${KS}.kv (k, v) VALUES (61, 'target copy')`);
    const dual = await testProxy(clusters, { ZDM_READ_MODE: 'DUAL_ASYNC_ON_SECONDARY' });
    const reader = await proxyClient(dual);
    try {
      for (let i = 0; i < 5; i++) {
        const row = await reader.execute(`SELECT v FROM ${KS}.kv WHERE k = ?`, [61], { prepare: true });
        assert.equal(row.first()?.get('v'), 'origin copy');
      }
      const metrics = await (await fetch(`http://127.0.0.1:${dual.metricsPort}/metrics`)).text();
      assert.match(metrics, /zdm_proxy_request_duration_seconds_count\{type="reads_origin"\} [5-9]/);
    } finally {
      await reader.shutdown();
      await dual.close();
    }
  });

  test('a bounded prepared cache: evicted statements are re-prepared by the driver transparently', async () => {
    const small = await testProxy(clusters, { ZDM_PREPARED_CACHE_SIZE: '1', ZDM_METRICS_ENABLED: 'false' });
    const app = await proxyClient(small);
    try {
      for (let i = 0; i < 6; i++) {
        // Two statements alternating through a cache of one: every EXECUTE after the first misses.
        await app.execute(`INSERT INTO ${KS}.kv (k, v) VALUES (?, ?)`, [70 + i, `lru${i}`], {
          prepare: true,
        });
        const row = await app.execute(`SELECT v FROM ${KS}.kv WHERE k = ?`, [70 + i], { prepare: true });
        assert.equal(row.first()?.get('v'), `lru${i}`);
      }
      assert.equal(small.prepared.size, 1);
      assert.ok(small.prepared.misses >= 8, `cache misses ${small.prepared.misses}`);
      await assertOnBoth('kv', 'v', 'k = ?', [75], 'lru5');
    } finally {
      await app.shutdown();
      await small.close();
    }
  });

  test('errors of the clusters reach the client', async () => {
    await assert.rejects(client.execute(`SELECT * FROM ${KS}.missing`), /missing/);
    await assert.rejects(
      client.execute('SELEC nonsense'),
      (error: Error & { code?: number }) => error.code === ErrorCode.SYNTAX_ERROR,
    );
  });

  test('metrics and health are served on the metrics port', async () => {
    const base = `http://127.0.0.1:${proxy.metricsPort}`;
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /zdm_proxy_request_duration_seconds_count\{type="writes"\} [1-9]/);
    assert.match(metrics, /zdm_proxy_request_duration_seconds_count\{type="reads_origin"\} [1-9]/);
    assert.match(metrics, /zdm_pscache_entries_total [1-9]/);
    assert.match(metrics, /zdm_client_connections_total [1-9]/);
    const ready = await fetch(`${base}/health/readiness`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), {
      origin: { status: 'UP' },
      target: { status: 'UP' },
      status: 'UP',
    });
    assert.equal((await fetch(`${base}/health/liveness`)).status, 200);
  });
});

describe('reads come from the primary', () => {
  before(async () => {
    await client.execute(`CREATE TABLE IF NOT EXISTS ${KS}.seeded (k int PRIMARY KEY, v text)`);
    await origin.execute(`INSERT INTO ${KS}.seeded (k, v) VALUES (1, 'from origin')`);
    await target.execute(`INSERT INTO ${KS}.seeded (k, v) VALUES (1, 'from target')`);
  });

  test('PRIMARY_CLUSTER=ORIGIN (default): simple and prepared reads answered by Origin', async () => {
    assert.equal(
      (await client.execute(`SELECT v FROM ${KS}.seeded WHERE k = 1`)).first()?.get('v'),
      'from origin',
    );
    assert.equal(
      (await client.execute(`SELECT v FROM ${KS}.seeded WHERE k = ?`, [1], { prepare: true }))
        .first()
        ?.get('v'),
      'from origin',
    );
  });

  test('PRIMARY_CLUSTER=TARGET: reads answered by Target, system tables still from Origin', async () => {
    const targetFirst = await testProxy(clusters, { ZDM_PRIMARY_CLUSTER: 'TARGET' });
    const reader = await proxyClient(targetFirst);
    try {
      assert.equal(
        (await reader.execute(`SELECT v FROM ${KS}.seeded WHERE k = 1`)).first()?.get('v'),
        'from target',
      );
      assert.equal(
        (await reader.execute(`SELECT v FROM ${KS}.seeded WHERE k = ?`, [1], { prepare: true }))
          .first()
          ?.get('v'),
        'from target',
      );
      const local = (await reader.execute('SELECT listen_address FROM system.local')).first();
      assert.equal(String(local?.get('listen_address')), '127.0.0.1');
    } finally {
      await reader.shutdown();
      await targetFirst.close();
    }
  });
});

describe('topology: several proxy instances', () => {
  test('the driver discovers exactly the instances of ZDM_PROXY_TOPOLOGY_ADDRESSES and uses them all', async () => {
    const addresses = ['127.0.0.21', '127.0.0.22', '127.0.0.23'];
    const port = 14900 + Math.floor(Math.random() * 90);
    const proxies = await Promise.all(
      addresses.map((address, index) =>
        testProxy(clusters, {
          ZDM_PROXY_LISTEN_ADDRESS: address,
          ZDM_PROXY_LISTEN_PORT: String(port),
          ZDM_PROXY_TOPOLOGY_ADDRESSES: addresses.join(','),
          ZDM_PROXY_TOPOLOGY_INDEX: String(index),
          ZDM_METRICS_ENABLED: 'false',
        }),
      ),
    );
    const multi = await proxyClient({ port }, { host: '127.0.0.22' });
    try {
      assert.deepEqual(
        multi.hosts.keys().sort(),
        addresses.map((a) => `${a}:${port}`),
      );
      const tokens = multi.hosts.values().flatMap((h) => h.tokens);
      assert.equal(new Set(tokens).size, 24, '8 distinct tokens per instance');
      for (let i = 0; i < 30; i++)
        await multi.execute(`INSERT INTO ${KS}.kv (k, v) VALUES (?, 'spread')`, [1000 + i], {
          prepare: true,
        });
      const connected = multi
        .getState()
        .getConnectedHosts()
        .map((h) => h.address)
        .sort();
      assert.deepEqual(
        connected,
        addresses.map((a) => `${a}:${port}`),
      );
      await assertOnBoth('kv', 'v', 'k = ?', [1029], 'spread');
    } finally {
      await multi.shutdown();
      await Promise.all(proxies.map((p) => p.close()));
    }
  });
});

describe('bad input on one connection', () => {
  /** A raw socket to the proxy that collects whatever comes back until the proxy closes it. */
  async function rawExchange(steps: Buffer[]): Promise<{ frames: RawFrame[]; closed: boolean }> {
    const socket = net.connect(proxy.port, '127.0.0.1');
    const framer = new Framer({ supportedVersions: [4] });
    const frames: RawFrame[] = [];
    socket.on('data', (chunk: Buffer) => frames.push(...framer.push(chunk).frames));
    await new Promise((resolve) => socket.once('connect', resolve));
    for (const [i, bytes] of steps.entries()) {
      // Each later step waits for the answer to the one before (e.g. READY after STARTUP).
      while (frames.length < i) await new Promise((resolve) => setTimeout(resolve, 20));
      socket.write(bytes);
    }
    const closed = await new Promise<boolean>((resolve) => {
      socket.once('close', () => resolve(true));
      setTimeout(() => resolve(false), 5000);
    });
    socket.destroy();
    return { frames, closed };
  }

  const startup = encodeFrame(
    { version: 4, isResponse: false, flags: 0, streamId: 1, opcode: Opcode.STARTUP },
    encodeStartup({ options: new Map([['CQL_VERSION', '3.0.0']]) }),
  );

  const cases: [string, Buffer[], RegExp][] = [
    [
      'garbage bytes',
      [Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')],
      /Invalid or unsupported protocol version \(71\)/,
    ],
    [
      'an oversized frame (> 256 MB announced)',
      [Buffer.from([0x04, 0, 0, 2, Opcode.QUERY, 0x10, 0, 0, 1])],
      /exceeds the limit of \d+ bytes \(ZDM_PROXY_\w+\)/,
    ],
    [
      'a QUERY whose body is truncated, after a good STARTUP',
      [
        startup,
        encodeFrame(
          { version: 4, isResponse: false, flags: 0, streamId: 2, opcode: Opcode.QUERY },
          Buffer.from([0, 0, 0, 50, 0x53]),
        ),
      ],
      /malformed request/,
    ],
  ];
  for (const [name, bytes, message] of cases) {
    test(`${name}: a protocol error, that connection closed, other clients unaffected`, async () => {
      const { frames, closed } = await rawExchange(bytes);
      assert.equal(closed, true, 'the proxy closed the connection');
      const error = frames.find((f) => f.header.opcode === Opcode.ERROR);
      assert.ok(error, 'an ERROR frame came back');
      const body = decodeError(error.body, 4);
      assert.equal(body.code, ErrorCode.PROTOCOL_ERROR);
      assert.match(body.message, message);
      assert.equal((await client.execute(`SELECT v FROM ${KS}.kv WHERE k = 1`)).first()?.get('v'), 'uno');
    });
  }

  test('a frame cut short then abandoned: the other clients carry on', async () => {
    const query = encodeFrame(
      { version: 4, isResponse: false, flags: 0, streamId: 3, opcode: Opcode.QUERY },
      encodeQuery({ query: 'SELECT * FROM system.local', params: queryParameters(1) }, 4),
    );
    const socket = net.connect(proxy.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(Buffer.concat([startup, query.subarray(0, 12)]));
    await new Promise((resolve) => setTimeout(resolve, 300));
    socket.destroy();
    assert.equal((await client.execute(`SELECT v FROM ${KS}.kv WHERE k = 1`)).first()?.get('v'), 'uno');
  });
});
