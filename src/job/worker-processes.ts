import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Logger } from '../log/logger.js';
import { JOIN_RUN_ENV, type JoinOrder, joinOrderText } from './worker-role.js';

/** How a worker process ended: its exit code, or the signal that ended it. */
export interface WorkerExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A worker process this process started. */
export interface WorkerProcess {
  readonly index: number;
  readonly pid: number;
  /** Resolves when the process has ended and its output is read. */
  readonly exited: Promise<WorkerExit>;
  /** Whether it is still running. */
  running(): boolean;
  kill(signal: NodeJS.Signals): void;
}

const PINO_LEVELS: Record<number, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

/** A worker's log line (pino JSON) as level, message and fields; anything else as a warning of text. */
export function parseWorkerLine(line: string): {
  readonly level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  readonly msg: string;
  readonly fields: Record<string, unknown>;
} {
  try {
    const parsed = JSON.parse(line) as Record<string, unknown>;
    if (parsed !== null && typeof parsed === 'object' && typeof parsed.level === 'number') {
      const { level, msg, time: _time, pid: _pid, hostname: _hostname, ...fields } = parsed;
      return {
        level: PINO_LEVELS[level as number] ?? 'info',
        msg: typeof msg === 'string' ? msg : '',
        fields,
      };
    }
  } catch {
    // Not a log line: text a worker printed (a crash's message), passed on as it is.
  }
  return { level: 'warn', msg: line, fields: {} };
}

/**
 * Starts one worker: this same command again (same node options, script, arguments, environment,
 * so the same settings), told by JOIN_RUN_ENV which run to join. Its log lines (JSON) are logged
 * again by `logger` with `worker: index`; it draws no bar. Its stdin is a pipe it watches: when this
 * process ends, however it ends, the worker stops after its pages in hand, so none outlives it.
 * It runs in a process group of its own, so a Ctrl-C at the terminal reaches this process only,
 * which stops the workers with one SIGTERM each (two signals would make a worker exit at once).
 */
export function startWorkerProcess(order: JoinOrder, logger: Logger): WorkerProcess {
  const script = process.argv[1];
  if (script === undefined) throw new Error('cannot start workers: no script path in process.argv');
  const child: ChildProcess = spawn(
    process.execPath,
    [...process.execArgv, script, ...process.argv.slice(2)],
    {
      env: { ...process.env, [JOIN_RUN_ENV]: joinOrderText(order), ZDM_LOG_FORMAT: 'json' },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    },
  );
  const log = logger.child({ worker: order.index });
  const forward = (stream: NodeJS.ReadableStream | null) =>
    stream === null
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
          lines.on('line', (line) => {
            if (line.trim() === '') return;
            const { level, msg, fields } = parseWorkerLine(line);
            log[level](fields, msg);
          });
          lines.on('close', resolve);
        });
  const outputRead = Promise.all([forward(child.stderr), forward(child.stdout)]);
  // An error on the pipe (the worker gone) is its exit, reported there.
  child.stdin?.on('error', () => {});
  const exited = new Promise<WorkerExit>((resolve) => {
    child.once('exit', (code, signal) => {
      void outputRead.then(() => resolve({ code, signal }));
    });
    child.once('error', (error) => {
      log.error({ error: error.message }, 'worker process could not start');
      resolve({ code: null, signal: null });
    });
  });
  return {
    index: order.index,
    pid: child.pid ?? -1,
    exited,
    running: () => child.exitCode === null && child.signalCode === null,
    kill: (signal) => {
      try {
        child.kill(signal);
      } catch {
        // Already gone.
      }
    },
  };
}

/**
 * In a worker: stops gracefully (as on SIGTERM) when the process that started it ends, which closes
 * the worker's stdin.
 */
export function stopWhenParentEnds(): void {
  process.stdin.resume();
  process.stdin.once('end', () => process.kill(process.pid, 'SIGTERM'));
  process.stdin.once('error', () => process.kill(process.pid, 'SIGTERM'));
  // stdin must not keep the worker alive once its work is done.
  (process.stdin as unknown as { unref?: () => void }).unref?.();
}
