import type net from 'node:net';
import type { Logger } from '../log/logger.js';
import { openTcpLink } from './backend-connection.js';
import type { SessionContext } from './client-session.js';
import { ClusterControl } from './cluster-control.js';
import { DivergenceJournal, journalOfWorker } from './divergence-journal.js';
import { startMetricsServer } from './metrics-server.js';
import { PreparedCache } from './prepared-cache.js';
import { protocolOffer } from './protocol-offer.js';
import { ProxyMetrics } from './proxy-metrics.js';
import { listen } from './proxy-server.js';
import type { ProxyConfig } from './proxy-settings.js';
import { ReadinessProbe } from './readiness-probe.js';
import type { ClusterName } from './route-request.js';
import { SessionRegistry } from './session-registry.js';
import { monotonicMicros } from './timestamps.js';
import { virtualHosts } from './virtual-tables.js';

export interface RunningProxy {
  readonly address: string;
  readonly port: number;
  /** The metrics HTTP port, when enabled. */
  readonly metricsPort: number | undefined;
  readonly metrics: ProxyMetrics;
  readonly prepared: PreparedCache;
  /** Client sessions open now. */
  readonly sessions: number;
  /** Serves a client connection a pool's primary accepted (see WorkerOptions). */
  adopt(socket: net.Socket): void;
  /** What the readiness probes say of each cluster now (what /health/readiness serves). */
  health(): { readonly origin: boolean; readonly target: boolean };
  /**
   * The graceful stop (SIGTERM): refuse new clients, stop reading requests, let those in flight
   * finish for up to `timeoutMs`, then close everything. Resolves with the sessions closed
   * unfinished at the bound.
   */
  shutdown(timeoutMs: number): Promise<number>;
  /** Closes everything at once. */
  close(): Promise<void>;
}

/** How a worker process of a pool runs the proxy (nothing of this applies to a single process). */
export interface WorkerOptions {
  /** The worker's number: its metrics carry it, and it logs its own start at debug level only. */
  readonly worker: number;
  /**
   * Awaited once both clusters answered, instead of listening: resolves with the address and port
   * the pool's primary listens on. The worker serves the connections handed to `adopt`.
   */
  readonly beforeListen: () => Promise<{ readonly address: string; readonly port: number }>;
}

/**
 * Starts the proxy: control connections to both clusters first (it does not listen before both
 * answer), then the metrics server and the client listener. A worker of a pool passes `worker`
 * and leaves metrics serving to the pool (config.metrics.enabled false).
 */
