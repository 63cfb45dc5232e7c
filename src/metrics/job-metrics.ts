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
  private readonly counts: Counter<'job' | 'counter'>;
  private readonly ranges: Counter<'job' | 'outcome'>;
  private readonly rangesTotal: Gauge<'job'>;
  private server: Server | undefined;

  constructor(private readonly job: string) {
    this.counts = new Counter({
      name: 'zdm_job_rows_total',
      help: 'Rows (and cells) processed by the job, by counter (rowsRead, rowsWritten, missing, ...)',
      labelNames: ['job', 'counter'],
      registers: [this.registry],
    });
    this.ranges = new Counter({
      name: 'zdm_job_ranges_total',
      help: 'Token ranges finished in this session, by outcome',
      labelNames: ['job', 'outcome'],
      registers: [this.registry],
    });
    this.rangesTotal = new Gauge({
      name: 'zdm_job_ranges',
      help: 'Token ranges in the run',
      labelNames: ['job'],
      registers: [this.registry],
    });
  }

  setRangeCount(n: number): void {
    this.rangesTotal.set({ job: this.job }, n);
  }

  onCommit(delta: Counts): void {
    for (const [counter, value] of Object.entries(delta))
      if (value > 0) this.counts.inc({ job: this.job, counter }, value);
  }

  onRangeEnd(ok: boolean): void {
    this.ranges.inc({ job: this.job, outcome: ok ? 'done' : 'failed' });
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
