import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { OperatorError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { DEFAULT_CASSANDRA_VERSION, ensureCassandraLib } from './cassandra-dist.js';
import {
  type ClusterOptions,
  LOCAL_DATA_CENTER,
  type ResolvedClusterOptions,
  resolveClusterOptions,
} from './cluster-options.js';
import { DEFAULT_SUPERUSER, peerAddresses, releaseVersion } from './cql-probe.js';
import { trackNode, untrackNode } from './exit-guard.js';
import {
  cassandraYaml,
  clusterMarkerArg,
  logbackXml,
  type NodeConfigInput,
  nodeDirName,
  nodeJvmArgs,
  nodeLayout,
} from './node-config.js';
import {
  isPortOpen,
  isProcessAlive,
  listensOn,
  readCmdline,
  readPidFile,
  readRssMb,
  terminateProcess,
} from './node-process.js';
import { findNodeProcesses } from './stray-nodes.js';

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

/** What `cluster.json` in a cluster's directory holds: enough to find, stop or restart it elsewhere. */
interface ClusterManifest {
  readonly name: string;
  readonly addresses: readonly string[];
  readonly nativePort: number;
  readonly storagePort: number;
  readonly heapMb: number;
  readonly authenticator: 'none' | 'password';
  readonly numTokens: number;
  readonly libDir: string;
}

const MANIFEST_FILE = 'cluster.json';
/** Lines of system.log quoted when a node dies during start. */
const LOG_LINES_ON_FAILURE = 25;

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
  };
  await writeFile(join(resolved.dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);

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

/** Writes a node's configuration, spawns its JVM and waits until it answers CQL. */
async function startNodeProcess(
  input: NodeConfigInput,
  options: ResolvedClusterOptions,
  log: Logger,
): Promise<{ pid: number; startupMs: number; rssMb: number | undefined }> {
  const layout = nodeLayout(input.nodeDir);
  for (const port of [input.nativePort, input.storagePort]) {
    // Without this check a node of another cluster on the same address would answer our readiness probe.
    if (await isPortOpen(input.address, port, 500)) {
      throw new OperatorError(
        'CLUSTER_PORT_IN_USE',
        `${input.address}:${port} is already in use, so node ${input.address} of cluster ${input.clusterName} cannot start`,
        'stop whatever listens there (`zdm cluster status` lists local clusters) or choose another --address',
      );
    }
  }
  for (const dir of [layout.logDir, layout.tmpDir, dirname(layout.yamlFile)])
    await mkdir(dir, { recursive: true });
  await writeFile(layout.yamlFile, cassandraYaml(input));
  await writeFile(layout.logbackFile, logbackXml(layout.systemLog));
  // Only what this start appends to system.log is quoted on failure, not an earlier run's lines.
  const logOffset = await stat(layout.systemLog).then(
    (s) => s.size,
    () => 0,
  );

  const started = Date.now();
  const out = openSync(layout.stdoutLog, 'a');
  // Own process group: a Ctrl-C in the terminal reaches our handlers, which stop nodes in order, and a
  // detached node is not hit by signals meant for the CLI that started it.
  const child = spawn('java', nodeJvmArgs(input), {
    detached: true,
    stdio: ['ignore', out, out],
    cwd: input.nodeDir,
  });
  closeSync(out);
  let exit: string | undefined;
  child.once('exit', (code, sig) => {
    exit = sig === null ? `exit code ${code}` : `signal ${sig}`;
  });
  const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
  spawnError.catch(() => undefined);
  // The node must not keep this process alive: the exit guard or the caller decides its fate.
  child.unref();
  const pid = child.pid;
  if (pid === undefined) await spawnError;
  const nodePid = pid!;
  if (!options.detached) trackNode(nodePid, clusterMarkerArg(input.clusterDir));
  await writeFile(layout.pidFile, `${nodePid}\n`);
  log.debug({ node: input.address, pid: nodePid }, 'node spawned');

  const credentials = input.authenticator === 'password' ? DEFAULT_SUPERUSER : undefined;
  const deadline = started + options.startTimeoutMs;
  try {
    for (;;) {
      if (exit !== undefined || !isProcessAlive(nodePid)) {
        const why = exit ?? 'exited';
        const tail = await tailFrom(layout.systemLog, logOffset, LOG_LINES_ON_FAILURE);
        const stdout = await tailFrom(layout.stdoutLog, 0, 10);
        throw new OperatorError(
          'CLUSTER_NODE_DIED',
          `node ${input.address} of cluster ${input.clusterName} died during start (${why}). ` +
            `Last lines of ${layout.systemLog}:\n${tail || '(empty)'}` +
            (stdout ? `\nLast lines of ${layout.stdoutLog}:\n${stdout}` : ''),
          'fix the cause above; `--reset` (or deleting the cluster directory) starts from empty data',
        );
      }
      if (Date.now() > deadline) {
        throw new OperatorError(
          'CLUSTER_NODE_START_TIMEOUT',
          `node ${input.address} of cluster ${input.clusterName} did not answer CQL within ${options.startTimeoutMs} ms. ` +
            `Last lines of ${layout.systemLog}:\n${await tailFrom(layout.systemLog, logOffset, LOG_LINES_ON_FAILURE)}`,
          'the machine may be overloaded (each node needs ~1.5 GB and a core to start); stop other clusters',
        );
      }
      if (await isPortOpen(input.address, input.nativePort, 500)) {
        if (listensOn(nodePid, input.address, input.nativePort) === false) {
          // Someone else bound the address between our port check and our node's bind (concurrent runs).
          throw new OperatorError(
            'CLUSTER_PORT_IN_USE',
            `another process took ${input.address}:${input.nativePort} while node ${input.address} of cluster ${input.clusterName} was starting`,
            'another local cluster uses this address: choose another address, or stop that cluster',
          );
        }
        const version = await releaseVersion(input.address, input.nativePort, credentials).catch(
          () => undefined,
        );
        if (version !== undefined) break;
      }
      await sleep(250);
    }
  } catch (error) {
    await terminateProcess(nodePid, 2_000).catch(() => undefined);
    untrackNode(nodePid);
    await rm(layout.pidFile, { force: true });
    throw error;
  }
  const startupMs = Date.now() - started;
  const rssMb = readRssMb(nodePid);
  log.info({ node: input.address, pid: nodePid, startupMs, rssMb }, 'node up');
  return { pid: nodePid, startupMs, rssMb };
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

/** Stops every node of the cluster in `clusterDir`, found by pidfile and by marker. Returns pids stopped. */
export async function stopClusterAt(clusterDir: string, logger: Logger, graceMs = 15_000): Promise<number[]> {
  const marker = clusterMarkerArg(clusterDir);
  const pids = new Set<number>(
    findNodeProcesses(clusterDir)
      .filter((p) => p.clusterDir === clusterDir)
      .map((p) => p.pid),
  );
  const manifest = await readManifest(clusterDir).catch(() => undefined);
  const nodeCount = manifest?.addresses.length ?? 0;
  for (let i = 0; i < nodeCount; i++) {
    const pidFile = nodeLayout(join(clusterDir, nodeDirName(i))).pidFile;
    const pid = await readPidFile(pidFile);
    // A pidfile may outlive its process and the pid be reused: only a JVM carrying our marker is ours.
    if (pid !== undefined && readCmdline(pid)?.includes(marker)) pids.add(pid);
    await rm(pidFile, { force: true });
  }
  await Promise.all(
    [...pids].map(async (pid) => {
      const outcome = await terminateProcess(pid, graceMs);
      untrackNode(pid);
      logger.info({ cluster: basename(clusterDir), pid, outcome }, 'node stopped');
    }),
  );
  return [...pids];
}

export interface NodeStatus {
  readonly address: string;
  readonly pid: number | undefined;
  /** The JVM is alive. */
  readonly up: boolean;
  /** Something answers TCP on the node's CQL port. */
  readonly cqlListening: boolean;
  readonly rssMb: number | undefined;
}

export interface ClusterStatus {
  readonly name: string;
  readonly dir: string;
  readonly port: number;
  readonly authenticator: 'none' | 'password';
  readonly nodes: readonly NodeStatus[];
}

/** Status of every cluster under `baseDir` (directories holding a cluster.json). */
export async function listClusters(baseDir: string): Promise<ClusterStatus[]> {
  const entries = await readdir(baseDir, { withFileTypes: true }).catch(() => []);
  const statuses: ClusterStatus[] = [];
  for (const entry of entries.filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    const status = await clusterStatusAt(join(baseDir, entry.name)).catch(() => undefined);
    if (status !== undefined) statuses.push(status);
  }
  return statuses;
}

export async function clusterStatusAt(clusterDir: string): Promise<ClusterStatus> {
  const manifest = await readManifest(clusterDir);
  const marker = clusterMarkerArg(clusterDir);
  const nodes = await Promise.all(
    manifest.addresses.map(async (address, i): Promise<NodeStatus> => {
      const filePid = await readPidFile(nodeLayout(join(clusterDir, nodeDirName(i))).pidFile);
      const pid = filePid !== undefined && readCmdline(filePid)?.includes(marker) ? filePid : undefined;
      return {
        address,
        pid,
        up: pid !== undefined && isProcessAlive(pid),
        cqlListening: await isPortOpen(address, manifest.nativePort, 500),
        rssMb: pid === undefined ? undefined : readRssMb(pid),
      };
    }),
  );
  return {
    name: manifest.name,
    dir: clusterDir,
    port: manifest.nativePort,
    authenticator: manifest.authenticator,
    nodes,
  };
}

async function readManifest(clusterDir: string): Promise<ClusterManifest> {
  const text = await readFile(join(clusterDir, MANIFEST_FILE), 'utf8');
  return JSON.parse(text) as ClusterManifest;
}

async function tailFrom(path: string, offset: number, lines: number): Promise<string> {
  // Only the end is read: a node stuck in a retry loop can write hundreds of MB of log.
  const maxBytes = 64 * 1024;
  try {
    const file = await open(path, 'r');
    try {
      const size = (await file.stat()).size;
      const start = Math.max(offset, size - maxBytes);
      const buffer = Buffer.alloc(Math.max(0, size - start));
      await file.read(buffer, 0, buffer.length, start);
      return buffer.toString('utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } finally {
      await file.close();
    }
  } catch {
    return '';
  }
}
