/**
 * The proxy on every core: a primary process that runs `config.workers` worker processes sharing
 * the listening port (node:cluster), and serves the one metrics port with their metrics summed.
 *
 * Why node:cluster, with the primary handing connections out itself: Node 20 (the engine this
 * package supports) has no SO_REUSEPORT for net servers (`reusePort` arrived in Node 22.12), and
 * worker threads cannot share a listening socket. cluster is Node's own, maintained process pool
 * with an IPC channel that carries socket handles, and prom-client's AggregatorRegistry is built
 * on it. cluster's own sharing of `listen()` was tried first and dropped: its round-robin gives
 * the Nth connection to worker N mod workers, and a driver opening connections in a fixed
 * pattern (the Node driver opens one it closes at once, then the one it keeps) had every kept
 * connection on one worker; the kernel's accept() wake-ups (SCHED_NONE) skew just as badly. So
 * the primary listens and gives each connection to the worker with the fewest open (the CQL
 * connections are long-lived: their count is the load). The hand-off costs once per connection,
 * never per request.
 *
 * Each worker is a whole proxy (start-proxy.ts): its own cluster connections, prepared cache and
 * drain. A statement prepared through one worker is unknown to another, which answers UNPREPARED
 * with the id, and drivers prepare again on that connection (native protocol v4 §8, 0x2500).
 */
import cluster, { type Worker } from 'node:cluster';
import net from 'node:net';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AggregatorRegistry } from 'prom-client';
import { OperatorError } from '../../errors.js';
import type { Logger } from '../../log/logger.js';
import { startMetricsServer } from '../metrics-server.js';
import { listenFailure } from '../proxy-server.js';
import type { ProxyConfig } from '../proxy-settings.js';
import { firstStopSignal, stopNowOnSecondSignalOrLate } from '../stop-signals.js';
import { type ClusterHealth, poolHealth } from './pool-health.js';
import { DEFAULT_RESTART_POLICY, type RestartPolicy, restartDecision } from './restart-policy.js';
import { type FromWorker, isFromWorker, type StartFailure, type ToWorker } from './worker-messages.js';

