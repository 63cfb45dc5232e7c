#!/usr/bin/env node
import type { Argv } from 'yargs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { CLUSTER_SETTINGS } from '../config/cluster-settings.js';
import { describeSettings } from '../config/resolve.js';
import type { Logger } from '../log/logger.js';
import { createLogger } from '../log/logger.js';
import { keepServingOnFaults } from '../proxy/keep-serving.js';
import type { ProxyConfig } from '../proxy/proxy-settings.js';
import { PROXY_SETTINGS, proxyConfig } from '../proxy/proxy-settings.js';
import { startProxy } from '../proxy/start-proxy.js';
import { firstStopSignal, stopNowOnSecondSignalOrLate } from '../proxy/stop-signals.js';
import { runWorkerPool } from '../proxy/workers/worker-pool.js';
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
            'With proxy_workers above 1, worker processes share the listening port; signals drain them all, and a worker that stops unexpectedly is restarted (5 times in 5 minutes at most, then the proxy exits 1).',
            'Metrics: http://<metrics_address>:<metrics_port>/metrics (summed over the workers), /health/readiness, /health/liveness.',
          ].join('\n'),
        ),
    // Stopped or failed, the process ends with the command's exit code, whatever a half-open
    // cluster connection still holds.
    (argv) =>
      runCommand(async () => {
        const raw = argv as unknown as Record<string, unknown>;
        const logLevel = (raw['log-level'] as string | undefined) ?? process.env.ZDM_LOG_LEVEL?.toLowerCase();
        const logger = createLogger({ level: logLevel });
        const { values, unknownFileKeys } = resolveFromArgv(SPEC, raw);
        if (unknownFileKeys.length > 0)
          logger.warn({ keys: unknownFileKeys }, 'config file keys the proxy does not use');
        const config = proxyConfig(values);
        logger.info({ config: describeSettings(SPEC, values) }, 'effective configuration');
        keepServingOnFaults(logger);
        // One worker is the proxy in this very process, exactly as before workers existed.
        return config.workers === 1
          ? runSingleProcess(config, logger)
          : runWorkerPool(config, logger, { logLevel });
      }).then(() => process.exit(process.exitCode ?? 1)),
  )
  .demandCommand(1, 'Name a command; see --help.')
  .strict()
  .fail(failWithUsage('zdm-proxy start', knownFlags))
  .wrap(Math.min(120, process.stdout.columns ?? 100))
  .parseAsync();

/** The proxy in this process until SIGINT/SIGTERM, then its drain; the process exits 0 after. */
async function runSingleProcess(config: ProxyConfig, logger: Logger): Promise<number> {
  const proxy = await startProxy(config, logger);
  const signal = await firstStopSignal();
  const bound = config.shutdownTimeoutMs;
  logger.info(
    { signal, sessions: proxy.sessions, timeoutMs: bound },
    'shutting down: refusing new clients, finishing requests in flight',
  );
  stopNowOnSecondSignalOrLate(bound, () => {
    logger.warn('shutdown did not finish in time; exiting now');
    process.exit(0);
  });
  const unfinished = await proxy.shutdown(bound);
  logger.info({ unfinished }, 'zdm-proxy stopped');
  return 0;
}
