/**
 * `npx tsx bench/diff-clusters.ts start|stop [dir]`: a detached Origin/Target pair on 127.0.0.60/61
 * for the diff benchmark (and for iterating on diff tests while other runs hold 127.0.0.2/3).
 * Point the tests at it with ZDM_TEST_ORIGIN=127.0.0.60:9042 ZDM_TEST_TARGET=127.0.0.61:9042.
 */
import { join } from 'node:path';
import { startCluster, stopClusterAt } from '../src/cluster/local-cluster.js';
import { createLogger } from '../src/log/logger.js';

const logger = createLogger({ level: 'info', pretty: false });
const [action = 'start', baseDir = '/tmp/zdm-diff-bench'] = process.argv.slice(2);
const pair = [
  { name: 'diff-origin', firstAddress: '127.0.0.60' },
  { name: 'diff-target', firstAddress: '127.0.0.61' },
];

if (action === 'start') {
  for (const c of pair) {
    const started = Date.now();
    await startCluster({ ...c, baseDir, heapMb: 768, detached: true }, logger);
    console.log(`${c.name} up on ${c.firstAddress} in ${Date.now() - started} ms`);
  }
} else {
  for (const c of pair)
    console.log(`${c.name}: stopped ${(await stopClusterAt(join(baseDir, c.name), logger)).join(', ')}`);
}
