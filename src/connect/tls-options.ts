import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { ClusterConfig } from '../config/cluster-settings.js';
import { describeError, OperatorError } from '../errors.js';

/** Reads a PEM file named by a setting; an unreadable file is an operator error naming the settings. */
export function readPem(path: string, settings: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new OperatorError(
      'TLS_FILE_UNREADABLE',
      `Cannot read ${path}: ${describeError(error)}`,
      `Check the ${settings} settings.`,
    );
  }
}

/**
 * TLS options for connections to a cluster: one-way (CA only) or mutual (client cert and key), with
 * host name verification unless turned off. Undefined when the cluster is reached without TLS. Used by
 * the driver clients and the proxy's raw connections alike.
 */
export function clusterTlsOptions(config: ClusterConfig): ConnectionOptions | undefined {
  const tls = config.tls;
  if (tls === undefined) return undefined;
  const settings = `${config.role}_tls_*`;
  const options: ConnectionOptions = { rejectUnauthorized: tls.caPath !== undefined };
  if (tls.caPath !== undefined) options.ca = [readPem(tls.caPath, settings)];
  if (tls.certPath !== undefined) options.cert = readPem(tls.certPath, settings);
  if (tls.keyPath !== undefined) options.key = readPem(tls.keyPath, settings);
  // Node checks the host name by default; turning it off keeps the CA check.
  if (!tls.verifyHostname) options.checkServerIdentity = () => undefined;
  return options;
}
