import { type ChildProcess, spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** A port nobody listens on right now, from the kernel. */
export function freePort(address = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, address, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface ProxyProcess {
  readonly port: number;
  readonly metricsUrl: string;
  /** SIGTERM, then wait for the exit (the proxy drains in-flight requests first). */
  stop(): Promise<number | null>;
}

export interface ProxyStart {
  readonly origin: string;
  readonly target: string;
  readonly port: number;
  readonly metricsPort: number;
  /** ZDM_* settings of this phase (PRIMARY_CLUSTER, READ_MODE). */
  readonly env: Readonly<Record<string, string>>;
  /** The proxy's log goes to this file, so the terminal shows the demo's own lines. */
  readonly logFile: string;
}

/** Starts `zdm-proxy start` as a child process and waits until it reports both clusters ready. */
export async function startProxyProcess(options: ProxyStart): Promise<ProxyProcess> {
  const log = openSync(options.logFile, 'a');
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', join('src', 'cli', 'zdm-proxy.ts'), 'start', '--log-format', 'json'],
    {
      stdio: ['ignore', log, log],
      env: {
        ...process.env,
        ZDM_ORIGIN_CONTACT_POINTS: options.origin,
        ZDM_TARGET_CONTACT_POINTS: options.target,
        ZDM_PROXY_LISTEN_ADDRESS: '127.0.0.1',
        ZDM_PROXY_LISTEN_PORT: String(options.port),
        ZDM_METRICS_ADDRESS: '127.0.0.1',
        ZDM_METRICS_PORT: String(options.metricsPort),
        ...options.env,
      },
    },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const metricsUrl = `http://127.0.0.1:${options.metricsPort}`;
  // Ready when /health/readiness answers 200; a proxy that exits first has failed to start.
  const deadline = Date.now() + 120_000;
  for (;;) {
    const early = await Promise.race([
      exited,
      new Promise<'waiting'>((r) => setTimeout(() => r('waiting'), 250)),
    ]);
    if (early !== 'waiting')
      throw new Error(`zdm-proxy exited with code ${early} while starting; see ${options.logFile}`);
    const ready = await fetch(`${metricsUrl}/health/readiness`)
      .then((r) => r.status === 200)
      .catch(() => false);
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`zdm-proxy was not ready within 120 s; see ${options.logFile}`);
    }
  }
  return {
    port: options.port,
    metricsUrl,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}
