import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import cassandra from 'cassandra-driver';
import { freePort } from '../../scripts/demo/proxy-process.js';
import { scratchDir } from '../helpers/checkpoints.js';
import { migrateArgs, startZdm, startZdmProxy } from '../helpers/cli.js';
import { clusterPairFixture, seedRows } from '../helpers/keyspace.js';

const KS = 'prom_dash';
const DASHBOARDS = ['dashboards/zdm-proxy.json', 'dashboards/zdm-jobs.json'];

interface Dashboard {
  readonly title: string;
  readonly panels: readonly {
    readonly title: string;
    readonly targets: readonly { readonly expr: string }[];
  }[];
}

/** Every PromQL expression of the dashboards, with where it comes from. */
function dashboardQueries(): { readonly where: string; readonly expr: string }[] {
  return DASHBOARDS.flatMap((file) => {
    const dashboard = JSON.parse(readFileSync(file, 'utf8')) as Dashboard;
    return dashboard.panels.flatMap((panel) =>
      panel.targets.map((t) => ({ where: `${dashboard.title} / ${panel.title}`, expr: t.expr })),
    );
  });
}

/** Debian's `prometheus` binary (.ci/run installs the package); a clear failure when it is missing. */
function prometheusBinary(): string {
  try {
    execFileSync('prometheus', ['--version'], { stdio: 'ignore' });
    return 'prometheus';
  } catch {
    return assert.fail(
      'prometheus is not installed: `apt-get install prometheus` (Debian package; .ci/run installs it)',
    );
  }
}

