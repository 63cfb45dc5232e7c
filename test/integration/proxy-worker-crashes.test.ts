import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { sharedClusters } from '../helpers/clusters.js';
import {
  childPids,
  isAlive,
  type ProxyProcess,
  proxyLogLines,
  spawnProxy,
  workersStarted,
} from './proxy-support.js';

/**
 * A worker pool whose workers keep dying (each one SIGKILLed as soon as it is seen): the proxy
 * restarts them within its bound, then gives up with exit 1 and a message saying why, and no
 * worker outlives it.
 */
describe('zdm-proxy whose workers keep crashing', () => {
  let crashing: ProxyProcess | undefined;
  after(() => {
    if (crashing === undefined) return;
    const workers = childPids(crashing.pid);
    crashing.kill('SIGKILL');
    for (const pid of workers) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  });

  test('past 5 restarts in 5 minutes the proxy exits 1 saying so, and leaves no worker behind', async () => {
    const running = await spawnProxy(await sharedClusters(), {
      ZDM_PROXY_WORKERS: '2',
      ZDM_LOG_LEVEL: 'INFO',
      ZDM_LOG_FORMAT: 'json',
    });
    crashing = running;
    const killed = new Set<number>();
    let code: number | null | undefined;
    void running.exited.then((c) => {
      code = c;
    });
    // Kill a live worker, wait for the primary to log it, again, until the proxy gives up.
    while (code === undefined) {
      const victim = [...workersStarted(running).values()].find((pid) => !killed.has(pid) && isAlive(pid));
      if (victim !== undefined) {
        killed.add(victim);
        process.kill(victim, 'SIGKILL');
        const crashes = () => proxyLogLines(running).filter((l) => l.signal === 'SIGKILL').length;
        const deadline = Date.now() + 60_000;
        while (crashes() < killed.size && code === undefined && Date.now() < deadline)
          await new Promise((resolve) => setTimeout(resolve, 100));
      } else {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    const log = running.log();
    assert.equal(code, 1, log.slice(-3000));
    assert.equal(killed.size, 6);
    assert.match(
      log,
      /error \[PROXY_WORKERS_CRASHING\]: zdm-proxy workers stopped unexpectedly 6 times within 300 s/,
    );
    assert.match(log, /ZDM_PROXY_WORKERS=1/);
    assert.doesNotMatch(log, /This is a bug/);
    const left = [...workersStarted(running).values()].filter(isAlive);
    assert.deepEqual(left, [], 'worker processes outlived the proxy');
  });
});
