import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { readPem } from '../connect/tls-options.js';
import { describeError, OperatorError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { ClientSession, type SessionContext } from './client-session.js';
import type { ProxyConfig } from './proxy-settings.js';
import { refuseConnection, tooManyConnectionsError } from './refuse-connection.js';

/** Time a refused client has to send its first request and read the answer. */
const REFUSAL_TIMEOUT_MS = 5000;
/** Refused connections still being answered; beyond this, more are closed without an answer. */
const MAX_PENDING_REFUSALS = 256;
/** Refusals are logged at most this often (with a count), so a flood of clients cannot flood the log. */
const REFUSAL_LOG_INTERVAL_MS = 10_000;

/**
 * The transport adapter: a TCP (or TLS) listener that hands every accepted socket to a
 * ClientSession. Sessions only see a Duplex; everything network-specific stays here.
 */
export interface ProxyListener {
  readonly address: string;
  readonly port: number;
  readonly sessions: number;
  /** Serves a client connection accepted elsewhere (a worker pool's primary), as if accepted here. */
  adopt(socket: net.Socket): void;
  close(): Promise<void>;
}

/**
 * Listens on the configured address and port; or, with `acceptedElsewhere` (the address a pool's
 * primary listens on), does not listen and serves only the connections given to `adopt`.
 */
export async function listen(
  config: ProxyConfig,
  contextFor: (socket: net.Socket) => SessionContext,
  logger: Logger,
  acceptedElsewhere?: { readonly address: string; readonly port: number },
): Promise<ProxyListener> {
  const sessions = new Set<ClientSession>();
  const refusing = new Set<net.Socket>();
  const logRefusal = throttledRefusalLog(config.maxClientConnections, logger);
  const refusal = tooManyConnectionsError(config.maxClientConnections, 'ZDM_PROXY_MAX_CLIENT_CONNECTIONS');
  const accept = (socket: net.Socket) => {
    if (sessions.size >= config.maxClientConnections) {
      logRefusal(socket.remoteAddress);
      if (refusing.size >= MAX_PENDING_REFUSALS) {
        socket.destroy();
        return;
      }
      refusing.add(socket);
      void refuseConnection(socket, refusal, { timeoutMs: REFUSAL_TIMEOUT_MS }).then(() =>
        refusing.delete(socket),
      );
      return;
    }
    socket.setNoDelay(true);
    const session = new ClientSession(socket, contextFor(socket));
    sessions.add(session);
    socket.once('close', () => sessions.delete(session));
  };
  const server =
    config.tls === undefined ? net.createServer(accept) : tls.createServer(serverTls(config.tls), accept);
  server.on('tlsClientError', (error) =>
    logger.info({ err: describeError(error) }, 'client TLS handshake failed'),
  );
  if (acceptedElsewhere !== undefined) {
    return {
      ...acceptedElsewhere,
      get sessions() {
        return sessions.size;
      },
      // A TLS server takes a raw socket through 'connection' like one it accepted, handshake included.
      adopt: (socket) => server.emit('connection', socket),
      close: async () => {
        for (const session of sessions) session.close();
        for (const socket of refusing) socket.destroy();
      },
    };
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(listenFailure(config, error)));
    server.listen(config.listenPort, config.listenAddress, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  return {
    address: bound.address,
    port: bound.port,
    get sessions() {
      return sessions.size;
    },
    adopt: (socket) => server.emit('connection', socket),
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const session of sessions) session.close();
      for (const socket of refusing) socket.destroy();
      await closed;
    },
  };
}

/** The operator's error when the client port cannot be listened on (taken, or not an address of this host). */
export function listenFailure(config: ProxyConfig, error: unknown): OperatorError {
  return new OperatorError(
    'PROXY_LISTEN_FAILED',
    `Cannot listen on ${config.listenAddress}:${config.listenPort}: ${describeError(error)}`,
    'Choose another ZDM_PROXY_LISTEN_ADDRESS / ZDM_PROXY_LISTEN_PORT.',
  );
}

/** Logs the first refusal at once, then at most one line per interval with the count since. */
function throttledRefusalLog(max: number, logger: Logger): (from: string | undefined) => void {
  let lastLogged = Number.NEGATIVE_INFINITY;
  let unlogged = 0;
  return (from) => {
    unlogged++;
    const now = Date.now();
    if (now - lastLogged < REFUSAL_LOG_INTERVAL_MS) return;
    logger.warn(
      { max, from, refused: unlogged },
      'refusing clients: too many connections (ZDM_PROXY_MAX_CLIENT_CONNECTIONS); they get an OVERLOADED error',
    );
    lastLogged = now;
    unlogged = 0;
  };
}

function serverTls(options: NonNullable<ProxyConfig['tls']>): tls.TlsOptions {
  const read = (path: string) => readPem(path, 'proxy_tls_*');
  return {
    cert: read(options.certPath),
    key: read(options.keyPath),
    ...(options.caPath === undefined ? {} : { ca: [read(options.caPath)] }),
    requestCert: options.requireClientAuth,
    rejectUnauthorized: options.requireClientAuth,
  };
}
