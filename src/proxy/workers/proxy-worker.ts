/**
 * The entry of one worker process of a pool (see worker-pool.ts): it runs the proxy exactly as a
 * single process does (start-proxy.ts), with the configuration the primary validated, and talks
 * to the primary over the cluster IPC channel. It never prints a startup error itself: the primary
 * reports it once for all workers.
 */
import cluster from 'node:cluster';
import net from 'node:net';
import { AggregatorRegistry } from 'prom-client';
import { describeError, OperatorError } from '../../errors.js';
import { createLogger, type Logger } from '../../log/logger.js';
import { keepServingOnFaults } from '../keep-serving.js';
import { type RunningProxy, startProxy } from '../start-proxy.js';
import type { ClusterHealth } from './pool-health.js';
import { type FromWorker, isToWorker, type StartFailure, type ToWorker } from './worker-messages.js';

const id = cluster.worker?.id ?? 0;

/** Resolves once the message is handed to the channel (or the channel is gone). */
function send(message: FromWorker): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined || !process.connected) resolve();
    else process.send(message, undefined, {}, () => resolve());
  });
}

/** The next message of `type` from the primary. */
function next<T extends ToWorker['type']>(type: T): Promise<Extract<ToWorker, { type: T }>> {
  return new Promise((resolve) => {
    const listener = (message: unknown) => {
      if (!isToWorker(message) || message.type !== type) return;
      process.off('message', listener);
      resolve(message as Extract<ToWorker, { type: T }>);
    };
    process.on('message', listener);
  });
}

function failure(error: unknown): StartFailure {
  return error instanceof OperatorError
    ? { code: error.code, message: error.message, hint: error.hint, exitCode: error.exitCode }
    : { code: undefined, message: describeError(error), hint: undefined, exitCode: 1 };
}

/** Sends the readiness probes' view to the primary whenever it changes. */
function reportHealth(proxy: RunningProxy, intervalMs: number): void {
  let last: ClusterHealth | undefined;
  const report = () => {
    const health = proxy.health();
    if (last?.origin === health.origin && last.target === health.target) return;
    last = health;
    void send({ type: 'zdm:health', health });
  };
  report();
  setInterval(report, intervalMs).unref();
}

/**
 * SIGTERM/SIGINT (Ctrl-C reaches every process of the group) or the primary's request: the drain
 * of a single proxy. A second signal, or the primary's `exit-now`, ends the worker at once.
 */
function drainOnRequest(
  now: () => { proxy: RunningProxy | undefined; timeoutMs: number; logger: Logger | undefined },
): void {
  let draining = false;
  const exitNow = () => process.exit(0);
  const drain = async () => {
    if (draining) return;
    draining = true;
    process.once('SIGINT', exitNow);
    process.once('SIGTERM', exitNow);
    const { proxy, timeoutMs, logger } = now();
    // Not listening yet: there is nothing to drain.
    if (proxy === undefined) process.exit(0);
    setTimeout(exitNow, timeoutMs + 10_000).unref();
    const unfinished = await proxy.shutdown(timeoutMs);
    logger?.debug({ unfinished }, `worker ${id} stopped`);
    process.exit(0);
  };
  const onSignal = () => void drain();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.on('message', (message: unknown) => {
    if (!isToWorker(message)) return;
    if (message.type === 'zdm:shutdown') void drain();
    else if (message.type === 'zdm:exit-now') exitNow();
  });
}

async function runWorker(): Promise<void> {
  // Answers the primary's metrics requests from the start (prom-client's cluster protocol); until
  // the proxy runs, with an empty registry.
  new AggregatorRegistry();
  let proxy: RunningProxy | undefined;
  let timeoutMs = 0;
  let logger: Logger | undefined;
  drainOnRequest(() => ({ proxy, timeoutMs, logger }));
  const started = next('zdm:start');
  await send({ type: 'zdm:booted' });
  const { config, logLevel } = await started;
  timeoutMs = config.shutdownTimeoutMs;
  const log = createLogger({ level: logLevel }).child({ worker: id });
  logger = log;
  keepServingOnFaults(log);
  const listen = next('zdm:listen');
  try {
    proxy = await startProxy(config, log, {
      worker: id,
      beforeListen: async () => {
        await send({ type: 'zdm:connected' });
        const { address, port } = await listen;
        return { address, port };
      },
    });
  } catch (error) {
    // The message reaches the primary before the process ends.
    await send({ type: 'zdm:failed', failure: failure(error) });
    process.exit(failure(error).exitCode);
  }
  AggregatorRegistry.setRegistries([proxy.metrics.registry]);
  const serving = proxy;
  process.on('message', (message: unknown, socket: unknown) => {
    if (!isToWorker(message) || message.type !== 'zdm:connection' || !(socket instanceof net.Socket)) return;
    socket.once('close', () => void send({ type: 'zdm:released' }));
    serving.adopt(socket);
  });
  await send({ type: 'zdm:ready', address: proxy.address, port: proxy.port });
  reportHealth(proxy, config.readinessProbeIntervalMs);
}

await runWorker();
