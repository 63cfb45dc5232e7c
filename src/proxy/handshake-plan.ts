import type { ClusterName } from './route-request.js';

/** Who authenticates where, once both clusters have answered the client's STARTUP. */
export interface HandshakePlan {
  /** The cluster whose handshake the client goes through with its own credentials; null: none asks. */
  readonly client: ClusterName | null;
  /** Clusters the proxy authenticates itself, with the configured credentials. */
  readonly proxy: readonly ClusterName[];
}

/**
 * The four cases of REFERENCE §1: only one cluster asks → the client authenticates there; both ask
 * → the client authenticates with Target (or with Origin under FORWARD_CLIENT_CREDENTIALS_TO_ORIGIN)
 * and the proxy uses its configured credentials for the other one.
 */
export function handshakePlan(
  originAsks: boolean,
  targetAsks: boolean,
  forwardClientCredentialsToOrigin: boolean,
): HandshakePlan {
  if (!originAsks && !targetAsks) return { client: null, proxy: [] };
  if (originAsks && !targetAsks) return { client: 'origin', proxy: [] };
  if (!originAsks && targetAsks) return { client: 'target', proxy: [] };
  return forwardClientCredentialsToOrigin
    ? { client: 'origin', proxy: ['target'] }
    : { client: 'target', proxy: ['origin'] };
}
