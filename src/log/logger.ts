import { type Logger, pino } from 'pino';
import { prettyFactory } from 'pino-pretty';
import { writeTerminalLine } from './terminal.js';

export type { Logger } from 'pino';

export interface LoggerOptions {
  /** pino level name: trace, debug, info, warn, error, fatal, silent. */
  readonly level?: string;
  /**
   * Human-readable output (pino-pretty) instead of JSON lines; defaults to ZDM_LOG_FORMAT
   * (`pretty` or `json`, set by the CLIs' --log-format), else to "stderr is a terminal".
   */
  readonly pretty?: boolean;
}

/** Paths pino blanks out wherever they appear in a logged object, so secrets never reach a log. */
export const REDACTED_PATHS = [
  'password',
  '*.password',
  '*.*.password',
  'tls.keyPath',
  '*.tls.keyPath',
  'authorization',
];

/**
 * The one place a logger is made. Everything below the CLI receives a Logger as an argument;
 * logs go to stderr so stdout stays free for command output (summaries, --json).
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.ZDM_LOG_LEVEL?.toLowerCase() ?? 'info';
  const pretty = options.pretty ?? prettyByDefault(process.env.ZDM_LOG_FORMAT, process.stderr.isTTY === true);
  const redact = { paths: REDACTED_PATHS, censor: '[redacted]' };
  if (pretty) {
    // Formatted in this thread (no transport worker): lines are written in order with progress bars
    // (see terminal.ts), one line per entry, and none is lost when the process exits.
    const format = prettyFactory({
      colorize: process.stderr.hasColors?.() ?? false,
      translateTime: 'HH:MM:ss.l',
      ignore: 'pid,hostname',
      singleLine: true,
    });
    return pino({ level, redact }, { write: (line: string) => writeTerminalLine(format(line)) });
  }
  return pino({ level, redact }, pino.destination({ dest: 2, sync: true }));
}

/** Log format when the caller does not choose: ZDM_LOG_FORMAT if set, else pretty on a terminal. */
export function prettyByDefault(format: string | undefined, stderrIsTerminal: boolean): boolean {
  const chosen = format?.trim().toLowerCase();
  if (chosen === 'json') return false;
  if (chosen === 'pretty' || chosen === 'text') return true;
  return stderrIsTerminal;
}

/** A logger that drops everything, for tests and library callers that do not care. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
