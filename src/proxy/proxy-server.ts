import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { readPem } from '../connect/tls-options.js';
import { describeError, OperatorError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { ClientSession, type SessionContext } from './client-session.js';
import type { ProxyConfig } from './proxy-settings.js';

/**
 * The transport adapter: a TCP (or TLS) listener that hands every accepted socket to a
 * ClientSession. Sessions only see a Duplex; everything network-specific stays here.
 */
export interface ProxyListener {
  readonly address: string;
  readonly port: number;
  readonly sessions: number;
  close(): Promise<void>;
}

export async function listen(
  config: ProxyConfig,
  contextFor: (socket: net.Socket) => SessionContext,
  logger: Logger,
): Promise<ProxyListener> {
  const sessions = new Set<ClientSession>();
  const accept = (socket: net.Socket) => {
    if (sessions.size >= config.maxClientConnections) {
      logger.warn(
        { max: config.maxClientConnections, from: socket.remoteAddress },
        'refusing a client: too many connections (ZDM_PROXY_MAX_CLIENT_CONNECTIONS)',
      );
      socket.destroy();
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
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) =>
      reject(
        new OperatorError(
          'PROXY_LISTEN_FAILED',
          `Cannot listen on ${config.listenAddress}:${config.listenPort}: ${describeError(error)}`,
          'Choose another ZDM_PROXY_LISTEN_ADDRESS / ZDM_PROXY_LISTEN_PORT.',
        ),
      ),
    );
    server.listen(config.listenPort, config.listenAddress, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  return {
    address: bound.address,
    port: bound.port,
    get sessions() {
      return sessions.size;
    },
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const session of sessions) session.close();
      await closed;
    },
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
