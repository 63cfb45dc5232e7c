#!/usr/bin/env node
import type { Argv } from 'yargs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { CLUSTER_SETTINGS } from '../config/cluster-settings.js';
import { describeSettings } from '../config/resolve.js';
import type { Logger } from '../log/logger.js';
import { createLogger } from '../log/logger.js';
import { PROXY_SETTINGS, proxyConfig } from '../proxy/proxy-settings.js';
import { startProxy } from '../proxy/start-proxy.js';
import { runCommand } from './run-command.js';
import {
  resolveFromArgv,
  withCommonOptions,
  withLogFormat,
  withSettingsOptions,
} from './settings-options.js';
import { failWithUsage, prepareUsage } from './usage-failure.js';

/** The proxy takes the cluster connection settings, minus the jobs' consistency levels. */
const CLUSTERS = Object.fromEntries(
  Object.entries(CLUSTER_SETTINGS).filter(([key]) => !/_(read|write)_consistency$/.test(key)),
) as typeof CLUSTER_SETTINGS;
const SPEC = { ...PROXY_SETTINGS, ...CLUSTERS };

/**
 * Last-resort handlers: each client session has its own error boundary, so an error reaching
 * here is a bug outside any session; the proxy logs it and keeps serving its other clients
 * rather than dropping every connection.
 */
function keepServingOnFaults(logger: Logger): void {
  process.on('uncaughtException', (error) =>
    logger.error({ err: error }, 'unexpected error outside any client session; still serving'),
  );
  process.on('unhandledRejection', (reason) =>
    logger.error({ err: reason }, 'unhandled promise rejection outside any client session; still serving'),
  );
}

const cli = yargs(hideBin(process.argv));
const knownFlags = prepareUsage(cli);
await withLogFormat(cli)
  .scriptName('zdm-proxy')
  .usage(
    '$0 <command> [options]\n\nDual-write CQL proxy: applications connect here; writes reach Origin and Target, reads come from the primary.',
  )
  .command(
    'start',
    'Connect to Origin and Target, then accept CQL clients',
    (y) =>
      withSettingsOptions(
        withSettingsOptions(withCommonOptions(y as Argv<object>), PROXY_SETTINGS, 'Proxy:'),
        CLUSTERS,
        'Clusters:',
      )
        .example('ZDM_ORIGIN_CONTACT_POINTS=10.0.0.1 ZDM_TARGET_CONTACT_POINTS=10.0.0.2 $0 start', '')
        .example('$0 start --config zdm-proxy.yaml --proxy-listen-address 0.0.0.0', '')
        .epilogue(
          [
            'Settings use the original zdm-proxy names: ZDM_<NAME> in the environment, <name> in the YAML file.',
            'The proxy waits for both clusters before it listens. SIGINT/SIGTERM: it refuses new clients, lets requests in flight finish (up to proxy_shutdown_timeout_ms), closes connections and exits 0; a second signal exits at once.',
            'Metrics: http://<metrics_address>:<metrics_port>/metrics, /health/readiness, /health/liveness.',
          ].join('\n'),
        ),
    // The handler returns only when the proxy could not start (a stopped proxy exits above): end the
    // process with its exit code, whatever a half-open cluster connection still holds.
    (argv) =>
      runCommand(async () => {
        const raw = argv as unknown as Record<string, unknown>;
        const logger = createLogger({
          level: (raw['log-level'] as string | undefined) ?? process.env.ZDM_LOG_LEVEL?.toLowerCase(),
        });
        const { values, unknownFileKeys } = resolveFromArgv(SPEC, raw);
        if (unknownFileKeys.length > 0)
          logger.warn({ keys: unknownFileKeys }, 'config file keys the proxy does not use');
        const config = proxyConfig(values);
        logger.info({ config: describeSettings(SPEC, values) }, 'effective configuration');
        keepServingOnFaults(logger);
        const proxy = await startProxy(config, logger);
        const signal = await new Promise<string>((resolve) => {
          process.once('SIGINT', () => resolve('SIGINT'));
          process.once('SIGTERM', () => resolve('SIGTERM'));
        });
        const bound = config.shutdownTimeoutMs;
        logger.info(
          { signal, sessions: proxy.sessions, timeoutMs: bound },
          'shutting down: refusing new clients, finishing requests in flight',
        );
        // The exit is certain: a second signal, or a shutdown stuck past its bound, ends the process with 0.
        const exit = () => {
          logger.warn('shutdown did not finish in time; exiting now');
          process.exit(0);
        };
        process.once('SIGINT', exit);
        process.once('SIGTERM', exit);
        setTimeout(exit, bound + 10_000).unref();
        const unfinished = await proxy.shutdown(bound);
        logger.info({ unfinished }, 'zdm-proxy stopped');
        // Whatever a driver or socket still holds open, a stopped proxy exits.
        process.exit(0);
      }).then(() => process.exit(process.exitCode ?? 1)),
  )
  .demandCommand(1, 'Name a command; see --help.')
  .strict()
  .fail(failWithUsage('zdm-proxy start', knownFlags))
  .wrap(Math.min(120, process.stdout.columns ?? 100))
  .parseAsync();
