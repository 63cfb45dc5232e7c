import { CassandraRunCatalog } from '../checkpoint/cassandra-run-catalog.js';
import { ensureStateSchema } from '../checkpoint/cassandra-state-schema.js';
import { leaseTiming } from '../checkpoint/lease.js';
import type { RunCatalog } from '../checkpoint/run-catalog.js';
import { SqliteRunCatalog } from '../checkpoint/sqlite-run-catalog.js';
import {
  CLUSTER_TITLE,
  type ClusterConfig,
  clusterConfig,
  clusterConfigProblems,
} from '../config/cluster-settings.js';
import { type CqlClient, connectCluster } from '../connect/cluster-client.js';
import { OperatorError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { RangeJobSettings } from './job-settings.js';

/** The settings that say where a run's state lives. */
export type StateSettings = Pick<
  RangeJobSettings,
  'state_store' | 'state_keyspace' | 'state_replication' | 'checkpoint_dir' | 'lease_seconds'
>;

/**
 * The catalog of runs the settings name: SQLite files in the checkpoint directory, or the state
 * keyspace on Target (reached through `target`, the job's own Target client; created on first use).
 */
export async function runCatalogFor(
  settings: StateSettings,
  logger: Logger,
  target: CqlClient | undefined,
): Promise<RunCatalog> {
  const timing = leaseTiming(settings.lease_seconds);
  if (settings.state_store === 'sqlite') return new SqliteRunCatalog(settings.checkpoint_dir, timing, logger);
  if (target === undefined) throw new Error('cassandra run state needs a Target client');
  await ensureStateSchema({
    client: target,
    keyspace: settings.state_keyspace,
    replication: settings.state_replication,
    logger,
  });
  return new CassandraRunCatalog({ client: target, keyspace: settings.state_keyspace, timing, logger });
}

/** The cluster that keeps run state in Cassandra: the state cluster when its contact points are given, else Target. */
export function stateClusterConfig(values: Readonly<Record<string, unknown>>): ClusterConfig {
  const own = (values.state_contact_points as readonly string[] | undefined) ?? [];
  return own.length > 0 ? clusterConfig(values, 'state') : clusterConfig(values, 'target');
}

/** Connects to the cluster `config` names for run state, refusing settings it cannot use. */
export function connectStateCluster(config: ClusterConfig, logger: Logger): Promise<CqlClient> {
  const problems = clusterConfigProblems(config);
  if (problems.length > 0)
    throw new OperatorError(
      'BAD_SETTINGS',
      `Run state in Cassandra is kept on ${CLUSTER_TITLE[config.role]}: ${problems.join('; ')}.`,
    );
  return connectCluster(config, logger, { connectionsPerHost: 1 });
}
