import { type ClusterConfig, clusterConfig } from '../config/cluster-settings.js';
import { connectCluster } from '../connect/cluster-client.js';
import { describeError, OperatorError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { combinedExitCode, keyspaceTables, parseTableSelection, type TableOutcome } from './table-list.js';

/** Exit code of a run stopped by Ctrl-C / SIGTERM (the same for migrate and diff). */
const INTERRUPTED = 130;

export interface TableRuns {
  /** The command's table argument: `ks.t`, `ks.t1,ks.t2` or `ks`. */
  readonly selection: string;
  readonly clusters: Readonly<Record<string, unknown>>;
  /** Options that only fit one table (`--target-table`, diff's `--rerun`), by flag, with their values. */
  readonly singleTableOptions: Readonly<Record<string, unknown>>;
  readonly json: boolean;
  readonly logger: Logger;
  /** Runs the job on one table and returns its exit code (its own summary printed). */
  readonly runOne: (table: string) => Promise<number>;
}

async function listKeyspaceTables(
  config: ClusterConfig,
  keyspace: string,
  logger: Logger,
): Promise<string[]> {
  const client = await connectCluster(config, logger, { connectionsPerHost: 1 });
  try {
    const result = await client.execute(
      'SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?',
      [keyspace],
    );
    return keyspaceTables(
      keyspace,
      result.rows.map((r) => String(r.get('table_name'))),
    );
  } finally {
    await client.shutdown();
  }
}

/**
 * Runs a job on every table the argument names, one after another: each table has its own
 * checkpoint state (and resumes on its own), a table that fails does not stop the others, and a
 * last summary gives each table's outcome. One table runs exactly as before.
 */
export async function runTables(input: TableRuns): Promise<number> {
  const selection = parseTableSelection(input.selection);
  const tables =
    selection.kind === 'tables'
      ? selection.tables
      : await listKeyspaceTables(clusterConfig(input.clusters, 'origin'), selection.keyspace, input.logger);
  if (tables.length === 1 && selection.kind === 'tables') return input.runOne(tables[0]!);
  const given = Object.entries(input.singleTableOptions).find(([, value]) => value !== undefined);
  if (given !== undefined)
    throw new OperatorError(
      'OPTION_FOR_ONE_TABLE',
      `${given[0]} applies to one table, but "${input.selection}" names ${tables.length}.`,
      `Run that table by itself with ${given[0]}, and the others without it.`,
    );
  const outcomes: TableOutcome[] = [];
  for (const [i, table] of tables.entries()) {
    input.logger.info(
      { table, index: i + 1, of: tables.length },
      `table ${i + 1} of ${tables.length}: ${table}`,
    );
    try {
      outcomes.push({ table, exitCode: await input.runOne(table) });
    } catch (error) {
      const exitCode = error instanceof OperatorError ? error.exitCode : 1;
      input.logger.error(
        { table, err: describeError(error) },
        `${table} could not run; going on with the others`,
      );
      outcomes.push({ table, exitCode, error: describeError(error) });
    }
    if (outcomes.at(-1)!.exitCode === INTERRUPTED) break;
  }
  printTableOutcomes(outcomes, tables.length, input.json);
  return combinedExitCode(outcomes, INTERRUPTED);
}

function printTableOutcomes(outcomes: readonly TableOutcome[], planned: number, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify({ summary: 'tables', planned, tables: outcomes })}\n`);
    return;
  }
  const width = Math.max(5, ...outcomes.map((o) => o.table.length));
  const lines = outcomes.map(
    (o) => `  ${o.table.padEnd(width)}  exit ${o.exitCode}${o.error === undefined ? '' : `  ${o.error}`}`,
  );
  const notRun = planned - outcomes.length;
  process.stdout.write(
    `Tables: ${outcomes.length} of ${planned} run${notRun > 0 ? ` (${notRun} not started: interrupted)` : ''}\n${lines.join('\n')}\n`,
  );
}
