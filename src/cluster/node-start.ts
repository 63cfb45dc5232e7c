import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, open, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { OperatorError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { ResolvedClusterOptions } from './cluster-options.js';
import { DEFAULT_SUPERUSER, refusesOlderProtocols, releaseVersion } from './cql-probe.js';
import { trackNode, untrackNode } from './exit-guard.js';
import {
  cassandraYaml,
  clusterMarkerArg,
  logbackXml,
  type NodeConfigInput,
  nodeJvmArgs,
  nodeLayout,
} from './node-config.js';
import { isPortOpen, isProcessAlive, listensOn, readRssMb, terminateProcess } from './node-process.js';

/** Lines of system.log quoted when a node dies during start. */
const LOG_LINES_ON_FAILURE = 25;

/** Writes a node's configuration, spawns its JVM and waits until it answers CQL. */
export async function startNodeProcess(
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
        // A node that refuses v4 cannot be asked anything by the driver: its refusal is the answer.
        const up =
          input.allowOlderProtocols === false
            ? await refusesOlderProtocols(input.address, input.nativePort)
            : (await releaseVersion(input.address, input.nativePort, credentials).catch(() => undefined)) !==
              undefined;
        if (up) break;
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
