import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { NodeMetrics } from './node-metrics.js';
import type { ClusterName } from './route-request.js';
import { TableLabels, UNKNOWN_TABLE } from './table-labels.js';
import type { TableRef } from './written-tables.js';

export type RequestType = 'reads_origin' | 'reads_target' | 'writes';
type FailedOn = 'origin' | 'target' | 'both';

/** Distinct tables `proxy_failed_writes_by_table_total` names per process before folding the rest. */
export const FAILED_WRITE_TABLES = 100;
const BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The original proxy's metrics (REFERENCE §1), each in a registry of its own (never the global
 * one), so several proxies, or tests, can live in one process.
 */
export class ProxyMetrics {
  readonly registry = new Registry();
  readonly #failedWrites: Counter<'failed_on'>;
  readonly #failedWritesByTable: Counter<'keyspace' | 'table' | 'failed_on'>;
  readonly #tables = new TableLabels(FAILED_WRITE_TABLES);
  readonly #failedReads: Counter<'cluster'>;
  readonly #failedConnections: Counter<'cluster'>;
  readonly #duration: Histogram<'type'>;
  readonly #inflight: Gauge<'type'>;
  readonly #pscacheMisses: Counter;
  readonly #secondaryDropped: Counter<'cluster'>;
  readonly #sessionFaults: Counter<'stage'>;
  readonly #children: Partial<
    Record<
      RequestType,
      { inflight: ReturnType<Gauge<'type'>['labels']>; duration: ReturnType<Histogram<'type'>['labels']> }
    >
  > = {};
  readonly #clientConnections: Gauge;
  /** In a worker process: this worker's share of the client connections (`worker` label). */
  readonly #workerConnections: ReturnType<Gauge<'worker'>['labels']> | undefined;
  readonly #nodeConnections: Record<ClusterName, Gauge<'node'>>;
  /**
   * Per-node request metrics (node-metrics.ts): ClusterLinks wraps each request it sends on a
   * node (`nodes.request`) and each async read (`nodes.asyncRead`).
   */
  readonly nodes: NodeMetrics;

