import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describeError, OperatorError } from '../errors.js';

/**
 * Where /metrics text comes from: a proxy's own registry, or the sum over its worker processes
 * (prom-client's Registry and a cluster aggregation both fit).
 */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

export interface HealthSource {
  /** Per cluster: is it reachable right now? */
  readonly status: () => { readonly origin: boolean; readonly target: boolean };
}

/**
 * The metrics port of the original proxy: `/metrics` (Prometheus text), `/health/readiness`
 * (200 when both clusters are up, 503 otherwise, with a JSON body) and `/health/liveness` (200).
 */
export async function startMetricsServer(
  metrics: MetricsSource,
  health: HealthSource,
  address: string,
  port: number,
): Promise<{ readonly port: number; close(): Promise<void> }> {
  const server = http.createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      metrics
        .metrics()
        .then((text) => {
          response.writeHead(200, { 'content-type': metrics.contentType });
          response.end(text);
        })
        .catch((error: unknown) => {
          response.writeHead(500);
          response.end(String(error));
        });
    } else if (path === '/health/readiness') {
      const { origin, target } = health.status();
      const body = {
        origin: { status: origin ? 'UP' : 'DOWN' },
        target: { status: target ? 'UP' : 'DOWN' },
        status: origin && target ? 'UP' : 'DOWN',
      };
      response.writeHead(origin && target ? 200 : 503, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    } else if (path === '/health/liveness') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"status":"UP"}');
    } else {
      response.writeHead(404);
      response.end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) =>
      reject(
        new OperatorError(
          'METRICS_LISTEN_FAILED',
          `Cannot serve metrics on ${address}:${port}: ${describeError(error)}`,
          'Another process (a second proxy?) holds that port: choose another ZDM_METRICS_PORT, or ZDM_METRICS_ENABLED=false.',
        ),
      ),
    );
    server.listen(port, address, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
