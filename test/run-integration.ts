/**
 * `npm run test:integration [files...]`: starts the shared origin (127.0.0.2) and target (127.0.0.3)
 * Cassandra clusters once, runs the integration tests against them one file at a time (clusters are
 * shared state), then stops every node it or the tests started, even on failure or Ctrl-C.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCassandraLib } from '../src/cluster/cassandra-dist.js';
import { DEFAULT_PAIR } from '../src/cluster/cluster-options.js';
import { addSignalCleanup } from '../src/cluster/exit-guard.js';
import { findFreeLoopbackPrefix } from '../src/cluster/free-addresses.js';
import { startCluster, stopClusterAt } from '../src/cluster/local-cluster.js';
import { waitForExit } from '../src/cluster/node-process.js';
import { findNodeProcesses, sweepStrayNodes } from '../src/cluster/stray-nodes.js';
import { createLogger } from '../src/log/logger.js';

const logger = createLogger();
const baseDir = mkdtempSync(join(tmpdir(), 'zdm-it-'));
// Other runs (or a developer's `zdm cluster start`) may hold 127.0.0.2/3: then take the same last octets
// in a free 127.0.N. Extra clusters of the tests use .10 upward in the same /24.
const prefix =
  process.env.ZDM_TEST_ADDRESS_PREFIX ??
  (await findFreeLoopbackPrefix([2, 3, ...Array.from({ length: 10 }, (_, i) => 10 + i)], [9042, 7000]));
// Not imported from test/helpers: that module registers node:test hooks, which a plain script must not.
const shared = DEFAULT_PAIR.map(({ name, address }) => ({
  name,
  address: `${prefix}.${address.split('.')[3]}`,
}));
const [origin, target] = shared as [(typeof shared)[0], (typeof shared)[0]];
let testProcess: ChildProcess | undefined;

async function cleanUp(): Promise<void> {
  // By directory, not by handle: a test may have stopped and restarted a shared cluster (new pids).
  for (const { name } of shared) await stopClusterAt(join(baseDir, name), logger);
  await sweepStrayNodes(baseDir, logger);
}

// A run cut short by a signal must not look like a test failure: exit 130/143 like the exit guard does.
let signalExit: number | undefined;
process.once('SIGINT', () => {
  signalExit = 130;
});
process.once('SIGTERM', () => {
  signalExit = 143;
});

// Ctrl-C reaches the test process too (same process group); SIGTERM to this pid alone is passed on.
addSignalCleanup(async () => {
  if (testProcess?.pid !== undefined && testProcess.exitCode === null) {
    testProcess.kill('SIGTERM');
    await waitForExit(testProcess.pid, 20_000);
  }
  await cleanUp();
});

function testFiles(): string[] {
  const given = process.argv.slice(2);
  if (given.length > 0) return given;
  const dir = join('test', 'integration');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.test.ts'))
    .sort()
    .map((f) => join(dir, f));
}

function runTests(files: string[]): Promise<number> {
  const env = {
    ...process.env,
    ZDM_TEST_ORIGIN: `${origin.address}:9042`,
    ZDM_TEST_TARGET: `${target.address}:9042`,
    ZDM_TEST_CLUSTER_DIR: baseDir,
  };
  // --test-force-exit: once a file's tests are over, a handle a test left open (a driver reconnecting
  // after an outage, a child's pipe) must not hold the whole run until CI's timeout; a test that
  // leaks still fails on its own assertions, never on the run's clock.
  const args = [
    '--import',
    'tsx',
    '--test',
    '--test-force-exit',
    '--test-reporter=spec',
    '--test-concurrency=1',
    ...files,
  ];
  return new Promise((resolve, reject) => {
    testProcess = spawn(process.execPath, args, { env, stdio: 'inherit' });
    testProcess.once('error', reject);
    testProcess.once('exit', (code, signal) =>
      resolve(code ?? (signal === null ? 1 : 128 + signalNumber(signal))),
    );
  });
}

function signalNumber(signal: NodeJS.Signals): number {
  return signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : signal === 'SIGKILL' ? 9 : 0;
}

let exitCode = 1;
try {
  const files = testFiles();
  await ensureCassandraLib(undefined, logger);
  const started = Date.now();
  for (const { name, address } of shared)
    await startCluster({ name, firstAddress: address, baseDir }, logger);
  console.log(`# origin ${origin.address} and target ${target.address} up in ${Date.now() - started} ms`);
  exitCode = await runTests(files);
} catch (error) {
  logger.error({ err: error }, 'integration run failed before or while running tests');
} finally {
  await cleanUp();
  const left = findNodeProcesses(baseDir);
  if (left.length > 0) {
    console.log(`# node JVMs still alive after clean-up: ${left.map((p) => p.pid).join(', ')}`);
    exitCode = exitCode === 0 ? 1 : exitCode;
  }
  if (exitCode === 0) rmSync(baseDir, { recursive: true, force: true });
  else console.log(`# cluster directories and logs kept in ${baseDir}`);
}
process.exit(signalExit ?? exitCode);