export async function startProxy(
  config: ProxyConfig,
  logger: Logger,
  worker?: WorkerOptions,
): Promise<RunningProxy> {
  const settled = await Promise.allSettled([
    ClusterControl.connect(config.origin, logger),
    ClusterControl.connect(config.target, logger),
  ]);
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed !== undefined) {
    await Promise.all(settled.map((s) => (s.status === 'fulfilled' ? s.value.close() : undefined)));
    throw failed.reason;
  }
  const [origin, target] = settled.map((s) => (s as PromiseFulfilledResult<ClusterControl>).value) as [
    ClusterControl,
    ClusterControl,
  ];
  const controls: Record<ClusterName, ClusterControl> = { origin, target };
  const prepared = new PreparedCache(config.preparedCacheSize);
  const journal =
    config.journal === undefined
      ? undefined
      : new DivergenceJournal(journalOfWorker(config.journal, worker?.worker), logger);
  const metrics = new ProxyMetrics(config.metrics.prefix, () => prepared.size, worker?.worker);
  metrics.collectProcessMetrics();
  const timestamps = monotonicMicros();
  const credentials = {
    origin: credentialsOf(config.origin),
    target: credentialsOf(config.target),
  };
  const configured = config.topology.addresses;
  const registry = new SessionRegistry();
  const probes: Record<ClusterName, ReadinessProbe> = {
    origin: new ReadinessProbe('origin', () => origin.allNodes(), config.readinessProbeIntervalMs, logger),
    target: new ReadinessProbe('target', () => target.allNodes(), config.readinessProbeIntervalMs, logger),
  };
  const linkOptions = {
    maxStreamIds: config.maxStreamIds,
    secondaryStreamIds: config.readMode === 'DUAL_ASYNC_ON_SECONDARY' ? config.secondaryReadStreamIds : 0,
    requestTimeoutMs: config.requestTimeoutMs,
    secondaryTimeoutMs: config.secondaryReadTimeoutMs,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    heartbeatMisses: config.heartbeatMisses,
  };
  const limits = {
    maxFrameBytes: config.maxFrameBytes,
    preAuthFrameBytes: config.preAuthFrameBytes,
    handshakeTimeoutMs: config.handshakeTimeoutMs,
    idleTimeoutMs: config.idleTimeoutMs,
    maxInFlight: config.maxInFlightPerConnection,
  };

  const protocol = protocolOffer(config.blockedProtocolVersions, logger);
  const contextFor = (socket: net.Socket): SessionContext => {
    // Without PROXY_TOPOLOGY_ADDRESSES the proxy is a one-node cluster at the address the client reached.
    const addresses =
      configured.length > 0 ? configured : [normalise(socket.localAddress ?? config.listenAddress)];
    const self = configured.length > 0 ? config.topology.index : 0;
    return {
      primary: config.primary,
      dualReads: config.readMode === 'DUAL_ASYNC_ON_SECONDARY',
      requestTimeoutMs: config.requestTimeoutMs,
      forwardClientCredentialsToOrigin: config.forwardClientCredentialsToOrigin,
      replaceDefaultTimestamp: config.replaceDefaultTimestamp,
      replaceCqlFunctions: config.replaceCqlFunctions,
      targetConsistency: config.targetConsistency,
      credentials,
      connect: (cluster, version, hooks) =>
        openTcpLink(
          controls[cluster].nextNode(),
          { ...linkOptions, version, connectTimeoutMs: config[cluster].connectionTimeoutMs },
          hooks,
        ),
      prepared,
      topology: { hosts: virtualHosts(addresses, config.topology.numTokens), self, port: listener.port },
      cqlVersions: [origin.cqlVersion],
      protocol,
      timestamps,
      journal,
      limits,
      registry,
      metrics,
      logger: logger.child({ client: `${socket.remoteAddress}:${socket.remotePort}` }),
    };
  };

  function health() {
    return { origin: probes.origin.up, target: probes.target.up };
  }
  const closeClusters = async () => {
    probes.origin.close();
    probes.target.close();
    // A cluster that is down can make its driver's shutdown wait: bounded, the process must exit.
    await withinMs(5000, Promise.all([origin.close(), target.close()]));
  };
  let metricsServer: Awaited<ReturnType<typeof startMetricsServer>> | undefined;
  if (config.metrics.enabled) {
    // A metrics port already taken is the operator's to fix: close what is open, so the process
    // exits with the message instead of hanging on its cluster connections.
    metricsServer = await startMetricsServer(
      metrics.registry,
      { status: health },
      config.metrics.address,
      config.metrics.port,
    ).catch(async (error: unknown) => {
      await closeClusters();
      throw error;
    });
  }
  const listener = await (worker?.beforeListen() ?? Promise.resolve(undefined))
    .then((acceptedElsewhere) => listen(config, contextFor, logger, acceptedElsewhere))
    .catch(async (error: unknown) => {
      await metricsServer?.close();
      await closeClusters();
      throw error;
    });
  // A pool announces itself once, when every worker serves.
  logger[worker === undefined ? 'info' : 'debug'](
    {
      address: listener.address,
      port: listener.port,
      metricsPort: metricsServer?.port,
      primary: config.primary,
    },
    worker === undefined
      ? `zdm-proxy listening on ${listener.address}:${listener.port}`
      : `worker ${worker.worker} listening on ${listener.address}:${listener.port}`,
  );
  return {
    address: listener.address,
    port: listener.port,
    metricsPort: metricsServer?.port,
    metrics,
    prepared,
    get sessions() {
      return registry.size;
    },
    health,
    adopt: (socket) => listener.adopt(socket),
    shutdown: async (timeoutMs) => {
      const unfinished = await registry.drain(timeoutMs);
      await close();
      return unfinished;
    },
    close,
  };

  async function close(): Promise<void> {
    await listener.close();
    await metricsServer?.close();
    await closeClusters();
    journal?.close();
  }
}

/** Waits for `work`, but not longer than `ms`. */
async function withinMs(ms: number, work: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    work.catch(() => undefined),
    new Promise((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}

function credentialsOf(config: ProxyConfig['origin']) {
  return config.username !== undefined && config.password !== undefined
    ? { username: config.username, password: config.password }
    : undefined;
}

/** `::ffff:127.0.0.1` → `127.0.0.1`: drivers compare peers' addresses as they connected to them. */
function normalise(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
