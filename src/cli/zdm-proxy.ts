#!/usr/bin/env node
import type { Argv } from 'yargs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { CLUSTER_SETTINGS } from '../config/cluster-settings.js';
import { describeSettings } from '../config/resolve.js';
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
            'The proxy waits for both clusters before it listens; SIGINT/SIGTERM close it cleanly.',
            'Metrics: http://<metrics_address>:<metrics_port>/metrics, /health/readiness, /health/liveness.',
          ].join('\n'),
        ),
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
        const proxy = await startProxy(config, logger);
        await new Promise<void>((resolve) => {
          const stop = (signal: string) => {
            logger.info({ signal }, 'shutting down');
            resolve();
          };
          process.once('SIGINT', () => stop('SIGINT'));
          process.once('SIGTERM', () => stop('SIGTERM'));
        });
        await proxy.close();
        return 0;
      }),
  )
  .demandCommand(1, 'Name a command; see --help.')
  .strict()
  .fail(failWithUsage('zdm-proxy start', knownFlags))
  .wrap(Math.min(120, process.stdout.columns ?? 100))
  .parseAsync();