/** The worker entry beside this module: `.ts` when run from source (tsx), `.js` once built. */
const WORKER_ENTRY = fileURLToPath(
  new URL(`./proxy-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url),
);

export interface PoolOptions {
  /** The log level the workers' loggers use (the CLI's --log-level / ZDM_LOG_LEVEL). */
  readonly logLevel: string | undefined;
  readonly policy?: RestartPolicy;
}

/**
 * Runs the pool until SIGTERM/SIGINT (drains every worker, then resolves 0). Throws the startup
 * failure of the first worker that fails (once, whatever the number of workers), or an
 * OperatorError when workers keep crashing past the restart policy.
 */
export async function runWorkerPool(
  config: ProxyConfig,
  logger: Logger,
  options: PoolOptions,
): Promise<number> {
  const pool = new WorkerPool(config, logger, options);
  const aggregator = new AggregatorRegistry();
  // The metrics port first: taken, it is reported before any worker starts.
  const metricsServer = config.metrics.enabled
    ? await startMetricsServer(
        { contentType: aggregator.contentType, metrics: () => aggregator.clusterMetrics() },
        { status: () => pool.health() },
        config.metrics.address,
        config.metrics.port,
      )
    : undefined;
  try {
    const { address, port } = await pool.start();
    logger.info(
      { address, port, metricsPort: metricsServer?.port, primary: config.primary, workers: config.workers },
      `zdm-proxy listening on ${address}:${port} (${config.workers} workers)`,
    );
    const signal = await Promise.race([firstStopSignal(), pool.gaveUp]);
    const bound = config.shutdownTimeoutMs;
    logger.info(
      { signal, workers: config.workers, timeoutMs: bound },
      'shutting down: every worker refuses new clients and finishes requests in flight',
    );
    // As in one process: a second signal, or a drain stuck past its bound, ends every worker now.
    stopNowOnSecondSignalOrLate(bound, () => {
      logger.warn('shutdown did not finish in time; stopping the workers now');
      pool.exitNow();
    });
    await pool.stop();
    logger.info('zdm-proxy stopped');
    return 0;
  } catch (error) {
    // Whatever failed, no worker outlives the primary's answer.
    await pool.stop();
    throw error;
  } finally {
    await metricsServer?.close();
  }
}

/** The workers and their states, seen from the primary. */
class WorkerPool {
  readonly #config: ProxyConfig;
  readonly #logger: Logger;
  readonly #options: PoolOptions;
  /** Workers serving clients, with their readiness probes' last word. */
  readonly #serving = new Map<number, ClusterHealth>();
  /** Open client connections per serving worker, for the hand-off. */
  readonly #open = new Map<Worker, number>();
  /** Connections accepted before any worker serves (between listening and the first `ready`). */
  readonly #queued: net.Socket[] = [];
  #server: net.Server | undefined;
  /** Startup failures workers reported before exiting. */
  readonly #failures = new Map<number, StartFailure>();
  /** First-generation workers that reached both clusters and wait to listen. */
  readonly #waiting = new Set<Worker>();
  readonly #restartTimers = new Set<NodeJS.Timeout>();
  /** Every worker process not yet exited. */
  readonly #live = new Set<Worker>();
  readonly #crashes: number[] = [];
  /** Until every first-generation worker listens; afterwards a lost worker is a crash. */
  #starting = true;
  #stopping = false;
  #listening: { readonly address: string; readonly port: number } | undefined;
  #started = deferred<{ address: string; port: number }>();
  #gaveUp = deferred<never>();
  #allExited: (() => void) | undefined;

  constructor(config: ProxyConfig, logger: Logger, options: PoolOptions) {
    this.#config = config;
    this.#logger = logger;
    this.#options = options;
    // Nobody awaits these before start() and the signal race: avoid an unhandled rejection.
    this.#started.promise.catch(() => undefined);
    this.#gaveUp.promise.catch(() => undefined);
  }

  /** Rejects when workers crashed more often than the restart policy allows. */
  get gaveUp(): Promise<never> {
    return this.#gaveUp.promise;
  }

  health(): ClusterHealth {
    return poolHealth(this.#serving.values());
  }

  /** Forks every worker; resolves once all listen, or rejects with the first startup failure. */
  start(): Promise<{ address: string; port: number }> {
    cluster.setupPrimary({ exec: WORKER_ENTRY, execArgv: process.execArgv, args: [] });
    for (let i = 0; i < this.#config.workers; i++) this.#fork();
    return this.#started.promise;
  }

  /** Drains every worker (as SIGTERM drains one proxy) and resolves when all have exited. */
  stop(): Promise<void> {
    this.#stopping = true;
    for (const timer of this.#restartTimers) clearTimeout(timer);
    this.#restartTimers.clear();
    this.#broadcast({ type: 'zdm:shutdown' });
    // Until every worker is gone, new clients still reach one and get its refusal, as in one process.
    return this.#whenAllExited().then(() => this.#closeServer());
  }

  #closeServer(): Promise<void> {
    for (const socket of this.#queued.splice(0)) socket.destroy();
    // Not awaited: the server counts connections handed to workers until they report them closed,
    // which workers that have exited never do. Every connection ended with its worker anyway.
    this.#server?.close();
    return Promise.resolve();
  }

  /** Listens once every first-generation worker reached its clusters; a taken port fails the start. */
  async #listen(): Promise<void> {
    const server = net.createServer({ pauseOnConnect: true }, (socket) => this.#handOff(socket));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) => reject(listenFailure(this.#config, error)));
      server.listen(this.#config.listenPort, this.#config.listenAddress, () => resolve());
    });
    server.on('error', (error) => this.#logger.error({ err: error }, 'client listener failed'));
    const bound = server.address() as net.AddressInfo;
    this.#listening = { address: bound.address, port: bound.port };
  }

  /** To the serving worker with the fewest open connections; queued while none serves yet. */
  #handOff(socket: net.Socket): void {
    let chosen: Worker | undefined;
    for (const [worker, open] of this.#open)
      if (chosen === undefined || open < this.#open.get(chosen)!) chosen = worker;
    if (chosen === undefined) {
      if (this.#starting) this.#queued.push(socket);
      else socket.destroy();
      return;
    }
    if (!chosen.isConnected()) {
      socket.destroy();
      return;
    }
    this.#open.set(chosen, this.#open.get(chosen)! + 1);
    // The primary's copy of the handle is closed once sent; the worker owns the connection.
    chosen.send({ type: 'zdm:connection' } satisfies ToWorker, socket, (error) => {
      if (error !== null && error !== undefined) socket.destroy();
    });
  }

  exitNow(): void {
    this.#stopping = true;
    this.#broadcast({ type: 'zdm:exit-now' });
    // A worker that does not even take that message (stuck in native code) is killed.
    setTimeout(() => {
      for (const worker of this.#live) worker.process.kill('SIGKILL');
    }, 2000).unref();
  }

  #whenAllExited(): Promise<void> {
    if (this.#live.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#allExited = resolve;
    });
  }

  #broadcast(message: ToWorker): void {
    for (const worker of this.#live) send(worker, message);
  }

  #fork(): void {
    const worker = cluster.fork();
    this.#live.add(worker);
    this.#logger.info(
      { worker: worker.id, workerPid: worker.process.pid },
      `worker ${worker.id} started (pid ${worker.process.pid})`,
    );
    worker.on('message', (message: unknown) => {
      if (isFromWorker(message)) this.#onMessage(worker, message);
    });
    worker.once('exit', (code, signal) => this.#onExit(worker, code, signal));
  }

  #onMessage(worker: Worker, message: FromWorker): void {
    switch (message.type) {
      case 'zdm:booted':
        send(worker, {
          type: 'zdm:start',
          config: workerConfig(this.#config),
          logLevel: this.#options.logLevel,
        });
        return;
      case 'zdm:connected':
        // A replacement serves as soon as it is connected; the first generation waits for all, so
        // the port opens only once every worker can take clients.
        if (this.#listening !== undefined) {
          send(worker, { type: 'zdm:listen', ...this.#listening });
          return;
        }
        this.#waiting.add(worker);
        if (this.#waiting.size === this.#config.workers) void this.#openPort();
        return;
      case 'zdm:ready':
        this.#serving.set(worker.id, { origin: false, target: false });
        this.#open.set(worker, 0);
        for (const socket of this.#queued.splice(0)) this.#handOff(socket);
        if (this.#starting && this.#serving.size === this.#config.workers && this.#listening !== undefined) {
          this.#starting = false;
          this.#started.resolve(this.#listening);
        }
        return;
      case 'zdm:released': {
        const open = this.#open.get(worker);
        if (open !== undefined) this.#open.set(worker, Math.max(0, open - 1));
        return;
      }
      case 'zdm:failed':
        this.#failures.set(worker.id, message.failure);
        return;
      case 'zdm:health':
        if (this.#serving.has(worker.id)) this.#serving.set(worker.id, message.health);
        return;
    }
  }

  async #openPort(): Promise<void> {
    try {
      await this.#listen();
    } catch (error) {
      this.#started.reject(error);
      this.#stopping = true;
      this.#broadcast({ type: 'zdm:exit-now' });
      return;
    }
    for (const waiting of this.#waiting) send(waiting, { type: 'zdm:listen', ...this.#listening! });
    this.#waiting.clear();
  }

  #onExit(worker: Worker, code: number | null, signal: string | null): void {
    this.#live.delete(worker);
    this.#open.delete(worker);
    this.#serving.delete(worker.id);
    this.#waiting.delete(worker);
    const failure = this.#failures.get(worker.id);
    this.#failures.delete(worker.id);
    if (this.#live.size === 0) this.#allExited?.();
    if (this.#stopping) return;
    const how = failure?.message ?? (code !== null ? `exited with code ${code}` : `was killed by ${signal}`);
    if (this.#starting) {
      // The first failure is the one reported; the others (most often the same) are not repeated.
      this.#started.reject(
        failure === undefined
          ? new OperatorError('PROXY_WORKER_FAILED', `zdm-proxy worker ${worker.id} ${how} while starting`)
          : new OperatorError(failure.code ?? 'PROXY_WORKER_FAILED', failure.message, failure.hint, {
              exitCode: failure.exitCode,
            }),
      );
      this.#stopping = true;
      this.#broadcast({ type: 'zdm:exit-now' });
      return;
    }
    this.#logger.error(
      { worker: worker.id, workerPid: worker.process.pid, code, signal, error: failure?.message },
      `worker ${worker.id} (pid ${worker.process.pid}) ${how}`,
    );
    const now = Date.now();
    const decision = restartDecision(this.#crashes, now, this.#options.policy);
    this.#crashes.push(now);
    if (decision.kind === 'give-up') {
      const policy = this.#options.policy ?? DEFAULT_RESTART_POLICY;
      this.#gaveUp.reject(
        new OperatorError(
          'PROXY_WORKERS_CRASHING',
          `zdm-proxy workers stopped unexpectedly ${decision.crashes} times within ${Math.round(policy.windowMs / 1000)} s (last: worker ${worker.id} ${how}); the proxy stops`,
          'Each stop is logged above with its exit code or signal (SIGKILL from the system often means memory ran out). Fix the cause and start the proxy again; ZDM_PROXY_WORKERS=1 runs it in one process.',
          { exitCode: 1 },
        ),
      );
      return;
    }
    this.#logger.warn({ delayMs: decision.delayMs }, 'starting a replacement worker');
    const timer = setTimeout(() => {
      this.#restartTimers.delete(timer);
      if (!this.#stopping) this.#fork();
    }, decision.delayMs);
    this.#restartTimers.add(timer);
  }
}

/**
 * What each worker runs with: no metrics server (the primary serves the sum), and its share of
 * the client connection limit, so the pool as a whole keeps ZDM_PROXY_MAX_CLIENT_CONNECTIONS
 * (the hand-off fills workers evenly).
 */
function workerConfig(config: ProxyConfig): ProxyConfig {
  return {
    ...config,
    maxClientConnections: Math.ceil(config.maxClientConnections / config.workers),
    metrics: { ...config.metrics, enabled: false },
  };
}

/** A worker that has just died may still be listed: its channel is then closed, and the message moot. */
function send(worker: Worker, message: ToWorker): void {
  if (worker.isConnected()) worker.send(message);
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
