import { mkdir, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { OperatorError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { DEFAULT_CASSANDRA_VERSION, ensureCassandraLib } from './cassandra-dist.js';
import { type ClusterManifest, readManifest, writeManifest } from './cluster-manifest.js';
import {
  type ClusterOptions,
  LOCAL_DATA_CENTER,
  type ResolvedClusterOptions,
  resolveClusterOptions,
} from './cluster-options.js';
import { DEFAULT_SUPERUSER, peerAddresses } from './cql-probe.js';
import { untrackNode } from './exit-guard.js';
import { type NodeConfigInput, nodeDirName, nodeLayout } from './node-config.js';
import { isProcessAlive, terminateProcess } from './node-process.js';
import { startNodeProcess } from './node-start.js';
import { findNodeProcesses } from './stray-nodes.js';

export {
  type ClusterStatus,
  clusterStatusAt,
  listClusters,
  type NodeStatus,
  stopClusterAt,
} from './cluster-control.js';

/** One node of a running cluster, as last started. */
export interface ClusterNode {
  readonly address: string;
  /** Pid of the node's JVM; undefined while the node is stopped. */
  readonly pid: number | undefined;
  /** From spawn to CQL answering, in milliseconds (of the latest start). */
  readonly startupMs: number;
  /** Resident memory in MiB when CQL started answering. */
  readonly rssMb: number | undefined;
}

export interface RunningCluster {
  readonly name: string;
  /** The cluster's directory (config, data, logs, pidfiles of all nodes). */
  readonly dir: string;
  /** One address per node, first node (the seed) first. */
  readonly contactPoints: readonly string[];
  /** Native (CQL) port, the same on every node. */
  readonly port: number;
  readonly localDataCenter: string;
  readonly authenticator: 'none' | 'password';
  /** A snapshot of the nodes; read it again after stopNode/startNode. */
  readonly nodes: readonly ClusterNode[];
  /** Stops every node (SIGTERM, SIGKILL after the grace period); data stays on disk. */
  stop(): Promise<void>;
  /** Stops node `index` (0-based) to simulate an outage; its data stays. */
  stopNode(index: number): Promise<void>;
  /** Starts node `index` again on its existing data; resolves when it answers CQL. */
  startNode(index: number): Promise<void>;
}

/**
 * Starts a local Apache Cassandra cluster: one JVM per node on consecutive loopback addresses, the first
 * node the seed. Nodes start one after another (concurrent joins conflict) and the promise resolves when
 * every node answers CQL and, for several nodes, every node sees all others in system.peers.
 */
export async function startCluster(options: ClusterOptions, logger: Logger): Promise<RunningCluster> {
  const resolved = resolveClusterOptions(options);
  const libDir =
    options.libDir ??
    (await ensureCassandraLib(options.cassandraVersion ?? DEFAULT_CASSANDRA_VERSION, logger));
  const log = logger.child({ cluster: resolved.name });

  await refuseIfRunning(resolved.dir);
  if (resolved.reset) await rm(resolved.dir, { recursive: true, force: true });
  await mkdir(resolved.dir, { recursive: true });
  const manifest: ClusterManifest = {
    name: resolved.name,
    addresses: resolved.addresses,
    nativePort: resolved.nativePort,
    storagePort: resolved.storagePort,
    heapMb: resolved.heapMb,
    authenticator: resolved.authenticator,
    numTokens: resolved.numTokens,
    libDir,
    allowOlderProtocols: resolved.allowOlderProtocols,
  };
  await writeManifest(resolved.dir, manifest);

  const cluster = new LocalCluster(resolved, libDir, log);
  const started = Date.now();
  try {
    for (let i = 0; i < resolved.addresses.length; i++) await cluster.startNode(i);
    if (resolved.addresses.length > 1) await cluster.waitForFullPeers();
  } catch (error) {
    // Never leave half a cluster running: the caller gets the error, not JVMs to clean up.
    await cluster.stop().catch(() => undefined);
    throw error;
  }
  log.info(
    { contactPoints: resolved.addresses, port: resolved.nativePort, ms: Date.now() - started },
    'cluster up',
  );
  return cluster;
}

/** Starts again the cluster whose directory is `clusterDir`, with the options it was created with. */
export async function restartClusterAt(
  clusterDir: string,
  logger: Logger,
  overrides: Pick<ClusterOptions, 'detached' | 'startTimeoutMs' | 'stopGraceMs'> = {},
): Promise<RunningCluster> {
  const manifest = await readManifest(clusterDir);
  return startCluster(
    {
      name: manifest.name,
      baseDir: dirname(clusterDir),
      nodes: manifest.addresses.length,
      firstAddress: manifest.addresses[0],
      nativePort: manifest.nativePort,
      storagePort: manifest.storagePort,
      heapMb: manifest.heapMb,
      authenticator: manifest.authenticator,
      numTokens: manifest.numTokens,
      libDir: manifest.libDir,
      allowOlderProtocols: manifest.allowOlderProtocols ?? true,
      ...overrides,
    },
    logger,
  );
}

class LocalCluster implements RunningCluster {
  readonly localDataCenter = LOCAL_DATA_CENTER;
  readonly #nodes: Array<{
    address: string;
    pid: number | undefined;
    startupMs: number;
    rssMb: number | undefined;
  }>;

  constructor(
    readonly options: ResolvedClusterOptions,
    readonly libDir: string,
    readonly log: Logger,
  ) {
    this.#nodes = options.addresses.map((address) => ({
      address,
      pid: undefined,
      startupMs: 0,
      rssMb: undefined,
    }));
  }

  get name(): string {
    return this.options.name;
  }
  get dir(): string {
    return this.options.dir;
  }
  get contactPoints(): readonly string[] {
    return this.options.addresses;
  }
  get port(): number {
    return this.options.nativePort;
  }
  get authenticator(): 'none' | 'password' {
    return this.options.authenticator;
  }
  get nodes(): readonly ClusterNode[] {
    return this.#nodes.map((node) => ({ ...node }));
  }

  async stop(): Promise<void> {
    await Promise.all(this.#nodes.map((_, i) => this.stopNode(i)));
  }

  async stopNode(index: number): Promise<void> {
    const node = this.#node(index);
    if (node.pid === undefined) return;
    const pid = node.pid;
    const outcome = await terminateProcess(pid, this.options.stopGraceMs);
    untrackNode(pid);
    node.pid = undefined;
    await rm(nodeLayout(this.#nodeDir(index)).pidFile, { force: true });
    this.log.info({ node: node.address, pid, outcome }, 'node stopped');
  }

  async startNode(index: number): Promise<void> {
    const node = this.#node(index);
    if (node.pid !== undefined && isProcessAlive(node.pid)) return;
    const input: NodeConfigInput = {
      clusterName: this.options.name,
      clusterDir: this.options.dir,
      nodeDir: this.#nodeDir(index),
      address: node.address,
      seeds: [this.options.addresses[0]!],
      nativePort: this.options.nativePort,
      storagePort: this.options.storagePort,
      numTokens: this.options.numTokens,
      authenticator: this.options.authenticator,
      heapMb: this.options.heapMb,
      libDir: this.libDir,
      allowOlderProtocols: this.options.allowOlderProtocols,
    };
    const result = await startNodeProcess(input, this.options, this.log);
    Object.assign(node, result);
  }

  /** Gossip reaches system.peers a little after a joining node serves CQL; tests expect it complete. */
  async waitForFullPeers(): Promise<void> {
    const deadline = Date.now() + 60_000;
    const credentials = this.options.authenticator === 'password' ? DEFAULT_SUPERUSER : undefined;
    for (const node of this.#nodes) {
      const expected = this.options.addresses.filter((a) => a !== node.address).sort();
      for (;;) {
        const peers = await peerAddresses(node.address, this.port, credentials).catch((): string[] => []);
        if (expected.every((a) => peers.includes(a))) break;
        if (Date.now() > deadline) {
          throw new OperatorError(
            'CLUSTER_PEERS_INCOMPLETE',
            `node ${node.address} of cluster ${this.name} sees peers [${peers.join(', ')}], expected [${expected.join(', ')}]`,
            `look at ${join(this.dir, 'node*', 'logs', 'system.log')}`,
          );
        }
        await sleep(500);
      }
    }
  }

  #node(index: number) {
    const node = this.#nodes[index];
    if (node === undefined) throw new RangeError(`cluster ${this.name} has no node ${index}`);
    return node;
  }

  #nodeDir(index: number): string {
    return join(this.options.dir, nodeDirName(index));
  }
}

/** Refuses to start over live nodes: two JVMs on one data directory corrupt it. */
async function refuseIfRunning(clusterDir: string): Promise<void> {
  const live = findNodeProcesses(clusterDir).filter((p) => p.clusterDir === clusterDir);
  if (live.length > 0) {
    throw new OperatorError(
      'CLUSTER_ALREADY_RUNNING',
      `cluster ${basename(clusterDir)} is already running (pids ${live.map((p) => p.pid).join(', ')})`,
      'stop it first (`zdm cluster stop`)',
    );
  }
}
