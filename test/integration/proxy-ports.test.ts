import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { proxyEnv } from '../helpers/cli.js';
import { sharedClusters } from '../helpers/clusters.js';

const ZDM_PROXY = fileURLToPath(new URL('../../src/cli/zdm-proxy.ts', import.meta.url));

/** A port taken by another process is the operator's to fix: a clear message and exit 2, never a hang. */
describe('zdm-proxy start with its metrics port taken', () => {
  let holder: Server;
  let port: number;

  before(async () => {
    holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    port = (holder.address() as { port: number }).port;
  });
  after(() => new Promise<void>((resolve) => holder.close(() => resolve())));

  test('exits 2 naming the port and the setting to change', { timeout: 180_000 }, async () => {
    const { origin, target } = await sharedClusters();
    const child = spawn(process.execPath, ['--import', 'tsx', ZDM_PROXY, 'start', '--log-format', 'json'], {
      env: proxyEnv(origin, target, { ZDM_METRICS_PORT: String(port) }),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    // Bounded by the test's timeout: the proxy connects to both clusters first (slow on a busy machine).
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    assert.equal(code, 2, stderr);
    assert.match(stderr, /error \[METRICS_LISTEN_FAILED\]: Cannot serve metrics on 127\.0\.0\.1:\d+/);
    assert.match(stderr, /ZDM_METRICS_PORT/);
    assert.doesNotMatch(stderr, /This is a bug/);
  });
});
