import cliProgress from 'cli-progress';
import type { Counts } from '../checkpoint/checkpoint-store.js';
import type { Logger } from '../log/logger.js';
import { routeLinesThrough } from '../log/terminal.js';

export interface ProgressOptions {
  readonly label: string;
  readonly totalRanges: number;
  /** Ranges finished in earlier sessions of the same run. */
  readonly doneRanges: number;
  /** The counter that measures rows (rowsRead, rowsCompared...). */
  readonly rowCounter: string;
  readonly logger: Logger;
  /** Draw a bar (stderr is a terminal) or log a line every `intervalS` seconds. */
  readonly tty: boolean;
  readonly intervalS: number;
}

/**
 * Progress of a range job: a cli-progress bar on a terminal (ranges, rows, rows/s, ETA), periodic
 * structured log lines otherwise. Rates count this session's rows only.
 */
export class JobProgress {
  private readonly started = performance.now();
  private rows = 0;
  private ranges: number;
  private failed = 0;
  private readonly bars: cliProgress.MultiBar | undefined;
  private readonly bar: cliProgress.SingleBar | undefined;
  private readonly timer: NodeJS.Timeout | undefined;
  private unroute: (() => void) | undefined;

  constructor(private readonly options: ProgressOptions) {
    this.ranges = options.doneRanges;
    if (options.tty) {
      // A MultiBar (of one bar) because it can print log lines above itself: see terminal.ts.
      this.bars = new cliProgress.MultiBar(
        {
          format: `${options.label} {bar} {percentage}% | ranges {value}/{total} | rows {rows} | {rate} rows/s | ETA {remaining}`,
          stream: process.stderr,
          hideCursor: true,
          // Line wrapping stays on: with it off (cli-progress's default) the terminal cuts every log
          // line printed above the bar at its width. A short bar keeps the bar's own line unwrapped.
          linewrap: true,
          barsize: 24,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar = this.bars.create(options.totalRanges, this.ranges, this.payload());
      this.unroute = routeLinesThrough(this.bars);
    } else {
      this.timer = setInterval(() => this.log(), options.intervalS * 1000);
      this.timer.unref();
    }
  }

  get rowsPerSecond(): number {
    const seconds = (performance.now() - this.started) / 1000;
    return seconds > 0 ? this.rows / seconds : 0;
  }

  get sessionRows(): number {
    return this.rows;
  }

  onCommit(delta: Counts): void {
    this.rows += delta[this.options.rowCounter] ?? 0;
    this.bar?.update(this.ranges, this.payload());
  }

  onRangeEnd(ok: boolean): void {
    if (ok) this.ranges++;
    else this.failed++;
    this.bar?.update(this.ranges, this.payload());
  }

  /**
   * Shows what the run's state holds, for a process whose workers do the work elsewhere (other
   * processes): rows counted since this session began, ranges done and failed in the whole run.
   */
  observe(state: {
    readonly sessionRows: number;
    readonly doneRanges: number;
    readonly failedRanges: number;
  }): void {
    this.rows = state.sessionRows;
    this.ranges = state.doneRanges;
    this.failed = state.failedRanges;
    this.bar?.update(this.ranges, this.payload());
  }

  private payload(): { rows: number; rate: number; remaining: string } {
    const seconds = (performance.now() - this.started) / 1000;
    const rangesThisSession = this.ranges - this.options.doneRanges;
    const left = this.options.totalRanges - this.ranges;
    return {
      rows: this.rows,
      rate: Math.round(this.rowsPerSecond),
      remaining: formatEta(rangesThisSession > 0 ? (seconds / rangesThisSession) * left : undefined),
    };
  }

  private log(): void {
    this.options.logger.info(
      {
        ranges: `${this.ranges}/${this.options.totalRanges}`,
        failedRanges: this.failed,
        rows: this.rows,
        rowsPerSecond: Math.round(this.rowsPerSecond),
      },
      `${this.options.label} progress`,
    );
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.bars?.stop();
    this.unroute?.();
    this.unroute = undefined;
  }
}

/**
 * `1h02m`, `4m05s`, `12s`; `--` until a range has finished in this session (no honest estimate
 * before that: cli-progress's own ETA prints `NFs` then).
 */
export function formatEta(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  if (h > 0) return `${h}h${pad(m)}m`;
  if (m > 0) return `${m}m${pad(s % 60)}s`;
  return `${s}s`;
}

/** Prints a summary as aligned lines, or as one JSON object with --json. */
export function printSummary(
  title: string,
  fields: Readonly<Record<string, string | number>>,
  json: boolean,
): void {
  if (json) {
    process.stdout.write(`${JSON.stringify({ summary: title, ...fields })}\n`);
    return;
  }
  const width = Math.max(...Object.keys(fields).map((k) => k.length));
  const lines = Object.entries(fields).map(([k, v]) => `  ${k.padEnd(width)}  ${v}`);
  process.stdout.write(`${title}\n${lines.join('\n')}\n`);
}
