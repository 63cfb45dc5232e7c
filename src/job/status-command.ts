import { hostname } from 'node:os';
import { basename, dirname } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { CassandraRunCatalog } from '../checkpoint/cassandra-run-catalog.js';
import { CheckpointStore, listCheckpointFiles } from '../checkpoint/checkpoint-store.js';
import { DEFAULT_LEASE_SECONDS, leaseTiming } from '../checkpoint/lease.js';
import { runningStatus } from '../checkpoint/lock-decision.js';
import { holderPathOf, processAlive, readHolder } from '../checkpoint/run-lock.js';
import { type RunRecord, type RunState, totalsOf } from '../checkpoint/run-state.js';
import { SqliteRunState } from '../checkpoint/sqlite-run-state.js';
import { runCommand } from '../cli/run-command.js';
import { resolveFromArgv, withCommonOptions, withSettingsOptions } from '../cli/settings-options.js';
import { CLUSTER_SETTINGS, STATE_CLUSTER_SETTINGS } from '../config/cluster-settings.js';
import { describeError } from '../errors.js';
import { createLogger } from '../log/logger.js';
import { differencesRemaining } from '../validate/differences-remaining.js';
import { runFilesFor, runLockPath } from './job-run.js';
import { RANGE_JOB_SETTINGS } from './job-settings.js';
import { connectStateCluster, stateClusterConfig } from './run-store.js';

/** One line of `zdm status`: a run and how far it got. */
export interface RunStatusLine {
  readonly file: string;
  readonly job: string;
  readonly table: string;
  readonly status: string;
  readonly ranges: string;
  readonly failedRanges: number;
  readonly rows: number;
  /** Diff runs: differences found and not corrected; null for migrate runs. */
  readonly differences: number | null;
  readonly sessions: number;
  readonly started: string;
  /** Workers registered on the run: their heartbeat's age and the ranges they hold. */
  readonly workers: readonly {
    readonly worker: string;
    readonly heartbeatAgeS: number;
    readonly ranges: readonly number[];
  }[];
  readonly error?: string;
}

/**
 * A checkpoint left `running` by a killed process is told apart from a live run by the run's lock. A
 * live process always works on the newest checkpoint of its job and table, so older ones are not live.
 */
function liveStatus(path: string, job: string, originTable: string): string {
  const dir = dirname(path);
  const newest = runFilesFor(dir, job, originTable).at(-1) === path;
  const holder = newest ? readHolder(holderPathOf(runLockPath(dir, job, originTable))) : undefined;
  return runningStatus(holder, hostname(), processAlive);
}

/** A status line of a run, whatever store holds it. */
async function statusLine(
  state: RunState,
  name: string,
  liveness: (run: RunRecord) => string,
  now: number,
): Promise<RunStatusLine> {
  const run = await state.run();
  const ranges = await state.ranges();
  const { counts, byStatus } = totalsOf(ranges);
  const total = byStatus.done + byStatus.failed + byStatus.pending + byStatus.running;
  const differences = run.job === 'diff' ? differencesRemaining(counts) : null;
  const workers = await state.workers();
  return {
    file: name,
    job: run.job,
    table: run.originTable === run.targetTable ? run.originTable : `${run.originTable} → ${run.targetTable}`,
    status: run.status === 'running' ? liveness(run) : shownStatus(run.status, differences),
    ranges: `${byStatus.done}/${total}`,
    failedRanges: byStatus.failed,
    rows: counts.rowsRead ?? counts.rowsCompared ?? 0,
    differences,
    sessions: run.sessions,
    started: new Date(run.startedAt).toISOString(),
    workers: workers.map((w) => ({
      worker: w.id,
      heartbeatAgeS: Math.max(0, Math.round((now - w.heartbeat) / 1000)),
      // From the ranges themselves (their owner), fresher than the list of the worker's last renewal.
      ranges: ranges.filter((r) => r.status === 'running' && r.owner === w.id).map((r) => r.id),
    })),
  };
}

function unreadable(name: string, error: unknown): RunStatusLine {
  return {
    file: name,
    job: '?',
    table: '?',
    status: 'unreadable',
    ranges: '',
    failedRanges: 0,
    rows: 0,
    differences: null,
    sessions: 0,
    started: '',
    workers: [],
    error: describeError(error),
  };
}

/** The runs of a checkpoint directory (SQLite state), oldest first. */
export async function runStatusLines(dir: string): Promise<RunStatusLine[]> {
  const lines: RunStatusLine[] = [];
  for (const path of listCheckpointFiles(dir)) {
    try {
      const state = new SqliteRunState(CheckpointStore.open(path), leaseTiming(DEFAULT_LEASE_SECONDS));
      try {
        lines.push(
          await statusLine(
            state,
            basename(path),
            (run) => liveStatus(path, run.job, run.originTable),
            Date.now(),
          ),
        );
      } finally {
        await state.close();
      }
    } catch (error) {
      lines.push(unreadable(basename(path), error));
    }
  }
  return lines;
}

/**
 * What a run kept in Cassandra that reads `running` is doing: workers with a recent heartbeat are on
 * it; without any, its workers stopped without saving (its leases expire and the next run resumes).
 */
export function cassandraRunningStatus(heartbeatAgesS: readonly number[], leaseSeconds: number): string {
  const live = heartbeatAgesS.filter((age) => age <= leaseSeconds).length;
  return live > 0 ? `running (${live} worker${live === 1 ? '' : 's'})` : 'stopped uncleanly (resumable)';
}

