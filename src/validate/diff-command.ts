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
import { asRunFailure, DIFF_EXIT, runDiff } from './diff-job.js';
import { DIFF_SETTINGS } from './diff-settings.js';

const SPEC = {
  ...CLUSTER_SETTINGS,
  ...STATE_CLUSTER_SETTINGS,
  ...RANGE_JOB_SETTINGS,
  ...WORKER_SETTINGS,
  ...DIFF_SETTINGS,
};

export const diffCommand: CommandModule<object, { table: string }> = {
  command: 'diff <table>',
  describe:
    'Compare a table on Origin and Target (values, writetimes, TTLs), report every difference, optionally repair',
  builder: (yargs) => {
    const withTable = withCommonOptions(yargs as Argv<object>).positional('table', {
      type: 'string',
      demandOption: true,
      describe: TABLE_ARGUMENT_HELP,
    });
    // yargs parses --no-writetime / --no-ttl as "writetime false" / "ttl false": declared (hidden) so
    // that strict mode accepts them; the handler turns them back into no_writetime / no_ttl.
    const negatable = withTable
      .option('writetime', { type: 'boolean', hidden: true })
      .option('ttl', { type: 'boolean', hidden: true });
    return withSettingsOptions(
      withSettingsOptions(
        withSettingsOptions(
          withSettingsOptions(
            withSettingsOptions(negatable, DIFF_SETTINGS, 'Diff:'),
            RANGE_JOB_SETTINGS,
            'Run:',
          ),
          WORKER_SETTINGS,
          'Run:',
        ),
        CLUSTER_SETTINGS,
        'Clusters:',
      ),
      STATE_CLUSTER_SETTINGS,
      'State cluster (state_store cassandra; default Target):',
    )
      .epilogue(
        [
          'Both clusters are read over the same token ranges in token and clustering order and merged (no lookup per row). A difference is read again from both clusters after --recheck-delay-ms and reported only if it persists. --origin-rate-limit / --target-rate-limit bound the rows read per second from each cluster.',
          '',
          'Differences go to a JSON Lines report beside the checkpoint (<checkpoint>.diff.jsonl); the summary goes to stdout (--json: one JSON object). An interrupted run resumes when the same command runs again; after a completed run the same command starts a new one.',
          '',
          `${WORKERS_HELP} Every worker appends to the report of its machine; with --state-store cassandra each machine adds the lines the others found when it ends, so the last to end holds the whole report.`,
          '',
          'Autocorrect writes with the writetimes of Origin\'s cells and deletes extra rows at the newest writetime seen on them: a newer Target write always wins and is reported as "superseded".',
          '',
          `Exit codes: ${DIFF_EXIT.clean} no difference remains, ${DIFF_EXIT.differences} differences found (and not all corrected), ${DIFF_EXIT.failed} the run failed (bad input, unreachable cluster, ranges that could not be compared), ${DIFF_EXIT.schemaMismatch} Origin and Target tables incompatible, ${DIFF_EXIT.interrupted} interrupted (resumable).`,
        ].join('\n'),
      )
      .example('$0 diff shop.orders --origin-contact-points 10.0.0.1 --target-contact-points 10.1.0.1', '')
      .example('$0 diff shop.orders --config zdm.yaml --autocorrect', 'repair missing and mismatched rows')
      .example(
        '$0 diff shop.orders --config zdm.yaml --rerun checkpoints/diff-shop.orders-20250101-120000.sqlite --autocorrect',
        'repair after review, reading only the ranges that differed',
      )
      .example(
        '$0 diff shop.orders --config zdm.yaml --from-journal zdm-proxy-state/divergence-journal.jsonl --autocorrect',
        "validate and repair the partitions the proxy's divergence journal lists",
      ) as unknown as Argv<{
      table: string;
    }>;
  },
  handler: (argv) =>
    runCommand(async () => {
      // yargs reads --no-writetime / --no-ttl as the negation of --writetime / --ttl.
      const raw = { ...(argv as unknown as Record<string, unknown>) };
      if (raw.writetime === false) raw['no-writetime'] = true;
      if (raw.ttl === false) raw['no-ttl'] = true;
      try {
        const { values, unknownFileKeys } = resolveFromArgv(SPEC, raw);
        const logger = createLogger({ level: raw['log-level'] as string | undefined });
        if (unknownFileKeys.length > 0)
          logger.warn({ keys: unknownFileKeys }, 'config file keys that diff does not use');
        const role = workerRole(values.workers, process.env[JOIN_RUN_ENV]);
        const runOne = (table: string) =>
          runDiff({
            table,
            clusters: values,
            job: values,
            diff: values,
            logger,
            tty: process.stderr.isTTY === true && !values.json && role.kind !== 'child',
            role,
          });
        // A worker started by `--workers N` joins the run of one table, whatever the selection named.
        if (role.kind === 'child') return await runOne(role.table);
        return await runTables({
          selection: argv.table,
          clusters: values,
          singleTableOptions: {
            '--target-table': values.target_table,
            '--rerun': values.rerun,
            '--from-journal': values.from_journal,
          },
          json: values.json,
          logger,
          runOne,
        });
      } catch (error) {
        throw asRunFailure(error);
      }
    }),
};
