import cliProgress from 'cli-progress';
import type { Counts } from '../checkpoint/checkpoint-store.js';
import type { Logger } from '../log/logger.js';

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
  private readonly bar: cliProgress.SingleBar | undefined;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ProgressOptions) {
    this.ranges = options.doneRanges;
    if (options.tty) {
      this.bar = new cliProgress.SingleBar(
        {
          format: `${options.label} {bar} {percentage}% | ranges {value}/{total} | rows {rows} | {rate} rows/s | ETA {eta_formatted}`,
          stream: process.stderr,
          hideCursor: true,
          etaBuffer: 50,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(options.totalRanges, this.ranges, { rows: 0, rate: 0 });
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
    this.bar?.update(this.ranges, { rows: this.rows, rate: Math.round(this.rowsPerSecond) });
  }

  onRangeEnd(ok: boolean): void {
    if (ok) this.ranges++;
    else this.failed++;
    this.bar?.update(this.ranges, { rows: this.rows, rate: Math.round(this.rowsPerSecond) });
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
    this.bar?.stop();
  }
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
