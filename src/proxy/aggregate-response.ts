import type { ClusterName } from './route-request.js';

/** How one cluster answered a request sent to both. */
export type Outcome = 'ok' | 'error' | 'timeout' | 'unavailable';

/** Which answer the client gets for a request sent to both clusters. */
export type Verdict =
  | { readonly kind: 'relay'; readonly from: ClusterName }
  /** A cluster did not answer in time (or could not be asked): the proxy sends its own error. */
  | { readonly kind: 'timeout'; readonly cluster: ClusterName }
  | { readonly kind: 'unavailable'; readonly cluster: ClusterName };

/**
 * The original's rule (REFERENCE §1): both succeed → the primary's response; one fails → that
 * failure; both fail → Origin's. A cluster that did not answer in time, or whose connection is
 * down, is a failure too, reported by the proxy (the original sends nothing on timeout).
 */
export function aggregateWriteResponse(origin: Outcome, target: Outcome, primary: ClusterName): Verdict {
  if (origin === 'ok' && target === 'ok') return { kind: 'relay', from: primary };
  if (origin === 'error') return { kind: 'relay', from: 'origin' };
  if (origin !== 'ok') return { kind: origin, cluster: 'origin' };
  if (target === 'error') return { kind: 'relay', from: 'target' };
  return { kind: target as 'timeout' | 'unavailable', cluster: 'target' };
}

/** Label of the failed-writes metric for a pair of outcomes; null when the write succeeded. */
export function failedOn(origin: Outcome, target: Outcome): 'origin' | 'target' | 'both' | null {
  const o = origin !== 'ok';
  const t = target !== 'ok';
  if (o && t) return 'both';
  if (o) return 'origin';
  if (t) return 'target';
  return null;
}

/** How one cluster answered a PREPARE. */
export type PrepareOutcome = 'prepared' | 'error' | 'timeout' | 'unavailable';

/** Which answer the client gets for a PREPARE sent to both clusters, and what the cache keeps. */
export type PrepareVerdict =
  /** Origin's PREPARED goes to the client; the cache maps its id to Target's (or to none). */
  { readonly kind: 'prepared'; readonly withTarget: boolean } | Verdict;

/**
 * Both prepared → cached with both ids. Origin prepared but not Target → a statement that can run
 * on Origin alone (`originAlone`: a read while Origin is primary) is cached without a Target id,
 * so reads keep working while Target is away; anything else fails with Target's failure. Origin
 * not prepared → Origin's failure.
 */
export function aggregatePrepare(
  origin: PrepareOutcome,
  target: PrepareOutcome,
  originAlone: boolean,
): PrepareVerdict {
  if (origin === 'prepared') {
    if (target === 'prepared') return { kind: 'prepared', withTarget: true };
    if (originAlone) return { kind: 'prepared', withTarget: false };
    return failure('target', target);
  }
  return failure('origin', origin);
}

function failure(cluster: ClusterName, outcome: Exclude<PrepareOutcome, 'prepared'>): Verdict {
  return outcome === 'error' ? { kind: 'relay', from: cluster } : { kind: outcome, cluster };
}
