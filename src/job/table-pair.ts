import { type ClusterConfig, clusterConfigProblems } from '../config/cluster-settings.js';
import { type ClientTuning, type CqlClient, connectBoth } from '../connect/cluster-client.js';
import { OperatorError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import {
  type ColumnMapping,
  compareTables,
  IDENTITY_MAPPING,
  type Incompatibility,
} from '../schema/compare.js';
import { readTableSchema } from '../schema/introspect.js';
import type { TableSchema } from '../schema/table-schema.js';

export interface TableRef {
  readonly keyspace: string;
  readonly table: string;
}

/** Origin and Target connected, with both tables' schemas read and found compatible. */
export interface TablePair {
  readonly origin: CqlClient;
  readonly target: CqlClient;
  readonly originSchema: TableSchema;
  readonly targetSchema: TableSchema;
  readonly mapping: ColumnMapping;
  close(): Promise<void>;
}

export function assertClusterConfigs(...configs: ClusterConfig[]): void {
  const problems = configs.flatMap(clusterConfigProblems);
  if (problems.length > 0) {
    throw new OperatorError(
      'CONFIG_INVALID',
      `Invalid configuration:\n  - ${problems.join('\n  - ')}`,
      'Give them as flags, ZDM_* environment variables or keys of a --config file.',
    );
  }
}

export function schemaMismatchError(
  origin: TableRef,
  target: TableRef,
  problems: readonly Incompatibility[],
) {
  return new OperatorError(
    'SCHEMA_MISMATCH',
    `Origin table ${origin.keyspace}.${origin.table} and Target table ${target.keyspace}.${target.table} are not compatible:\n  - ${problems
      .map((p) => p.message)
      .join('\n  - ')}`,
    'Create the Target table with the same columns, types and keys (or map columns with --skip-columns / --rename-columns).',
    { exitCode: 3 },
  );
}

/**
 * Connects to both clusters and reads both table definitions; refuses, listing every difference,
 * when Target cannot take Origin's rows. Every job starts here, before it writes anything.
 */
export async function openTablePair(options: {
  readonly originConfig: ClusterConfig;
  readonly targetConfig: ClusterConfig;
  readonly originTable: TableRef;
  readonly targetTable: TableRef;
  readonly mapping?: ColumnMapping;
  readonly logger: Logger;
  readonly tuning?: ClientTuning;
}): Promise<TablePair> {
  assertClusterConfigs(options.originConfig, options.targetConfig);
  const mapping = options.mapping ?? IDENTITY_MAPPING;
  const clients = await connectBoth(
    options.originConfig,
    options.targetConfig,
    options.logger,
    options.tuning,
  );
  const close = async () => {
    await Promise.allSettled([clients.origin.shutdown(), clients.target.shutdown()]);
  };
  try {
    // Origin first: when both lack the table, the operator hears about the source of the data.
    const originSchema = await readTableSchema(
      clients.origin,
      options.originTable.keyspace,
      options.originTable.table,
      'Origin',
    );
    const targetSchema = await readTableSchema(
      clients.target,
      options.targetTable.keyspace,
      options.targetTable.table,
      'Target',
    );
    const problems = compareTables(originSchema, targetSchema, mapping);
    if (problems.length > 0) throw schemaMismatchError(options.originTable, options.targetTable, problems);
    return { ...clients, originSchema, targetSchema, mapping, close };
  } catch (error) {
    await close();
    throw error;
  }
}
