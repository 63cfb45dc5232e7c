import { hostname } from 'node:os';
import { basename, dirname } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { CheckpointStore, listCheckpointFiles } from '../checkpoint/checkpoint-store.js';
import { runningStatus } from '../checkpoint/lock-decision.js';
import { holderPathOf, processAlive, readHolder } from '../checkpoint/run-lock.js';
import { runCommand } from '../cli/run-command.js';
import { describeError } from '../errors.js';
import { differencesRemaining } from '../validate/differences-remaining.js';
import { runFilesFor, runLockPath } from './job-run.js';

interface StatusArgs {
  'checkpoint-dir': string;
  json: boolean;
}

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

export function runStatusLines(dir: string): RunStatusLine[] {
  return listCheckpointFiles(dir).map((path) => {
    try {
      const store = CheckpointStore.open(path);
      try {
        const run = store.run();
        const { counts, byStatus } = store.totals();
        const total = byStatus.done + byStatus.failed + byStatus.pending + byStatus.running;
        const differences = run.job === 'diff' ? differencesRemaining(counts) : null;
        return {
          file: basename(path),
          job: run.job,
          table:
            run.originTable === run.targetTable ? run.originTable : `${run.originTable} → ${run.targetTable}`,
          status:
            run.status === 'running'
              ? liveStatus(path, run.job, run.originTable)
              : shownStatus(run.status, differences),
          ranges: `${byStatus.done}/${total}`,
          failedRanges: byStatus.failed,
          rows: counts.rowsRead ?? counts.rowsCompared ?? 0,
          differences,
          sessions: run.sessions,
          started: new Date(run.startedAt).toISOString(),
        };
      } finally {
        store.close();
      }
    } catch (error) {
      return {
        file: basename(path),
        job: '?',
        table: '?',
        status: 'unreadable',
        ranges: '',
        failedRanges: 0,
        rows: 0,
        differences: null,
        sessions: 0,
        started: '',
        error: describeError(error),
      };
    }
  });
}

/** A diff that finished with differences left is not simply "completed": that is what it found. */
export function shownStatus(status: string, differences: number | null): string {
  return status === 'completed' && differences !== null && differences > 0
    ? 'completed, differences'
    : status;
}

export const statusCommand: CommandModule<object, StatusArgs> = {
  command: 'status',
  describe: 'List the migrate and diff runs in the checkpoint directory and how far each got',
  builder: (yargs) =>
    (yargs as Argv<object>)
      .option('checkpoint-dir', {
        type: 'string',
        default: 'checkpoints',
        describe: 'Directory of run checkpoints [default checkpoints]',
      })
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'One JSON object per run',
      }) as Argv<StatusArgs>,
  handler: (argv) =>
    runCommand(async () => {
      const lines = runStatusLines(argv['checkpoint-dir']);
      if (argv.json) {
        for (const line of lines) process.stdout.write(`${JSON.stringify(line)}\n`);
        return 0;
      }
      if (lines.length === 0) {
        process.stdout.write(`No runs in ${argv['checkpoint-dir']}.\n`);
        return 0;
      }
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
        'FILE',
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
      for (const r of [header, ...rows]) {
        process.stdout.write(
          `${r
            .map((c, i) => c.padEnd(widths[i]!))
            .join('  ')
            .trimEnd()}\n`,
        );
      }
      return 0;
    }),
};