/** A real Prometheus scraping `targets` every second; resolves once it is ready. */
async function startPrometheus(targets: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'zdm-prometheus-'));
  const config = [
    'global:',
    '  scrape_interval: 1s',
    '  scrape_timeout: 1s',
    'scrape_configs:',
    ...Object.entries(targets).flatMap(([job, address]) => [
      `  - job_name: ${job}`,
      '    static_configs:',
      `      - targets: ['${address}']`,
    ]),
  ].join('\n');
  writeFileSync(join(dir, 'prometheus.yml'), `${config}\n`);
  const port = await freePort();
  const child: ChildProcess = spawn(
    prometheusBinary(),
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr!.on('data', (d: Buffer) => {
    log += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  await waitFor('Prometheus ready', async () => (await fetch(`${url}/-/ready`).catch(() => undefined))?.ok);
  return {
    /** The series an instant query returns (empty: no data). */
    async query(expr: string): Promise<unknown[]> {
      const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = (await response.json()) as {
        status: string;
        error?: string;
        data?: { result: unknown[] };
      };
      assert.equal(body.status, 'success', `${expr}: ${body.error}`);
      return body.data!.result;
    },
    log: () => log,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Polls `check` until it is true (a loaded machine makes every step slow); fails after 180 s. */
async function waitFor(what: string, check: () => Promise<boolean | undefined>): Promise<void> {
  const deadline = Date.now() + 180_000;
  while (!(await check())) {
    assert.ok(Date.now() < deadline, `${what}: not within 180 s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('Grafana dashboards against a real Prometheus', () => {
  const tables = [
    `CREATE TABLE ${KS}.seeded (id int PRIMARY KEY, v text)`,
    `CREATE TABLE ${KS}.live (id int PRIMARY KEY, v text)`,
  ];
  // A table Target lacks: writes to it fail on Target only (a real "unconfigured table" error),
  // which the failed-writes-by-table and per-node failure panels must show.
  const pair = clusterPairFixture(
    KS,
    [...tables, `CREATE TABLE ${KS}.origin_only (id int PRIMARY KEY, v text)`],
    tables,
  );

  test('every PromQL expression of the dashboards returns data from a proxy under load and a running migrate', {
    timeout: 10 * 60_000,
  }, async () => {
    await seedRows(pair.o, 20_000, `INSERT INTO ${KS}.seeded (id, v) VALUES (?, ?)`, (i) => [i, `v${i}`]);
    const proxyMetricsPort = await freePort();
    const migrateMetricsPort = await freePort();
    // Two workers: what Prometheus scrapes is their sum (the primary aggregates every worker's metrics).
    const proxy = await startZdmProxy(pair.origin, pair.target, {
      ZDM_METRICS_PORT: String(proxyMetricsPort),
      ZDM_READ_MODE: 'DUAL_ASYNC_ON_SECONDARY',
      ZDM_PROXY_WORKERS: '2',
    });
    const client = new cassandra.Client({
      contactPoints: [`127.0.0.1:${proxy.port}`],
      localDataCenter: 'datacenter1',
      socketOptions: { readTimeout: 30_000 },
      // The control connection and two for requests: the primary spreads them over both workers.
      pooling: { coreConnectionsPerHost: { [cassandra.types.distance.local]: 2 } },
    });
    // Slow on purpose (about a minute): the migrate must still run while Prometheus scrapes it.
    const migrate = startZdm(
      migrateArgs(
        `${KS}.seeded`,
        pair.origin,
        pair.target,
        scratchDir('zdm-prom-'),
        '--splits',
        '64',
        '--target-rate-limit',
        '300',
        '--metrics-port',
        String(migrateMetricsPort),
      ),
    );
    const prometheus = await startPrometheus({
      'zdm-proxy': `127.0.0.1:${proxyMetricsPort}`,
      'zdm-migrate': `127.0.0.1:${migrateMetricsPort}`,
    });
    let loading = true;
    try {
      await client.connect();
      let failedWrites = 0;
      // Writes and reads (DUAL_ASYNC_ON_SECONDARY mirrors each read to Target), and now and then a
      // write Target refuses.
      const load = (async () => {
        for (let n = 0; loading; n++) {
          await client.execute(`INSERT INTO ${KS}.live (id, v) VALUES (?, ?)`, [n % 500, `v${n}`], {
            prepare: true,
          });
          await client.execute(`SELECT v FROM ${KS}.live WHERE id = ?`, [n % 500], { prepare: true });
          if (n % 50 === 0) {
            await assert.rejects(
              client.execute(`INSERT INTO ${KS}.origin_only (id, v) VALUES (${n}, 'x')`),
              /origin_only/,
            );
            failedWrites++;
          }
        }
      })();
      load.catch(() => undefined); // awaited below; a failure must not be an unhandled rejection meanwhile
      const missing = new Map(dashboardQueries().map((q) => [q.expr, q.where]));
      assert.ok(missing.size >= 10, `the dashboards hold ${missing.size} queries`);
      await waitFor('every dashboard query returns data', async () => {
        assert.equal(migrate.child.exitCode, null, `migrate ended early:\n${migrate.output().stderr}`);
        for (const expr of [...missing.keys()])
          if ((await prometheus.query(expr)).length > 0) missing.delete(expr);
        return missing.size === 0;
      }).catch((error: unknown) => {
        const left = [...missing].map(([expr, where]) => `  ${where}: ${expr}`).join('\n');
        throw new Error(`${(error as Error).message}; queries without data:\n${left}\n${prometheus.log()}`);
      });
      loading = false;
      await load;
      // Both workers served requests, and the per-table series, summed over them, counts exactly
      // the writes Target refused (Prometheus' last scrape may lag).
      const perWorker = (await prometheus.query('zdm_proxy_worker_client_connections > 0')) as {
        metric: { worker: string };
      }[];
      assert.deepEqual(perWorker.map((s) => s.metric.worker).sort(), ['1', '2']);
      const byTable = `zdm_proxy_failed_writes_by_table_total{keyspace="${KS}",table="origin_only",failed_on="target"}`;
      await waitFor('the last failed write in Prometheus', async () => {
        const [series] = (await prometheus.query(byTable)) as { value: [number, string] }[];
        return series !== undefined && Number(series.value[1]) === failedWrites;
      });
      const rows = await pair.o.execute(`SELECT count(*) FROM ${KS}.origin_only`);
      assert.equal(Number(rows.first().get(0)), failedWrites, 'each refused write still reached Origin');
    } finally {
      loading = false;
      migrate.child.kill('SIGINT');
      await migrate.done;
      await client.shutdown();
      await prometheus.stop();
      await proxy.stop();
    }
  });
});
