import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import cassandra from 'cassandra-driver';
import { type ClusterOptions, DEFAULT_PAIR, LOCAL_DATA_CENTER } from '../../src/cluster/cluster-options.js';
import { DEFAULT_SUPERUSER } from '../../src/cluster/cql-probe.js';
import { addressPrefix, findFreeLoopbackPrefix } from '../../src/cluster/free-addresses.js';
import {
  type RunningCluster,
  restartClusterAt,
  startCluster,
  stopClusterAt,
} from '../../src/cluster/local-cluster.js';
import { isPortOpen } from '../../src/cluster/node-process.js';
import { findNodeProcesses } from '../../src/cluster/stray-nodes.js';
import { createLogger } from '../../src/log/logger.js';

/**
 * Real Cassandra clusters for integration tests.
 *
 * Under `npm run test:integration` the runner starts the shared origin/target pair once and passes them
 * in ZDM_TEST_ORIGIN / ZDM_TEST_TARGET / ZDM_TEST_CLUSTER_DIR. A test file run on its own starts the
 * pair itself and stops it when the file ends.
 *
 * The machine has 2 cores, so at most ZDM_TEST_MAX_NODES (default 3) node JVMs run at once: when an
 * extra cluster would exceed that, shared clusters are stopped (target first) and started again, on
 * their data, once no extra cluster is running any more.
 */

/** Where a test connects; the shape is what cassandra-driver needs. */
export interface ClusterEndpoint {
  readonly contactPoints: readonly string[];
  readonly port: number;
  readonly localDataCenter: string;
  /** `password` when PasswordAuthenticator is on (cassandra/cassandra). */
  readonly authenticator?: 'none' | 'password';
}

export interface SharedClusters {
  readonly origin: ClusterEndpoint;
  readonly target: ClusterEndpoint;
}

const SHARED_NAMES = DEFAULT_PAIR.map((c) => c.name);
/** Extra clusters take addresses from here upward, clear of the shared pair. */
const EXTRA_FIRST_OCTET = 10;
const MAX_NODES = Number(process.env.ZDM_TEST_MAX_NODES ?? 3);

const logger = createLogger({ level: process.env.ZDM_LOG_LEVEL ?? 'warn', pretty: false });

/** The base directory of every cluster of this run (the runner's, or one made for this file). */
let baseDir = process.env.ZDM_TEST_CLUSTER_DIR;
/** The loopback /24 of this run's clusters (127.0.0 unless another run holds its addresses). */
let prefixPromise: Promise<string> | undefined;

function addressPrefixOfRun(): Promise<string> {
  const origin = process.env.ZDM_TEST_ORIGIN;
  prefixPromise ??=
    origin !== undefined
      ? Promise.resolve(addressPrefix(origin))
      : findFreeLoopbackPrefix([2, 3, ...Array.from({ length: 10 }, (_, i) => 10 + i)], [9042, 7000]);
  return prefixPromise;
}
/** Shared clusters this process started (a file run on its own); undefined when the runner owns them. */
const ownShared = new Map<string, RunningCluster>();
let sharedPromise: Promise<SharedClusters> | undefined;
/** Shared clusters stopped to make room for an extra cluster, to start again later. */
const pausedShared: string[] = [];
const extras = new Set<RunningCluster>();
/** Last octets of addresses extra clusters of this file have used (each cluster gets new ones). */
const usedOctets = new Set<number>();
let extraCount = 0;

function testBaseDir(): string {
  baseDir ??= mkdtempSync(join(tmpdir(), 'zdm-clusters-'));
  return baseDir;
}

/**
 * Directory of a shared cluster (`origin` or `target`), the runner's or this file's own, so a test
 * can stop, hang or restart it by directory in either mode.
 */
export function sharedClusterDir(name: 'origin' | 'target'): string {
  return join(testBaseDir(), name);
}

