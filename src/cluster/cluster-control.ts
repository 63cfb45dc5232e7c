import { readdir, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Logger } from '../log/logger.js';
import { readManifest } from './cluster-manifest.js';
import { untrackNode } from './exit-guard.js';
import { clusterMarkerArg, nodeDirName, nodeLayout } from './node-config.js';
import {
  isPortOpen,
  isProcessAlive,
  readCmdline,
  readPidFile,
  readRssMb,
  terminateProcess,
} from './node-process.js';
import { findNodeProcesses } from './stray-nodes.js';

/**
 * Clusters by directory, for whoever did not start them (the CLI, the integration runner): status from
 * cluster.json, pidfiles and /proc; stop by pidfile and marker.
 */

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