  /**
   * `worker`: the worker process's number when the proxy runs several; the pool sums every
   * metric over its workers, and this adds one series per worker to show how clients spread.
   */
  constructor(prefix = 'zdm', pscacheEntries: () => number = () => 0, worker?: number) {
    const registers = [this.registry];
    const name = (n: string) => `${prefix}_${n}`;
    this.#failedWrites = new Counter({
      name: name('proxy_failed_writes_total'),
      help: 'Writes that failed on origin, target or both',
      labelNames: ['failed_on'],
      registers,
    });
    this.#failedWritesByTable = new Counter({
      name: name('proxy_failed_writes_by_table_total'),
      help: `Writes that failed on origin, target or both, per table written (a BATCH counts once per table). At most ${FAILED_WRITE_TABLES} tables per proxy process (worker) get labels of their own; later ones count under keyspace="(other)",table="(other)", writes whose table the proxy cannot tell under "(unknown)"`,
      labelNames: ['keyspace', 'table', 'failed_on'],
      registers,
    });
    this.#failedReads = new Counter({
      name: name('proxy_failed_reads_total'),
      help: 'Reads that failed',
      labelNames: ['cluster'],
      registers,
    });
    this.#failedConnections = new Counter({
      name: name('proxy_failed_connections_total'),
      help: 'Cluster connections that could not be opened',
      labelNames: ['cluster'],
      registers,
    });
    this.#duration = new Histogram({
      name: name('proxy_request_duration_seconds'),
      help: 'Time from a client request to its response',
      labelNames: ['type'],
      buckets: BUCKETS,
      registers,
    });
    this.#inflight = new Gauge({
      name: name('proxy_inflight_requests_total'),
      help: 'Requests in flight',
      labelNames: ['type'],
      registers,
    });
    new Gauge({
      name: name('pscache_entries_total'),
      help: 'Prepared statements in the cache',
      registers,
      collect() {
        this.set(pscacheEntries());
      },
    });
    this.#pscacheMisses = new Counter({
      name: name('pscache_miss_total'),
      help: 'EXECUTEs of statements not in the cache',
      registers,
    });
    this.#secondaryDropped = new Counter({
      name: name('proxy_secondary_reads_dropped_total'),
      help: 'DUAL_ASYNC_ON_SECONDARY copies not sent: their lane was full or the connection backed up or down',
      labelNames: ['cluster'],
      registers,
    });
    this.#sessionFaults = new Counter({
      name: name('proxy_session_faults_total'),
      help: 'Client connections closed by an unexpected error in the proxy (a bug), by stage',
      labelNames: ['stage'],
      registers,
    });
    this.#clientConnections = new Gauge({
      name: name('client_connections_total'),
      help: 'Open client connections',
      registers,
    });
    if (worker !== undefined) {
      this.#workerConnections = new Gauge({
        name: name('proxy_worker_client_connections'),
        help: 'Open client connections per worker process',
        labelNames: ['worker'],
        registers,
      }).labels(String(worker));
      this.#workerConnections.set(0);
    }
    const nodeGauge = (cluster: ClusterName) =>
      new Gauge({
        name: name(`${cluster}_connections_total`),
        help: `Open connections to ${cluster} nodes`,
        labelNames: ['node'],
        registers,
      });
    this.#nodeConnections = { origin: nodeGauge('origin'), target: nodeGauge('target') };
    this.nodes = new NodeMetrics(this.registry, name, BUCKETS);
    // Known label values exist from the start at 0: "no failure" is a value on a dashboard, not a
    // missing series.
    for (const failedOn of ['origin', 'target', 'both']) this.#failedWrites.inc({ failed_on: failedOn }, 0);
    for (const cluster of ['origin', 'target']) {
      this.#failedReads.inc({ cluster }, 0);
      this.#failedConnections.inc({ cluster }, 0);
      this.#secondaryDropped.inc({ cluster }, 0);
    }
  }

  /**
   * Adds the process's own metrics (prom-client's defaults: `process_cpu_seconds_total`, memory,
   * event loop lag), as the original proxy exports its runtime's; the dashboard divides CPU by
   * requests. Once per proxy process: tests that build many ProxyMetrics leave it out.
   */
  collectProcessMetrics(): void {
    collectDefaultMetrics({ register: this.registry });
  }

  clientConnections(delta: number): void {
    this.#clientConnections.inc(delta);
    this.#workerConnections?.inc(delta);
  }

  nodeConnections(cluster: ClusterName, node: string, delta: number): void {
    this.#nodeConnections[cluster].inc({ node }, delta);
  }

  failedConnection(cluster: ClusterName): void {
    this.#failedConnections.inc({ cluster });
  }

  /** A write failed on one cluster or both; `tables`: the tables it wrote (written-tables.ts). */
  failedWrite(failedOn: FailedOn, tables: readonly TableRef[] = []): void {
    this.#failedWrites.inc({ failed_on: failedOn });
    const labels = tables.length === 0 ? [UNKNOWN_TABLE] : tables.map((ref) => this.#tables.of(ref));
    for (const { keyspace, table } of labels)
      this.#failedWritesByTable.inc({ keyspace, table, failed_on: failedOn });
  }

  failedRead(cluster: ClusterName): void {
    this.#failedReads.inc({ cluster });
  }

  secondaryReadDropped(cluster: ClusterName): void {
    this.#secondaryDropped.inc({ cluster });
  }

  sessionFault(stage: string): void {
    this.#sessionFaults.inc({ stage });
  }

  pscacheMiss(): void {
    this.#pscacheMisses.inc();
  }

  /** Marks a request in flight; the returned function records its duration and ends it. */
  startRequest(type: RequestType): () => void {
    // Label children are looked up once per type: this runs on every request.
    let children = this.#children[type];
    if (children === undefined) {
      children = { inflight: this.#inflight.labels(type), duration: this.#duration.labels(type) };
      this.#children[type] = children;
    }
    children.inflight.inc();
    const started = process.hrtime.bigint();
    return () => {
      children.inflight.dec();
      children.duration.observe(Number(process.hrtime.bigint() - started) / 1e9);
    };
  }
}
