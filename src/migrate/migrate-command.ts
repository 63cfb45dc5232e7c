import type { Argv, CommandModule } from 'yargs';
import { runCommand } from '../cli/run-command.js';
import { resolveFromArgv, withCommonOptions, withSettingsOptions } from '../cli/settings-options.js';
import { CLUSTER_SETTINGS, STATE_CLUSTER_SETTINGS } from '../config/cluster-settings.js';
import { RANGE_JOB_SETTINGS } from '../job/job-settings.js';
import { TABLE_ARGUMENT_HELP } from '../job/table-list.js';
import { runTables } from '../job/table-runs.js';
import { WORKERS_HELP } from '../job/worker-help.js';
import { JOIN_RUN_ENV, workerRole } from '../job/worker-role.js';
import { WORKER_SETTINGS } from '../job/worker-settings.js';
import { createLogger } from '../log/logger.js';
import { MIGRATE_EXIT, runMigrate } from './migrate-job.js';
import { MIGRATE_SETTINGS } from './migrate-settings.js';

const SPEC = {
  ...CLUSTER_SETTINGS,
  ...STATE_CLUSTER_SETTINGS,
  ...RANGE_JOB_SETTINGS,
  ...WORKER_SETTINGS,
  ...MIGRATE_SETTINGS,
};

export const migrateCommand: CommandModule<object, { table: string }> = {
  command: 'migrate <table>',
  describe: "Copy tables from Origin to Target over token ranges, keeping every cell's writetime and TTL",
  builder: (yargs) => {
    const withTable = withCommonOptions(yargs as Argv<object>).positional('table', {
      type: 'string',
      demandOption: true,
      describe: TABLE_ARGUMENT_HELP,
    });
    return withSettingsOptions(
      withSettingsOptions(
        withSettingsOptions(
          withSettingsOptions(
            withSettingsOptions(withTable, RANGE_JOB_SETTINGS, 'Run:'),
            WORKER_SETTINGS,
            'Run:',
          ),
          MIGRATE_SETTINGS,
          'Counters:',
        ),
        CLUSTER_SETTINGS,
        'Clusters:',
      ),
      STATE_CLUSTER_SETTINGS,
      'State cluster (state_store cassandra; default Target):',
    )
      .epilogue(
        [
          'State is kept in an SQLite checkpoint under --checkpoint-dir: run the same command again after any',
          'interruption (Ctrl-C, kill, crash, outage) and it resumes, skipping finished ranges and continuing',
          'unfinished ones from their last saved page. Ranges that failed are retried on the next run.',
          'With --state-store cassandra the state lives in a keyspace on Target or --state-contact-points (--state-keyspace, created on first',
          'use) and several processes may work on one run: each claims token ranges under a lease',
          '(--lease-seconds); the ranges of a killed or hung process are taken over when its lease expires.',
          '',
          WORKERS_HELP,
          '',
          `Exit codes: ${MIGRATE_EXIT.ok} all copied, ${MIGRATE_EXIT.rangesFailed} some ranges failed, ${MIGRATE_EXIT.operatorError} bad input or`,
          `unreachable cluster, ${MIGRATE_EXIT.schemaMismatch} Origin and Target tables incompatible, ${MIGRATE_EXIT.interrupted} interrupted (resumable).`,
        ].join('\n'),
      )
      .example('$0 migrate shop.orders --origin-contact-points 10.0.0.1 --target-contact-points 10.1.0.1', '')
      .example('$0 migrate shop --config zdm.yaml', 'every table of keyspace shop, one after another')
      .example('$0 migrate shop.orders --config zdm.yaml --concurrency 16 --target-rate-limit 20000', '')
      .example(
        '$0 migrate shop.orders --config zdm.yaml --workers 4 --state-store cassandra',
        'four worker processes here; the same command on another machine joins the run',
      ) as unknown as Argv<{
      table: string;
    }>;
  },
  handler: (argv) =>
    runCommand(async () => {
      const raw = argv as unknown as Record<string, unknown>;
      const { values, unknownFileKeys } = resolveFromArgv(SPEC, raw);
      const logger = createLogger({ level: raw['log-level'] as string | undefined });
      if (unknownFileKeys.length > 0)
        logger.warn({ keys: unknownFileKeys }, 'config file keys that migrate does not use');
      const role = workerRole(values.workers, process.env[JOIN_RUN_ENV]);
      const runOne = (table: string) =>
        runMigrate({
          table,
          clusters: values,
          job: values,
          migrate: values,
          logger,
          tty: process.stderr.isTTY === true && !values.json && role.kind !== 'child',
          role,
        });
      // A worker started by `--workers N` joins the run of one table, whatever the selection named.
      if (role.kind === 'child') return runOne(role.table);
      return runTables({
        selection: argv.table,
        clusters: values,
        singleTableOptions: { '--target-table': values.target_table },
        json: values.json,
        logger,
        runOne,
      });
    }),
};
