import { readdirSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import type { Logger } from '../log/logger.js';
import { untrackNode } from './exit-guard.js';
import { CLUSTER_MARKER_PROPERTY } from './node-config.js';
import { readCmdline, terminateProcess } from './node-process.js';

export interface NodeProcess {
  readonly pid: number;
  /** The cluster directory named by the process's marker property. */
  readonly clusterDir: string;
}

/**
 * Every live JVM whose marker names a cluster directory at or under `dir`, found through /proc rather
 * than pidfiles, so it also finds nodes whose pidfile was lost or whose starter crashed.
 */
export function findNodeProcesses(dir: string): NodeProcess[] {
  const root = resolve(dir);
  const prefix = `-D${CLUSTER_MARKER_PROPERTY}=`;
  const found: NodeProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const marker = readCmdline(pid)?.find((arg) => arg.startsWith(prefix));
    if (marker === undefined) continue;
    const clusterDir = marker.slice(prefix.length);
    if (clusterDir === root || clusterDir.startsWith(root + sep)) found.push({ pid, clusterDir });
  }
  return found;
}

/**
 * Stops (SIGTERM, then SIGKILL after `graceMs`) every node JVM belonging to a cluster under `baseDir`.
 * Returns the pids it found. The last line of defence of test runs; nothing else should need it.
 */
export async function sweepStrayNodes(baseDir: string, logger: Logger, graceMs = 5_000): Promise<number[]> {
  const strays = findNodeProcesses(baseDir);
  await Promise.all(
    strays.map(async ({ pid, clusterDir }) => {
      const outcome = await terminateProcess(pid, graceMs);
      untrackNode(pid);
      logger.warn({ pid, clusterDir, outcome }, 'stopped stray cassandra node');
    }),
  );
  return strays.map((s) => s.pid);
}
