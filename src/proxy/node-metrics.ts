import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ProtocolVersion } from './codec/index.js';
import { FAILURE_CAUSES, type FailureCause, failureCause } from './failure-cause.js';
import type { ClusterName } from './route-request.js';
import type { Waiter } from './stream-ids.js';

/**
 * Where a node's requests go: its cluster's main lane (`origin_…`, `target_…`), or the
 * secondary-read lane of DUAL_ASYNC_ON_SECONDARY (`async_…`, with a `cluster` label, since the
 * async reads of this proxy can go to either cluster: the secondary one).
 */
type Lane = ClusterName | 'async';

/** The original proxy's `type` label of node-level durations: reads (SELECT and the like) or anything else. */
export type NodeRequestType = 'reads' | 'writes';

interface LaneMetrics {
  readonly duration: Histogram<string>;
  readonly failures: Counter<string>;
  readonly streamIds: Gauge<string>;
  /** Async only: the original proxy counts in-flight async requests apart from their stream ids. */
  readonly inflight: Gauge<string> | null;
}

/** One node's instruments on one lane, looked up once: they are touched on every request. */
interface NodeInstruments {
  readonly duration: Record<NodeRequestType, ReturnType<Histogram<string>['labels']>>;
  readonly failures: Record<FailureCause, ReturnType<Counter<string>['labels']>>;
  readonly streamIds: ReturnType<Gauge<string>['labels']>;
  readonly inflight: ReturnType<Gauge<string>['labels']> | null;
}

/** A secondary read about to be sent: `done` is its waiter; `sent` says whether the link took it. */
export interface AsyncRead {
  readonly done: Waiter;
  sent(taken: boolean): boolean;
}

/**
 * The original proxy's per-node metrics (its "cluster connector level"): request durations,
 * failures by cause and stream ids in use, for Origin, Target and the async (secondary) reads.
 * A node's failure counters and gauges exist at 0 from its first request, so "no failure" is a
 * value on a dashboard rather than a missing series.
 */
export class NodeMetrics {
  readonly #lanes: Record<Lane, LaneMetrics>;
  readonly #nodes = new Map<string, NodeInstruments>();

  constructor(registry: Registry, name: (n: string) => string, buckets: readonly number[]) {
    const registers = [registry];
    const lane = (prefix: Lane, labels: string[], what: string): LaneMetrics => ({
      duration: new Histogram({
        name: name(`${prefix}_request_duration_seconds`),
        help: `Time from sending a request to ${what} to its answer, per node and type (reads, or writes: anything else)`,
        labelNames: [...labels, 'type'],
        buckets: [...buckets],
        registers,
      }),
      failures: new Counter({
        name: name(`${prefix}_requests_failed_total`),
        help: `Requests to ${what} that failed, per node and cause (error: the cluster's error code, or client_timeout, stream_ids_exhausted, connection_closed for the proxy's own)`,
        labelNames: [...labels, 'error'],
        registers,
      }),
      streamIds: new Gauge({
        name: name(`${prefix}_used_stream_ids_total`),
        help: `Stream ids held by requests awaiting an answer on the connections to ${what}, per node (an id held back after a timeout is not counted)`,
        labelNames: labels,
        registers,
      }),
      inflight:
        prefix === 'async'
          ? new Gauge({
              name: name('async_inflight_requests_total'),
              help: `Requests to ${what} in flight, per node`,
              labelNames: labels,
              registers,
            })
          : null,
    });
    this.#lanes = {
      origin: lane('origin', ['node'], 'Origin'),
      target: lane('target', ['node'], 'Target'),
      async: lane(
        'async',
        ['cluster', 'node'],
        'the secondary cluster (async reads of DUAL_ASYNC_ON_SECONDARY)',
      ),
    };
  }

  /** Wraps the waiter of a request on a node's main lane: records its duration and failure, then answers. */
  request(
    cluster: ClusterName,
    node: string,
    version: ProtocolVersion,
    type: NodeRequestType,
    onResult: Waiter,
  ): Waiter {
    const m = this.#instruments(cluster, cluster, node);
    m.streamIds.inc();
    const started = process.hrtime.bigint();
    return (result) => {
      this.#settled(m, type, started, result, version);
      onResult(result);
    };
  }

  /** A secondary read to `cluster`'s node: counted in flight until its answer, timeout or loss. */
  asyncRead(cluster: ClusterName, node: string, version: ProtocolVersion): AsyncRead {
    const m = this.#instruments('async', cluster, node);
    m.streamIds.inc();
    m.inflight?.inc();
    const started = process.hrtime.bigint();
    return {
      done: (result) => {
        m.inflight?.dec();
        this.#settled(m, 'reads', started, result, version);
      },
      sent: (taken) => {
        if (!taken) {
          m.streamIds.dec();
          m.inflight?.dec();
        }
        return taken;
      },
    };
  }

  #settled(
    m: NodeInstruments,
    type: NodeRequestType,
    started: bigint,
    result: Parameters<Waiter>[0],
    version: ProtocolVersion,
  ): void {
    m.streamIds.dec();
    m.duration[type].observe(Number(process.hrtime.bigint() - started) / 1e9);
    const cause = failureCause(result, version);
    if (cause !== null) m.failures[cause].inc();
  }

  #instruments(lane: Lane, cluster: ClusterName, node: string): NodeInstruments {
    const key = `${lane} ${cluster} ${node}`;
    let found = this.#nodes.get(key);
    if (found === undefined) {
      const metrics = this.#lanes[lane];
      const labels: Record<string, string> = lane === 'async' ? { cluster, node } : { node };
      const failures = {} as Record<FailureCause, ReturnType<Counter<string>['labels']>>;
      for (const error of FAILURE_CAUSES) {
        failures[error] = metrics.failures.labels({ ...labels, error });
        failures[error].inc(0);
      }
      const streamIds = metrics.streamIds.labels(labels);
      streamIds.set(0);
      const inflight = metrics.inflight?.labels(labels) ?? null;
      inflight?.set(0);
      const duration = {
        reads: metrics.duration.labels({ ...labels, type: 'reads' }),
        writes: metrics.duration.labels({ ...labels, type: 'writes' }),
      };
      found = { duration, failures, streamIds, inflight };
      this.#nodes.set(key, found);
    }
    return found;
  }
}
