import type { SettingsValues } from '../config/setting.js';
import {
  boolean,
  integer,
  list,
  number,
  oneOf,
  optionalBigint,
  optionalInteger,
  optionalText,
  pairs,
  text,
} from '../config/setting.js';

/**
 * Settings shared by the range jobs (migrate and diff): how the ring is cut and walked, how fast,
 * what is covered, and where the run's state lives. Same names in a --config file (snake_case),
 * the environment (ZDM_*) and flags (--kebab-case).
 */
export const RANGE_JOB_SETTINGS = {
  splits: optionalInteger({
    default: undefined,
    min: 1,
    max: 1_000_000,
    doc: 'Token ranges to cut the ring into. Default: from the table size estimate, at least 16 per concurrent range.',
  }),
  concurrency: integer({ default: 8, min: 1, max: 1024, doc: 'Token ranges processed at once.' }),
  write_concurrency: integer({
    default: 128,
    min: 1,
    max: 4096,
    doc: 'Writes in flight to Target at once, over all ranges.',
  }),
  fetch_size: integer({ default: 1000, min: 1, max: 100_000, doc: 'Rows per page read from a cluster.' }),
  origin_rate_limit: number({
    default: 0,
    min: 0,
    doc: 'Rows per second read from Origin at most (0: unlimited).',
  }),
  target_rate_limit: number({
    default: 0,
    min: 0,
    doc: 'Rows per second written to Target at most (0: unlimited).',
  }),
  token_min: optionalBigint({ default: undefined, doc: 'Lowest token to cover (inclusive).' }),
  token_max: optionalBigint({ default: undefined, doc: 'Highest token to cover (inclusive).' }),
  writetime_min: optionalBigint({
    default: undefined,
    doc: 'Only cells written at or after this time (microseconds since the epoch); older cells are skipped.',
  }),
  writetime_max: optionalBigint({
    default: undefined,
    doc: 'Only cells written at or before this time (microseconds since the epoch); newer cells are skipped.',
  }),
  where: optionalText({
    default: undefined,
    doc: 'Extra CQL condition on Origin rows, e.g. "region = \'eu\'" (adds ALLOW FILTERING).',
  }),
  target_table: optionalText({
    default: undefined,
    doc: 'keyspace.table on Target when it differs from Origin.',
  }),
  skip_columns: list({ default: [], doc: 'Origin columns not to copy or compare (comma-separated).' }),
  rename_columns: pairs({
    default: {},
    doc: 'Origin:Target column name pairs, e.g. "old_name:new_name,a:b".',
  }),
  max_attempts: integer({
    default: 3,
    min: 1,
    max: 100,
    doc: 'Attempts per token range before it is marked failed.',
  }),
  retry_delay_ms: integer({
    default: 2000,
    min: 0,
    doc: 'Delay before the second attempt of a range; doubles after.',
  }),
  checkpoint_dir: text({ default: 'checkpoints', doc: 'Directory of the SQLite run checkpoints.' }),
  state_store: oneOf(['sqlite', 'cassandra'], {
    default: 'sqlite',
    doc: "Where the run's state lives: sqlite (a checkpoint file in checkpoint_dir, workers of this machine) or cassandra (a keyspace on Target, or on the cluster of state_contact_points, shared by workers on any machine).",
  }),
  state_keyspace: text({
    default: 'zdm_state',
    doc: 'Keyspace of the run state when state_store is cassandra (on Target, or the state cluster); created on first use.',
  }),
  state_replication: optionalText({
    default: undefined,
    doc: "Replication of the state keyspace when zdm creates it, as CQL, e.g. \"{'class': 'NetworkTopologyStrategy', 'dc1': 3}\". Default: NetworkTopologyStrategy in the state cluster's (Target's) local datacenter with min(3, its nodes) replicas.",
  }),
  lease_seconds: number({
    default: 30,
    min: 0.3,
    max: 3600,
    doc: "Length of a worker's lease on a token range. A worker renews its leases every third of it and stops writing a range it could not renew in time; another worker takes over a range whose lease ended a third of a lease ago (a killed or hung worker's ranges resume after about 1.3 leases).",
  }),
  fresh: boolean({ default: false, doc: 'Start a new run instead of resuming the last unfinished one.' }),
  dry_run: boolean({
    default: false,
    doc: 'Show the plan (ranges, options, schema) and exit without reading data.',
  }),
  json: boolean({ default: false, doc: 'Print the final summary as JSON on stdout.' }),
  metrics_port: optionalInteger({
    default: undefined,
    min: 1,
    max: 65535,
    doc: 'Serve Prometheus metrics of the run on this port (/metrics); off when unset.',
  }),
  metrics_address: text({ default: 'localhost', doc: 'Address the metrics port listens on.' }),
  progress_interval_s: integer({
    default: 10,
    min: 1,
    doc: 'Seconds between progress log lines when not on a terminal.',
  }),
} as const;

export type RangeJobSettings = SettingsValues<typeof RANGE_JOB_SETTINGS>;

/** The settings that change what a run covers: a resumed run must have the same ones. */
export function semanticOptions(s: RangeJobSettings): Record<string, unknown> {
  return {
    tokenMin: s.token_min,
    tokenMax: s.token_max,
    writetimeMin: s.writetime_min,
    writetimeMax: s.writetime_max,
    where: s.where,
    skip: [...s.skip_columns].sort(),
    rename: s.rename_columns,
  };
}