/** The shared origin (127.0.0.2) and target (127.0.0.3) clusters, single node each, no auth. */
export function sharedClusters(): Promise<SharedClusters> {
  sharedPromise ??= resolveShared();
  return sharedPromise;
}

async function resolveShared(): Promise<SharedClusters> {
  const origin = process.env.ZDM_TEST_ORIGIN;
  const target = process.env.ZDM_TEST_TARGET;
  if (origin && target) return { origin: endpointFromEnv(origin), target: endpointFromEnv(target) };
  const dir = testBaseDir();
  const started = Date.now();
  const prefix = await addressPrefixOfRun();
  for (const { name, address } of DEFAULT_PAIR) {
    const firstAddress = `${prefix}.${address.split('.')[3]}`;
    ownShared.set(name, await startCluster({ name, firstAddress, baseDir: dir }, logger));
  }
  console.log(`# shared origin/target clusters started in ${Date.now() - started} ms`);
  return {
    origin: endpoint(ownShared.get('origin')!),
    target: endpoint(ownShared.get('target')!),
  };
}

function endpointFromEnv(value: string): ClusterEndpoint {
  const [host, port] = value.split(':');
  return { contactPoints: [host!], port: Number(port ?? 9042), localDataCenter: LOCAL_DATA_CENTER };
}

function endpoint(cluster: RunningCluster): ClusterEndpoint {
  return {
    contactPoints: cluster.contactPoints,
    port: cluster.port,
    localDataCenter: cluster.localDataCenter,
    authenticator: cluster.authenticator,
  };
}

/**
 * Starts a cluster of the test's own (several nodes, password auth, outages) on addresses from 127.0.0.10
 * upward. It is stopped when the file ends at the latest; stopping it earlier (`await cluster.stop()` in
 * the suite's `after`) frees the machine sooner and lets paused shared clusters come back.
 */
export async function startExtraCluster(
  options: Omit<ClusterOptions, 'name' | 'baseDir' | 'detached'> & { readonly name?: string },
): Promise<RunningCluster> {
  const nodes = options.nodes ?? 1;
  if (nodes > MAX_NODES)
    throw new Error(`an extra cluster of ${nodes} nodes exceeds ZDM_TEST_MAX_NODES=${MAX_NODES}`);
  const firstAddress = options.firstAddress ?? (await allocateAddresses(nodes));
  reserve(firstAddress, nodes);
  extraCount++;
  const name = options.name ?? `extra${extraCount}-${firstAddress.split('.').at(-1)}`;
  await makeRoomFor(nodes);
  // Fresh data every time: a directory reused from another cluster would carry its peers and schema.
  const cluster = await startCluster(
    { reset: true, ...options, name, firstAddress, baseDir: testBaseDir() },
    logger,
  );
  extras.add(cluster);
  // Stopping the last extra cluster brings back what was paused for it.
  return {
    name: cluster.name,
    dir: cluster.dir,
    contactPoints: cluster.contactPoints,
    port: cluster.port,
    localDataCenter: cluster.localDataCenter,
    authenticator: cluster.authenticator,
    get nodes() {
      return cluster.nodes;
    },
    stopNode: (index) => cluster.stopNode(index),
    startNode: (index) => cluster.startNode(index),
    stop: async () => {
      await cluster.stop();
      extras.delete(cluster);
      if (extras.size === 0 && !tearingDown) await resumeShared();
    },
  };
}

/** `count` consecutive loopback addresses from <prefix>.10 upward, unused in this file and free. */
async function allocateAddresses(count: number): Promise<string> {
  const prefix = await addressPrefixOfRun();
  for (let first = EXTRA_FIRST_OCTET; first + count - 1 <= 250; first++) {
    const octets = Array.from({ length: count }, (_, i) => first + i);
    if (octets.some((o) => usedOctets.has(o))) continue;
    // A free address refuses at once; the wait only matters for a busy one, which a loaded machine
    // may be slow to answer, so it is generous rather than racing a short timer.
    const busy = await Promise.all(octets.map((o) => isPortOpen(`${prefix}.${o}`, 9042, 3000)));
    if (!busy.some(Boolean)) return `${prefix}.${first}`;
  }
  throw new Error('ran out of loopback addresses for extra clusters');
}

