/** What one worker's readiness probes say of the clusters. */
export interface ClusterHealth {
  readonly origin: boolean;
  readonly target: boolean;
}

/**
 * The proxy's readiness across its workers: a cluster is up when at least one worker serves and
 * every serving worker sees it up. One worker that cannot reach a cluster fails the clients that
 * land on it, so the proxy is not ready; no worker serving means nothing is.
 */
export function poolHealth(workers: Iterable<ClusterHealth>): ClusterHealth {
  let serving = 0;
  let origin = true;
  let target = true;
  for (const health of workers) {
    serving++;
    origin &&= health.origin;
    target &&= health.target;
  }
  return serving === 0 ? { origin: false, target: false } : { origin, target };
}
