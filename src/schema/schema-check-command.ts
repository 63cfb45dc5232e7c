import type { Argv, CommandModule } from 'yargs';
import { runCommand } from '../cli/run-command.js';
import { resolveFromArgv, withCommonOptions, withSettingsOptions } from '../cli/settings-options.js';
import { CLUSTER_SETTINGS, clusterConfig } from '../config/cluster-settings.js';
import { connectBoth } from '../connect/cluster-client.js';
import { tableRef } from '../job/range-job.js';
import { assertClusterConfigs, schemaMismatchError } from '../job/table-pair.js';
import { createLogger } from '../log/logger.js';
import { compareTables } from './compare.js';
import { readTableSchema } from './introspect.js';

interface SchemaCheckArgs {
  table: string;
  'target-table'?: string;
}

export const schemaCheckCommand: CommandModule<object, SchemaCheckArgs> = {
  command: 'schema-check <table>',
  describe: "Compare a table's definition on Origin and Target and list every incompatibility",
  builder: (yargs) =>
    withSettingsOptions(
      withCommonOptions(yargs as Argv<object>)
        .positional('table', { type: 'string', demandOption: true, describe: 'keyspace.table on Origin' })
        .option('target-table', {
          type: 'string',
          describe: 'keyspace.table on Target (default: the same name)',
        }),
      CLUSTER_SETTINGS,
      'Clusters:',
    ) as unknown as Argv<SchemaCheckArgs>,
  handler: (argv) =>
    runCommand(async () => {
      const { values } = resolveFromArgv(CLUSTER_SETTINGS, argv as unknown as Record<string, unknown>);
      const logger = createLogger({
        level: (argv as Record<string, unknown>)['log-level'] as string | undefined,
      });
      const origin = clusterConfig(values, 'origin');
      const target = clusterConfig(values, 'target');
      assertClusterConfigs(origin, target);
      const originRef = tableRef(argv.table, 'Table');
      const targetRef =
        argv['target-table'] === undefined ? originRef : tableRef(argv['target-table'], 'Target table');
      const clients = await connectBoth(origin, target, logger, { connectionsPerHost: 1 });
      try {
        const [a, b] = await Promise.all([
          readTableSchema(clients.origin, originRef.keyspace, originRef.table, 'Origin'),
          readTableSchema(clients.target, targetRef.keyspace, targetRef.table, 'Target'),
        ]);
        const problems = compareTables(a, b);
        if (problems.length > 0) throw schemaMismatchError(originRef, targetRef, problems);
        const columns = [...a.partitionKey, ...a.clustering, ...a.statics, ...a.regulars].length;
        process.stdout.write(
          `Compatible: ${originRef.keyspace}.${originRef.table} (Origin) and ${targetRef.keyspace}.${targetRef.table} (Target), ${columns} columns.\n`,
        );
        return 0;
      } finally {
        await Promise.allSettled([clients.origin.shutdown(), clients.target.shutdown()]);
      }
    }),
};
