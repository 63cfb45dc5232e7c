import type { CqlClient } from '../connect/cluster-client.js';
import { describeError, OperatorError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { quoteIdent } from '../schema/identifier.js';

/** The tables of a state keyspace; every statement is idempotent (IF NOT EXISTS). */
export function stateTablesCql(keyspace: string): string[] {
  const ks = quoteIdent(keyspace);
  return [
    // One row per run: what it covers and how its sessions went.
    `CREATE TABLE IF NOT EXISTS ${ks}.runs (
  run_id text PRIMARY KEY, job text, origin_table text, target_table text, options text, status text,
  started_at bigint, ended_at bigint, sessions int, run_timestamp bigint, range_count int)`,
    // The run a job of (job, Origin table, Target table) resumes; replaced by LWT when a run is made.
    `CREATE TABLE IF NOT EXISTS ${ks}.latest_runs (
  job text, origin_table text, target_table text, run_id text,
  PRIMARY KEY ((job, origin_table, target_table)))`,
    // A partition per range: claims and fenced updates are LWTs, and Paxos works per partition, so
    // workers on different ranges never contend.
    `CREATE TABLE IF NOT EXISTS ${ks}.ranges (
  run_id text, range_id int, start_token varint, end_token varint, claim_order int, status text,
  attempts int, counts text, resume_state text, last_error text, completed_at bigint, updated_at bigint,
  owner text, lease_until bigint, fence bigint,
  PRIMARY KEY ((run_id, range_id)))`,
    // Each worker writes only its own row (heartbeat and held ranges): plain writes, no LWT.
    `CREATE TABLE IF NOT EXISTS ${ks}.workers (
  run_id text, worker_id text, host text, pid int, started_at bigint, heartbeat bigint, ranges text,
  PRIMARY KEY (run_id, worker_id))`,
    // A diff's report lines, so every machine of a run can write the whole report; spread over a
    // few partitions per run (bucket: a hash of the line's key) so no partition grows too large.
    `CREATE TABLE IF NOT EXISTS ${ks}.report_lines (
  run_id text, bucket int, line_key text, line text,
  PRIMARY KEY ((run_id, bucket), line_key))`,
  ];
}

const TABLES = ['runs', 'latest_runs', 'ranges', 'workers', 'report_lines'];

/**
 * Default replication of a new state keyspace: NetworkTopologyStrategy in the connected cluster's
 * local datacenter, with as many replicas as it has nodes up to 3 (QUORUM and SERIAL then survive a
 * node down from 3 nodes on). Workers of other datacenters still reach it through this one.
 */
export function defaultStateReplication(localDataCenter: string, nodesInDataCenter: number): string {
  const rf = Math.max(1, Math.min(3, nodesInDataCenter));
  return `{'class': 'NetworkTopologyStrategy', '${localDataCenter.replace(/'/g, "''")}': ${rf}}`;
}

export function stateKeyspaceCql(keyspace: string, replication: string): string {
  return `CREATE KEYSPACE IF NOT EXISTS ${quoteIdent(keyspace)} WITH replication = ${replication}`;
}

async function missingTables(client: CqlClient, keyspace: string): Promise<string[] | undefined> {
  const ks = await client.execute(
    'SELECT keyspace_name FROM system_schema.keyspaces WHERE keyspace_name = ?',
    [keyspace],
  );
  if (ks.rowLength === 0) return undefined;
  const rows = await client.execute('SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?', [
    keyspace,
  ]);
  const present = new Set(rows.rows.map((r) => String(r.get('table_name'))));
  return TABLES.filter((t) => !present.has(t));
}

/** Unauthorized (0x2100) of the native protocol, spec section 8 "Error codes". */
const UNAUTHORIZED = 0x2100;

/**
 * Makes sure the state keyspace and its tables exist, creating what is missing (with a log line
 * saying so). A role that may not create them gets an operator error with the exact CQL to run.
 */
export async function ensureStateSchema(options: {
  readonly client: CqlClient;
  readonly keyspace: string;
  /** Replication as CQL; undefined: `defaultStateReplication` of the connected datacenter. */
  readonly replication: string | undefined;
  readonly logger: Logger;
}): Promise<void> {
  const { client, keyspace, logger } = options;
  const missing = await missingTables(client, keyspace);
  if (missing !== undefined && missing.length === 0) return;
  const replication = options.replication ?? (await autoReplication(client));
  const statements = [
    ...(missing === undefined ? [stateKeyspaceCql(keyspace, replication)] : []),
    ...stateTablesCql(keyspace).filter((cql) => (missing ?? TABLES).some((t) => cql.includes(`.${t} (`))),
  ];
  logger.info(
    { keyspace, replication: missing === undefined ? replication : undefined, tables: missing ?? TABLES },
    `creating the run state keyspace ${keyspace} (first use)`,
  );
  try {
    for (const cql of statements) await client.execute(cql);
  } catch (error) {
    const code = (error as { code?: number }).code;
    const script = statements.map((s) => `${s};`).join('\n');
    throw new OperatorError(
      code === UNAUTHORIZED ? 'STATE_SCHEMA_UNAUTHORIZED' : 'STATE_SCHEMA_FAILED',
      `Cannot create the run state keyspace ${keyspace}: ${describeError(error)}`,
      `Have an administrator run this CQL and grant SELECT and MODIFY on KEYSPACE ${quoteIdent(keyspace)} to the role zdm connects with (or give that role CREATE permission), then run again:\n${script}`,
      { cause: error },
    );
  }
}

/** The default replication for the datacenter of the node answering, counted from its peers. */
async function autoReplication(client: CqlClient): Promise<string> {
  const local = String(
    (await client.execute('SELECT data_center FROM system.local')).first().get('data_center'),
  );
  const peers = await client.execute('SELECT data_center FROM system.peers');
  const nodes = 1 + peers.rows.filter((r) => String(r.get('data_center')) === local).length;
  return defaultStateReplication(local, nodes);
}
