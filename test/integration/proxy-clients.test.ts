import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type cassandra from 'cassandra-driver';
import { cqlClient, type SharedClusters, sharedClusters } from '../helpers/clusters.js';
import { freshKeyspace } from '../helpers/keyspace.js';

/**
 * The seeds/003 quick start, end to end: the real `zdm-proxy start` CLI configured by ZDM_*
 * variables, and cqlsh and the Python driver (from PyPI, in .zdm/venv) as clients.
 */
const run = promisify(execFile);
const VENV = join(process.cwd(), '.zdm', 'venv', 'bin');
const CQLSH = join(VENV, 'cqlsh');
const PYTHON = join(VENV, 'python');
const noPython =
  !existsSync(CQLSH) &&
  'cqlsh/cassandra-driver not installed: python3 -m venv .zdm/venv && .zdm/venv/bin/pip install cqlsh cassandra-driver';
const PORT = 14600 + Math.floor(Math.random() * 100);

let clusters: SharedClusters;
let origin: cassandra.Client;
let target: cassandra.Client;
let proxy: ChildProcess;
let proxyLog = '';

before(async () => {
  clusters = await sharedClusters();
  origin = await cqlClient(clusters.origin);
  target = await cqlClient(clusters.target);
  for (const direct of [origin, target]) {
    await freshKeyspace(direct, 'test');
    await direct.execute('CREATE TABLE test.keyvalue (key int PRIMARY KEY, value text)');
  }
  proxy = spawn(process.execPath, ['--import', 'tsx', 'src/cli/zdm-proxy.ts', 'start'], {
    env: {
      ...process.env,
      ZDM_ORIGIN_CONTACT_POINTS: clusters.origin.contactPoints.join(','),
      ZDM_TARGET_CONTACT_POINTS: clusters.target.contactPoints.join(','),
      ZDM_PROXY_LISTEN_ADDRESS: '127.0.0.1',
      ZDM_PROXY_LISTEN_PORT: String(PORT),
      ZDM_METRICS_PORT: String(PORT + 1),
      ZDM_LOG_LEVEL: 'INFO',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    proxy.stderr!.on('data', (chunk: Buffer) => {
      proxyLog += chunk.toString();
      if (proxyLog.includes('zdm-proxy listening')) resolve();
    });
    proxy.once('exit', (code) => reject(new Error(`zdm-proxy exited with ${code}:\n${proxyLog}`)));
  });
});

after(async () => {
  if (proxy !== undefined && proxy.exitCode === null) {
    const exited = new Promise((resolve) => proxy.once('exit', resolve));
    proxy.kill('SIGTERM');
    await exited;
  }
  await origin?.shutdown();
  await target?.shutdown();
});

async function bothClusters(): Promise<Record<string, string>[]> {
  return Promise.all(
    [origin, target].map(async (c) =>
      Object.fromEntries(
        (await c.execute('SELECT key, value FROM test.keyvalue')).rows.map((r) => [
          String(r.get('key')),
          r.get('value') as string,
        ]),
      ),
    ),
  );
}

describe('zdm-proxy start (the CLI)', () => {
  test('logs its effective configuration without secrets', () => {
    assert.match(proxyLog, /effective configuration/);
    assert.match(proxyLog, /"proxy_listen_port":/);
  });
});

describe('cqlsh through the proxy (seeds/003 quick start)', { skip: noPython }, () => {
  test('INSERT, SELECT, UPDATE, DELETE', async () => {
    const cql = [
      "INSERT INTO test.keyvalue (key, value) VALUES (1, 'ABC');",
      "INSERT INTO test.keyvalue (key, value) VALUES (2, 'DEF');",
      'SELECT * FROM test.keyvalue;',
      "UPDATE test.keyvalue SET value='GYEKJF' WHERE key = 1;",
      'DELETE FROM test.keyvalue WHERE key = 2;',
      'SELECT * FROM test.keyvalue;',
    ].join(' ');
    const { stdout } = await run(CQLSH, ['127.0.0.1', String(PORT), '-e', cql], { timeout: 60_000 });
    assert.match(stdout, /1 \|\s+ABC/);
    assert.match(stdout, /2 \|\s+DEF/);
    assert.match(stdout, /1 \|\s+GYEKJF/);
    assert.match(stdout, /\(1 rows\)/);
    assert.deepEqual(await bothClusters(), [{ 1: 'GYEKJF' }, { 1: 'GYEKJF' }]);
  });
});

describe('the Python driver through the proxy', { skip: noPython }, () => {
  test('connects (falling back from v5), discovers only the proxy, runs the quick start', async () => {
    const script = `
import sys
from cassandra.cluster import Cluster
cluster = Cluster(['127.0.0.1'], port=${PORT})
session = cluster.connect()
print('version', cluster.protocol_version)
print('hosts', sorted(str(h.endpoint) for h in cluster.metadata.all_hosts()))
session.execute("INSERT INTO test.keyvalue (key, value) VALUES (3, 'PY')")
ps = session.prepare("INSERT INTO test.keyvalue (key, value) VALUES (?, ?)")
session.execute(ps, (4, 'PREPARED'))
session.execute("UPDATE test.keyvalue SET value = %s WHERE key = %s", ('PY2', 3))
session.execute("DELETE FROM test.keyvalue WHERE key = 1")
for row in session.execute("SELECT key, value FROM test.keyvalue"):
    print('row', row.key, row.value)
cluster.shutdown()
`;
    const { stdout } = await run(PYTHON, ['-c', script], { timeout: 60_000 });
    assert.match(stdout, /version 4/);
    assert.match(stdout, new RegExp(`hosts \\['127\\.0\\.0\\.1:${PORT}'\\]`));
    assert.match(stdout, /row 3 PY2/);
    assert.match(stdout, /row 4 PREPARED/);
    assert.deepEqual(await bothClusters(), [
      { 3: 'PY2', 4: 'PREPARED' },
      { 3: 'PY2', 4: 'PREPARED' },
    ]);
  });
});
