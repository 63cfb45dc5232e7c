#!/usr/bin/env -S node --max-old-space-size=256
// The shebang caps the old generation at 256 MB: the jobs' live data is bounded by pages in flight,
// and without a cap V8 lets garbage grow the heap with the length of the run. For tables with cells
// of many MB, lower --fetch-size, or run `node --max-old-space-size=N $(which zdm) ...`.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { clusterCommand } from '../cluster/cluster-command.js';
import { guardrailCommand } from '../guardrail/guardrail-command.js';
import { statusCommand } from '../job/status-command.js';
import { migrateCommand } from '../migrate/migrate-command.js';
import { schemaCheckCommand } from '../schema/schema-check-command.js';
import { diffCommand } from '../validate/diff-command.js';
import { withLogFormat } from './settings-options.js';
import { failWithUsage, prepareUsage } from './usage-failure.js';

const cli = yargs(hideBin(process.argv));
const knownFlags = prepareUsage(cli);
await withLogFormat(cli)
  .scriptName('zdm')
  .usage(
    '$0 <command> [options]\n\nMove a live application from one Cassandra cluster (Origin) to another (Target).',
  )
  .command(migrateCommand)
  .command(schemaCheckCommand)
  .command(diffCommand)
  .command(guardrailCommand)
  .command(statusCommand)
  .command(clusterCommand)
  .demandCommand(1, 'Name a command; see --help.')
  .strict()
  .recommendCommands()
  .fail(failWithUsage('zdm <command>', knownFlags))
  .wrap(Math.min(120, process.stdout.columns ?? 100))
  .epilogue('Settings come from --config (YAML), then ZDM_* environment variables, then flags (flags win).')
  .parseAsync();
