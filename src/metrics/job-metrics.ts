import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Registry } from 'prom-client';
import type { Counts } from '../checkpoint/checkpoint-store.js';
import type { Logger } from '../log/logger.js';

/**
 * Prometheus metrics of a range job (migrate, diff), served on `/metrics` when a port is given, so a
 * long run can be watched from the same dashboards as the proxy (prefix `zdm_`).
 */
export class JobMetrics {
  readonly registry = new Registry();
  private readonly counts: Counter<'command' | 'table' | 'counter'>;
  private readonly ranges: Counter<'command' | 'table' | 'outcome'>;
  private readonly rangesTotal: Gauge<'command' | 'table'>;
  private readonly rangesDone: Gauge<'command' | 'table'>;
  private readonly labels: { readonly command: string; readonly table: string };
  private server: Server | undefined;

  /**
   * `command`: migrate, diff... (not `job`, which Prometheus sets to the scrape job); `table`: the
   * Origin table of the run (keyspace.table), so the runs of a keyspace tell apart.
   */
  constructor(command: string, table: string) {
    this.labels = { command, table };
    const registers = [this.registry];
    this.counts = new Counter({
      name: 'zdm_job_rows_total',
      help: 'Rows (and cells) processed by the job, by counter (rowsRead, rowsWritten, missing, ...)',
      labelNames: ['command', 'table', 'counter'],
      registers,
    });
    this.ranges = new Counter({
      name: 'zdm_job_ranges_total',
      help: 'Token ranges finished in this session, by outcome',
      labelNames: ['command', 'table', 'outcome'],
      registers,
    });
    // Both outcomes exist from the start at 0, so "no failed range" is a value, not a missing series.
    for (const outcome of ['done', 'failed']) this.ranges.inc({ ...this.labels, outcome }, 0);
    this.rangesTotal = new Gauge({
      name: 'zdm_job_ranges',
      help: 'Token ranges in the run',
      labelNames: ['command', 'table'],
      registers,
    });
    this.rangesDone = new Gauge({
      name: 'zdm_job_ranges_done',
      help: 'Token ranges of the run done, earlier sessions included (progress = done / ranges)',
      labelNames: ['command', 'table'],
      registers,
    });
  }

  /** The run's ranges and how many earlier sessions finished. */
  setRanges(total: number, done: number): void {
    this.rangesTotal.set(this.labels, total);
    this.rangesDone.set(this.labels, done);
  }

  onCommit(delta: Counts): void {
    for (const [counter, value] of Object.entries(delta))
      if (value > 0) this.counts.inc({ ...this.labels, counter }, value);
  }

  onRangeEnd(ok: boolean): void {
    this.ranges.inc({ ...this.labels, outcome: ok ? 'done' : 'failed' });
    if (ok) this.rangesDone.inc(this.labels);
  }

  /** Serves /metrics; resolves once listening. */
  async serve(address: string, port: number, logger: Logger): Promise<void> {
    this.server = createServer((req, res) => {
      if (req.url === '/metrics') {
        this.registry
          .metrics()
          .then((text) => {
            res.writeHead(200, { 'content-type': this.registry.contentType });
            res.end(text);
          })
          .catch(() => {
            res.writeHead(500);
            res.end();
          });
        return;
      }
      res.writeHead(404);
      res.end();
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, address, () => resolve());
    });
    logger.info({ url: `http://${address}:${port}/metrics` }, 'serving job metrics');
  }

  /** The port actually bound (useful when asked for port 0). */
  get port(): number | undefined {
    const address = this.server?.address();
    return typeof address === 'object' && address !== null ? address.port : undefined;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
