import type { Argv, CommandModule } from 'yargs';
import { runCommand } from '../cli/run-command.js';
import { resolveFromArgv, withCommonOptions, withSettingsOptions } from '../cli/settings-options.js';
import { CLUSTER_SETTINGS } from '../config/cluster-settings.js';
import { createLogger } from '../log/logger.js';
import { asScanFailure, GUARDRAIL_EXIT, runGuardrail } from './guardrail-job.js';
import { GUARDRAIL_RUN_SETTINGS, GUARDRAIL_SETTINGS } from './guardrail-settings.js';

/** The scan reads Origin only: Origin's connection settings. */
const ORIGIN_SETTINGS = Object.fromEntries(
  Object.entries(CLUSTER_SETTINGS).filter(
    ([key]) => key.startsWith('origin_') && !key.endsWith('_write_consistency'),
  ),
) as typeof CLUSTER_SETTINGS;

const SPEC = { ...ORIGIN_SETTINGS, ...GUARDRAIL_RUN_SETTINGS, ...GUARDRAIL_SETTINGS };

export const guardrailCommand: CommandModule<object, { table: string }> = {
  command: 'guardrail <table>',
  describe:
    "Scan a table on Origin before a migration: big partitions, cells and collections, and what Target's limits will refuse",
  builder: (yargs) => {
    const withTable = withCommonOptions(yargs as Argv<object>).positional('table', {
      type: 'string',
      demandOption: true,
      describe: 'keyspace.table on Origin (quote case-sensitive names: \'"Ks"."Table"\')',
    });
    return withSettingsOptions(
      withSettingsOptions(
        withSettingsOptions(withTable, GUARDRAIL_SETTINGS, 'Thresholds and Target limits:'),
        GUARDRAIL_RUN_SETTINGS,
        'Run:',
      ),
      ORIGIN_SETTINGS,
      'Origin:',
    )
      .epilogue(
        [
          'Reads every row of the table from Origin over token ranges (nothing is written anywhere) and measures each value by its serialized size, as the native protocol carries it. Partition sizes are an estimate of the data (keys and values read), not of the size on disk, which compression and per-cell metadata change.',
          '',
          "Two kinds of finding: REFUSED, a value or row that Target will reject with its limits (--target-* flags; defaults are stock Cassandra 5.0: max_value_size 256MiB, native_transport_max_frame_size 16MiB, max_mutation_size 16MiB, data guardrails off); and over, a partition, cell or collection above this run's thresholds. Give Target's actual limits when they differ from stock.",
          '',
          'The worst findings are listed as a table on stdout; every finding goes to a JSON Lines report in --report-dir; the summary goes to stdout (--json: one JSON object). Ctrl-C stops the scan; a rerun reads the table again.',
          '',
          `Exit codes: ${GUARDRAIL_EXIT.clean} nothing over a threshold or a Target limit, ${GUARDRAIL_EXIT.findings} findings (something Target will refuse, or over a threshold), ${GUARDRAIL_EXIT.failed} bad input, unreachable cluster or ranges that could not be read, ${GUARDRAIL_EXIT.interrupted} interrupted.`,
        ].join('\n'),
      )
      .example('$0 guardrail shop.orders --origin-contact-points 10.0.0.1', '')
      .example(
        '$0 guardrail shop.orders --config zdm.yaml --cell-size-threshold 1MiB --target-max-mutation-size 32MiB',
        'a Target with a 64MiB commitlog segment',
      ) as unknown as Argv<{ table: string }>;
  },
  handler: (argv) =>
    runCommand(async () => {
      const raw = argv as unknown as Record<string, unknown>;
      try {
        const { values, unknownFileKeys } = resolveFromArgv(SPEC, raw);
        const logger = createLogger({ level: raw['log-level'] as string | undefined });
        if (unknownFileKeys.length > 0)
          logger.warn({ keys: unknownFileKeys }, 'config file keys that guardrail does not use');
        return await runGuardrail({
          table: argv.table,
          clusters: values,
          run: values,
          guardrail: values,
          logger,
          tty: process.stderr.isTTY === true && !values.json,
        });
      } catch (error) {
        throw asScanFailure(error);
      }
    }),
};
