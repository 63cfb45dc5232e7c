import type { ProxyConfig } from '../proxy-settings.js';
import type { ClusterHealth } from './pool-health.js';

/**
 * The IPC conversation between the pool (primary process) and its workers. Every message has a
 * `type` under `zdm:`, so prom-client's own metrics requests share the channel without confusion.
 */
export type ToWorker =
  /** The validated configuration (the primary validates it once) and the log level. */
  | { readonly type: 'zdm:start'; readonly config: ProxyConfig; readonly logLevel: string | undefined }
  /**
   * Serve clients: the primary listens on `address:port` (from the moment every first-generation
   * worker reached its clusters) and hands connections over with `zdm:connection`.
   */
  | { readonly type: 'zdm:listen'; readonly address: string; readonly port: number }
  /** A client connection, sent with its socket handle. */
  | { readonly type: 'zdm:connection' }
  /** Drain: what SIGTERM does to a single proxy process. */
  | { readonly type: 'zdm:shutdown' }
  /** A second signal: exit at once. */
  | { readonly type: 'zdm:exit-now' };

/** A startup failure, as the primary must report it: an operator error keeps its code and exit code. */
export interface StartFailure {
  readonly code: string | undefined;
  readonly message: string;
  readonly hint: string | undefined;
  readonly exitCode: number;
}

export type FromWorker =
  /** Listening to the channel: the primary may send `zdm:start` (a message sent earlier would be lost). */
  | { readonly type: 'zdm:booted' }
  /** Both clusters answered; waiting for `zdm:listen`. */
  | { readonly type: 'zdm:connected' }
  /** A client connection handed over has closed (the primary balances by open connections). */
  | { readonly type: 'zdm:released' }
  | { readonly type: 'zdm:ready'; readonly address: string; readonly port: number }
  | { readonly type: 'zdm:failed'; readonly failure: StartFailure }
  | { readonly type: 'zdm:health'; readonly health: ClusterHealth };

function hasType(message: unknown): message is { type: string } {
  return (
    typeof message === 'object' &&
    message !== null &&
    typeof (message as { type?: unknown }).type === 'string'
  );
}

export function isToWorker(message: unknown): message is ToWorker {
  return hasType(message) && message.type.startsWith('zdm:');
}

export function isFromWorker(message: unknown): message is FromWorker {
  return hasType(message) && message.type.startsWith('zdm:');
}
