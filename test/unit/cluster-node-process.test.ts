import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { after, describe, test } from 'node:test';
import { clusterMarkerArg } from '../../src/cluster/node-config.js';
import {
  isProcessAlive,
  listensOn,
  readCmdline,
  readRssMb,
  terminateProcess,
} from '../../src/cluster/node-process.js';
import { findNodeProcesses, sweepStrayNodes } from '../../src/cluster/stray-nodes.js';
import { silentLogger } from '../../src/log/logger.js';

/** A child node process standing in for a JVM: same /proc footprint, milliseconds to start. */
function fakeNode(extraArgs: string[], ignoreSigterm = false) {
  const code = ignoreSigterm
    ? "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000); process.send?.('ready')"
    : "setInterval(() => {}, 1000); process.send?.('ready')";
  const child = spawn(process.execPath, ['-e', code, '--', ...extraArgs], {
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
  });
  children.push(child.pid!);
  return child;
}
const children: number[] = [];
after(() => {
  for (const pid of children) if (isProcessAlive(pid)) process.kill(pid, 'SIGKILL');
});

describe('process probes', () => {
  test('this process is alive, has a command line and resident memory', () => {
    assert.equal(isProcessAlive(process.pid), true);
    assert.ok(readCmdline(process.pid)?.[0]?.includes('node'));
    const rss = readRssMb(process.pid);
    assert.ok(rss !== undefined && rss > 10, `rss ${rss}`);
  });

  test('a pid that does not exist', () => {
    assert.equal(isProcessAlive(2 ** 22 + 7), false);
    assert.equal(readCmdline(2 ** 22 + 7), undefined);
    assert.equal(readRssMb(2 ** 22 + 7), undefined);
  });

  test('listensOn tells our listening socket from nobody and from another process', async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    try {
      assert.equal(listensOn(process.pid, '127.0.0.1', port), true);
      const other = fakeNode([]);
      await once(other, 'message');
      assert.equal(listensOn(other.pid!, '127.0.0.1', port), false);
    } finally {
      server.close();
    }
    await once(server, 'close');
    assert.equal(listensOn(process.pid, '127.0.0.1', port), undefined);
  });
});

describe('terminateProcess', () => {
  test('SIGTERM is enough for a well-behaved process', async () => {
    const child = fakeNode([]);
    await once(child, 'message');
    assert.equal(await terminateProcess(child.pid!, 5_000), 'terminated');
    assert.equal(isProcessAlive(child.pid!), false);
  });

  test('SIGKILL after the grace period for one that ignores SIGTERM', async () => {
    const child = fakeNode([], true);
    await once(child, 'message');
    const started = Date.now();
    assert.equal(await terminateProcess(child.pid!, 300), 'killed');
    assert.ok(Date.now() - started >= 300);
    assert.equal(isProcessAlive(child.pid!), false);
  });

  test('a process already gone', async () => {
    const child = fakeNode([]);
    await once(child, 'message');
    child.kill('SIGKILL');
    await once(child, 'exit');
    assert.equal(await terminateProcess(child.pid!, 100), 'already-gone');
  });
});

describe('stray sweep', () => {
  test('finds and stops only processes whose marker is under the base dir', async () => {
    const base = `/tmp/zdm-sweep-test-${process.pid}`;
    const ours = fakeNode([clusterMarkerArg(`${base}/origin`)]);
    const elsewhere = fakeNode([clusterMarkerArg(`${base}-other/origin`)]);
    await Promise.all([once(ours, 'message'), once(elsewhere, 'message')]);

    assert.deepEqual(findNodeProcesses(base), [{ pid: ours.pid, clusterDir: `${base}/origin` }]);
    assert.deepEqual(await sweepStrayNodes(base, silentLogger(), 2_000), [ours.pid]);
    assert.equal(isProcessAlive(ours.pid!), false);
    assert.equal(isProcessAlive(elsewhere.pid!), true);
    assert.deepEqual(findNodeProcesses(base), []);
  });
});
