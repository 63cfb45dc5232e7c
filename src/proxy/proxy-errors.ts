import { type ErrorBody, ErrorCode, simpleError } from './codec/index.js';
import type { ClusterName } from './route-request.js';

/**
 * The CQL errors the proxy itself sends to clients (spec v4 §9). Only these, and the clusters'
 * own errors, ever reach a client; messages start with `zdm-proxy:` so an operator can tell them apart.
 */

const NAME: Readonly<Record<ClusterName, string>> = { origin: 'Origin', target: 'Target' };

/** A cluster did not answer within PROXY_REQUEST_TIMEOUT_MS: READ_TIMEOUT or WRITE_TIMEOUT, so drivers apply their retry policy. */
export function timeoutError(
  cluster: ClusterName,
  timeoutMs: number,
  request: { readonly read: boolean; readonly consistency: number | null; readonly batch: boolean },
): ErrorBody {
  const message = `zdm-proxy: ${NAME[cluster]} did not answer within ${timeoutMs} ms (ZDM_PROXY_REQUEST_TIMEOUT_MS)`;
  if (request.consistency === null) return simpleError(ErrorCode.SERVER_ERROR, message);
  if (request.read) {
    return {
      kind: 'read_timeout',
      code: ErrorCode.READ_TIMEOUT,
      message,
      consistency: request.consistency,
      received: 0,
      blockFor: 1,
      dataPresent: false,
    };
  }
  return {
    kind: 'write_timeout',
    code: ErrorCode.WRITE_TIMEOUT,
    message,
    consistency: request.consistency,
    received: 0,
    blockFor: 1,
    writeType: request.batch ? 'BATCH' : 'SIMPLE',
    contentions: null,
  };
}

/** The proxy has no working connection to a cluster (down, reconnecting, or out of stream ids). */
export function unavailableError(cluster: ClusterName, reason: string, overloaded: boolean): ErrorBody {
  return simpleError(
    overloaded ? ErrorCode.OVERLOADED : ErrorCode.SERVER_ERROR,
    `zdm-proxy: ${NAME[cluster]} is unavailable: ${reason}`,
  );
}

export function protocolError(message: string): ErrorBody {
  return simpleError(ErrorCode.PROTOCOL_ERROR, message);
}

export function clusterLabel(cluster: ClusterName): string {
  return NAME[cluster];
}
