import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ClusterEndpoint } from './clusters.js';

const ZDM = fileURLToPath(new URL('../../src/cli/zdm.ts', import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Flags that point a job at the test clusters. */
export function clusterFlags(origin: ClusterEndpoint, target: ClusterEndpoint): string[] {
  return [
    '--origin-contact-points',
    origin.contactPoints.join(','),
    '--origin-port',
    String(origin.port),
    '--target-contact-points',
    target.contactPoints.join(','),
    '--target-port',
    String(target.port),
  ];
}

/** Arguments of `zdm migrate <table>` against the test clusters with its own checkpoint directory. */
export function migrateArgs(
  table: string,
  origin: ClusterEndpoint,
  target: ClusterEndpoint,
  checkpoints: string,
  ...extra: string[]
): string[] {
  return ['migrate', table, ...clusterFlags(origin, target), '--checkpoint-dir', checkpoints, ...extra];
}

/** Starts the real CLI (`zdm ...`) as a child process. */
export function startZdm(args: readonly string[], env: Record<string, string> = {}) {
  // `node --import tsx` runs the CLI in this one process (the tsx command would add a child process,
  // and a kill -9 of the parent would leave the real work running).
  const child = spawn(process.execPath, ['--import', 'tsx', ZDM, ...args], {
    env: { ...process.env, ZDM_LOG_LEVEL: process.env.ZDM_LOG_LEVEL ?? 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const done = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done, output: () => ({ stdout, stderr }) };
}

export function runZdm(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  return startZdm(args, env).done;
}