function reserve(firstAddress: string, count: number): void {
  const first = Number(firstAddress.split('.').at(-1));
  for (let i = 0; i < count; i++) usedOctets.add(first + i);
}

/** Stops shared clusters (target, then origin) until `nodes` more JVMs fit under MAX_NODES. */
async function makeRoomFor(nodes: number): Promise<void> {
  const dir = testBaseDir();
  for (const name of [...SHARED_NAMES].reverse()) {
    if (findNodeProcesses(dir).length + nodes <= MAX_NODES) return;
    const clusterDir = join(dir, name);
    if (findNodeProcesses(clusterDir).length === 0) continue;
    const own = ownShared.get(name);
    if (own !== undefined) await own.stop();
    else await stopClusterAt(clusterDir, logger);
    pausedShared.push(name);
    console.log(`# paused shared cluster ${name} to keep at most ${MAX_NODES} Cassandra JVMs`);
  }
  const running = findNodeProcesses(dir).length;
  if (running + nodes > MAX_NODES) {
    throw new Error(
      `${running} node JVMs still run; ${nodes} more would exceed ZDM_TEST_MAX_NODES=${MAX_NODES}`,
    );
  }
}

async function resumeShared(): Promise<void> {
  while (pausedShared.length > 0) {
    const name = pausedShared.pop()!;
    // Runner-owned clusters must outlive this test process (later files use them): start them detached;
    // the runner stops them by directory and sweeps strays at the end.
    const owned = ownShared.has(name);
    const cluster = await restartClusterAt(join(testBaseDir(), name), logger, { detached: !owned });
    if (owned) ownShared.set(name, cluster);
    console.log(`# resumed shared cluster ${name}`);
  }
}

let tearingDown = false;

// Registered when the module loads, so it runs once at the end of the test file that imports it.
after(async () => {
  tearingDown = true;
  await Promise.all([...extras].map((c) => c.stop()));
  extras.clear();
  if (ownShared.size === 0) {
    await resumeShared();
  } else {
    pausedShared.length = 0;
    await Promise.all([...ownShared.values()].map((c) => c.stop()));
  }
  // A directory this file made is its own to delete (the runner deletes its own); keep it for debugging
  // with ZDM_TEST_KEEP_CLUSTERS=1.
  if (baseDir !== undefined && process.env.ZDM_TEST_CLUSTER_DIR === undefined) {
    if (process.env.ZDM_TEST_KEEP_CLUSTERS) console.log(`# cluster directories kept in ${baseDir}`);
    else rmSync(baseDir, { recursive: true, force: true });
  }
});

/**
 * A connected cassandra-driver client for `cluster`; the test must `shutdown()` it. Password clusters
 * get the default superuser unless other credentials are given.
 */
export async function cqlClient(
  cluster: ClusterEndpoint,
  options: { readonly keyspace?: string; readonly credentials?: { username: string; password: string } } = {},
): Promise<cassandra.Client> {
  const credentials =
    options.credentials ?? (cluster.authenticator === 'password' ? DEFAULT_SUPERUSER : undefined);
  const client = new cassandra.Client({
    contactPoints: [...cluster.contactPoints],
    protocolOptions: { port: cluster.port },
    localDataCenter: cluster.localDataCenter,
    ...(options.keyspace === undefined ? {} : { keyspace: options.keyspace }),
    ...(credentials === undefined
      ? {}
      : {
          authProvider: new cassandra.auth.PlainTextAuthProvider(credentials.username, credentials.password),
        }),
  });
  try {
    await client.connect();
  } catch (error) {
    await client.shutdown().catch(() => undefined);
    throw error;
  }
  return client;
}