/** The runs of a Cassandra state keyspace, oldest first. */
export async function cassandraStatusLines(
  catalog: CassandraRunCatalog,
  leaseSeconds: number,
): Promise<RunStatusLine[]> {
  const lines: RunStatusLine[] = [];
  const now = Date.now();
  for (const runId of await catalog.runIds()) {
    try {
      const state = await catalog.open(runId);
      const line = await statusLine(state, runId, () => '', now);
      lines.push(
        line.status === ''
          ? {
              ...line,
              status: cassandraRunningStatus(
                line.workers.map((w) => w.heartbeatAgeS),
                leaseSeconds,
              ),
            }
          : line,
      );
    } catch (error) {
      lines.push(unreadable(runId, error));
    }
  }
  return lines;
}

/** A diff that finished with differences left is not simply "completed": that is what it found. */
export function shownStatus(status: string, differences: number | null): string {
  return status === 'completed' && differences !== null && differences > 0
    ? 'completed, differences'
    : status;
}

/** What `zdm status` reads: the checkpoint directory, or the state keyspace on Target. */
const STATUS_SETTINGS = {
  checkpoint_dir: RANGE_JOB_SETTINGS.checkpoint_dir,
  state_store: RANGE_JOB_SETTINGS.state_store,
  state_keyspace: RANGE_JOB_SETTINGS.state_keyspace,
  lease_seconds: RANGE_JOB_SETTINGS.lease_seconds,
  json: { ...RANGE_JOB_SETTINGS.json, doc: 'One JSON object per run.' },
};

/** Target's connection settings, for state kept in Cassandra. */
const TARGET_SETTINGS = Object.fromEntries(
  Object.entries(CLUSTER_SETTINGS).filter(([key]) => key.startsWith('target_')),
) as typeof CLUSTER_SETTINGS;

const SPEC = { ...STATUS_SETTINGS, ...TARGET_SETTINGS, ...STATE_CLUSTER_SETTINGS };

/** The status lines of the store the settings name. */
async function statusLines(values: Readonly<Record<string, unknown>>): Promise<RunStatusLine[]> {
  if (values.state_store !== 'cassandra') return runStatusLines(String(values.checkpoint_dir));
  const logger = createLogger({ level: 'warn' });
  const client = await connectStateCluster(stateClusterConfig(values), logger);
  try {
    const keyspace = String(values.state_keyspace);
    const exists = await client.execute(
      'SELECT keyspace_name FROM system_schema.keyspaces WHERE keyspace_name = ?',
      [keyspace],
    );
    if (exists.rowLength === 0) return [];
    const leaseSeconds = Number(values.lease_seconds);
    return await cassandraStatusLines(
      new CassandraRunCatalog({ client, keyspace, timing: leaseTiming(leaseSeconds), logger }),
      leaseSeconds,
    );
  } finally {
    await client.shutdown();
  }
}

export const statusCommand: CommandModule<object, object> = {
  command: 'status',
  describe: 'List the migrate and diff runs (checkpoint directory, or state keyspace) and how far each got',
  builder: (yargs) =>
    withSettingsOptions(
      withSettingsOptions(
        withSettingsOptions(withCommonOptions(yargs as Argv<object>), STATUS_SETTINGS, 'Runs:'),
        TARGET_SETTINGS,
        'Target (state_store cassandra):',
      ),
      STATE_CLUSTER_SETTINGS,
      'State cluster (state_store cassandra, when not Target):',
    ),
  handler: (argv) =>
    runCommand(async () => {
      const { values } = resolveFromArgv(SPEC, argv as unknown as Record<string, unknown>);
      const where =
        values.state_store === 'cassandra' ? `keyspace ${values.state_keyspace}` : values.checkpoint_dir;
      const lines = await statusLines(values);
      if (values.json) {
        for (const line of lines) process.stdout.write(`${JSON.stringify(line)}\n`);
        return 0;
      }
      if (lines.length === 0) {
        process.stdout.write(`No runs in ${where}.\n`);
        return 0;
      }
      printStatusTable(lines);
      return 0;
    }),
};

function printStatusTable(lines: readonly RunStatusLine[]): void {
  const header = [
    'STARTED',
    'JOB',
    'TABLE',
    'STATUS',
    'RANGES',
    'FAILED',
    'ROWS',
    'DIFFS',
    'SESSIONS',
    'RUN',
  ];
  const rows = lines.map((l) => [
    l.started,
    l.job,
    l.table,
    l.error === undefined ? l.status : `unreadable: ${l.error}`,
    l.ranges,
    String(l.failedRanges),
    String(l.rows),
    l.differences === null ? '-' : String(l.differences),
    String(l.sessions),
    l.file,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const [i, r] of [header, ...rows].entries()) {
    process.stdout.write(
      `${r
        .map((c, j) => c.padEnd(widths[j]!))
        .join('  ')
        .trimEnd()}\n`,
    );
    // Under each run, its workers: heartbeat age and the ranges they held then.
    for (const w of i === 0 ? [] : lines[i - 1]!.workers)
      process.stdout.write(
        `    worker ${w.worker}  heartbeat ${w.heartbeatAgeS}s ago  ranges ${w.ranges.join(',') || '-'}\n`,
      );
  }
}
