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

/** Arguments of `zdm diff <table>`: the same as migrate's. */
export const diffArgs = (...args: Parameters<typeof migrateArgs>): string[] => [
  'diff',
  ...migrateArgs(...args).slice(1),
];

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

const ZDM_PROXY = fileURLToPath(new URL('../../src/cli/zdm-proxy.ts', import.meta.url));

/** A running `zdm-proxy start` process. */
export interface ProxyProcess {
  readonly port: number;
  /** Whether the process is still running (a test checks it after the traffic it carried). */
  running(): boolean;
  /** What it logged, for assertion messages. */
  log(): string;
  /** SIGTERM, then waits for the process to end. */
  stop(): Promise<void>;
}

/**
 * The environment of a proxy CLI in front of `origin` and `target`, listening on ephemeral loopback
 * ports (CQL and metrics); `env` adds or overrides settings.
 */
export function proxyEnv(
  origin: ClusterEndpoint,
  target: ClusterEndpoint,
  env: Record<string, string> = {},
): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ZDM_ORIGIN_CONTACT_POINTS: origin.contactPoints.join(','),
    ZDM_ORIGIN_PORT: String(origin.port),
    ZDM_TARGET_CONTACT_POINTS: target.contactPoints.join(','),
    ZDM_TARGET_PORT: String(target.port),
    ZDM_PROXY_LISTEN_ADDRESS: '127.0.0.1',
    ZDM_PROXY_LISTEN_PORT: '0',
    ZDM_METRICS_ADDRESS: '127.0.0.1',
    ZDM_METRICS_PORT: '0',
    ...env,
  };
}

/**
 * Starts the real proxy CLI in front of `origin` and `target` on an ephemeral loopback port and
 * waits for its "listening" log line (it connects to both clusters first), which names the port.
 */
export async function startZdmProxy(
  origin: ClusterEndpoint,
  target: ClusterEndpoint,
  env: Record<string, string> = {},
): Promise<ProxyProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', ZDM_PROXY, 'start', '--log-level', 'info'], {
    env: proxyEnv(origin, target, env),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let log = '';
  const port = await new Promise<number>((resolve, reject) => {
    // Generous: the proxy connects to both clusters first, which a loaded machine can make slow.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`zdm-proxy did not listen within 120 s:\n${log}`));
    }, 120_000);
    child.stderr.on('data', (d: Buffer) => {
      log += d.toString();
      const found = /zdm-proxy listening on [^:"]+:(\d+)/.exec(log);
      if (found !== null) {
        clearTimeout(timer);
        resolve(Number(found[1]));
      }
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`zdm-proxy exited (${code}) before listening:\n${log}`));
    });
  });
  return {
    port,
    running: () => child.exitCode === null && child.signalCode === null,
    log: () => log,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
