/**
 * `npm run demo`: the whole job on a fresh machine. Fetches Apache Cassandra 5.0 (once, with Maven),
 * starts an Origin cluster on 127.0.0.2 and a Target cluster on 127.0.0.3, creates a table on both,
 * fills Origin with rows whose cells carry varied writetimes and TTLs, runs `zdm migrate`, kills it
 * halfway and resumes it, then runs `zdm diff` to show that Target equals Origin. The clusters are
 * stopped at the end (`--keep` leaves them running; `zdm cluster stop` stops them later).
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import cassandra from 'cassandra-driver';
import { ensureCassandraLib } from '../src/cluster/cassandra-dist.js';
import { DEFAULT_PAIR } from '../src/cluster/cluster-options.js';
import { addSignalCleanup } from '../src/cluster/exit-guard.js';
import { type RunningCluster, startCluster } from '../src/cluster/local-cluster.js';
import { createLogger } from '../src/log/logger.js';

const keep = process.argv.includes('--keep');
const flag = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
/** Addresses of the two clusters (default 127.0.0.2 and 127.0.0.3), changeable when those are taken. */
const addresses = [
  flag('origin-address') ?? DEFAULT_PAIR[0].address,
  flag('target-address') ?? DEFAULT_PAIR[1].address,
];
const rows = Number(flag('rows') ?? 200_000);
const logger = createLogger({ level: 'info' });
const baseDir = join('.zdm', 'clusters');
const checkpoints = join('.zdm', 'demo-checkpoints');
const clusters: RunningCluster[] = [];

const say = (text: string) => process.stdout.write(`\n== ${text}\n`);

function zdm(args: string[], killAfterMs?: number): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join('src', 'cli', 'zdm.ts'), ...args], {
      stdio: 'inherit',
    });
    const timer =
      killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('close', (code) => {
      if (timer !== undefined) clearTimeout(timer);
      resolve(code);
    });
  });
}

async function stopAll(): Promise<void> {
  for (const c of clusters.splice(0)) await c.stop();
}
addSignalCleanup(stopAll);

async function seedOrigin(client: cassandra.Client): Promise<void> {
  const insert =
    'INSERT INTO shop.orders (customer, placed, item, quantity, price, tags, notes) VALUES (?, ?, ?, ?, ?, ?, ?) USING TIMESTAMP ? AND TTL ?';
  const inFlight = new Set<Promise<unknown>>();
  const start = BigInt(Date.now()) * 1000n;
  for (let i = 0; i < rows; i++) {
    const params = [
      cassandra.types.Uuid.fromString(`00000000-0000-4000-8000-${String(i % 20_000).padStart(12, '0')}`),
      new Date(1_700_000_000_000 + i * 1000),
      `item-${i % 997}`,
      1 + (i % 9),
      cassandra.types.BigDecimal.fromString(`${(i % 10_000) / 100}`),
      [`t${i % 7}`, i % 2 ? 'gift' : 'plain'],
      i % 5 === 0 ? `note ${i}` : null,
      start - BigInt(i % 1000) * 1_000_000n,
      i % 3 === 0 ? 86_400 * 30 : 0,
    ];
    const p = client.execute(insert, params, { prepare: true }).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= 128) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  // Some cells rewritten later, so rows carry cells of different writetimes and TTLs.
  for (let i = 1; i < rows; i += 97) {
    await client.execute(
      "UPDATE shop.orders USING TTL 3600 SET notes = 'changed later' WHERE customer = ? AND placed = ?",
      [
        cassandra.types.Uuid.fromString(`00000000-0000-4000-8000-${String(i % 20_000).padStart(12, '0')}`),
        new Date(1_700_000_000_000 + i * 1000),
      ],
      { prepare: true },
    );
  }
}

let exitCode = 0;
try {
  say('Fetching Apache Cassandra 5.0 from Maven Central (first run only)');
  await ensureCassandraLib(undefined, logger);
  say(`Starting Origin (${addresses[0]}) and Target (${addresses[1]})`);
  for (const [i, { name }] of DEFAULT_PAIR.entries()) {
    clusters.push(await startCluster({ name, firstAddress: addresses[i]!, baseDir, reset: true }, logger));
  }
  const schema = [
    "CREATE KEYSPACE shop WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
    `CREATE TABLE shop.orders (customer uuid, placed timestamp, item text, quantity int, price decimal,
       tags set<text>, notes text, PRIMARY KEY (customer, placed)) WITH CLUSTERING ORDER BY (placed DESC)`,
  ];
  for (const cluster of clusters) {
    const client = new cassandra.Client({
      contactPoints: [...cluster.contactPoints],
      localDataCenter: cluster.localDataCenter,
      encoding: { useBigIntAsLong: true },
    });
    await client.connect();
    for (const statement of schema) await client.execute(statement);
    if (cluster.name === 'origin') {
      say(`Writing ${rows} rows into Origin shop.orders`);
      await seedOrigin(client);
    }
    await client.shutdown();
  }
  rmSync(checkpoints, { recursive: true, force: true });
  const clusterFlags = ['--origin-contact-points', addresses[0]!, '--target-contact-points', addresses[1]!];
  const flags = [...clusterFlags, '--checkpoint-dir', checkpoints];
  say('zdm schema-check shop.orders');
  const compatible = await zdm(['schema-check', 'shop.orders', ...clusterFlags]);
  if (compatible !== 0) throw new Error('schema-check failed');
  say('zdm migrate shop.orders, killed with SIGKILL after 6 s (as a crash would)');
  await zdm(['migrate', 'shop.orders', ...flags, '--target-rate-limit', '20000'], 6000);
  say('zdm status: the run is unfinished');
  await zdm(['status', '--checkpoint-dir', checkpoints]);
  say('zdm migrate shop.orders again: resumes where it stopped');
  const migrated = await zdm(['migrate', 'shop.orders', ...flags]);
  say('zdm diff shop.orders: values, writetimes and TTLs compared range by range');
  const diffed = await zdm(['diff', 'shop.orders', ...flags]);
  exitCode = migrated === 0 && diffed === 0 ? 0 : 1;
  say(exitCode === 0 ? 'Done: Target equals Origin.' : 'Something differs: see above.');
} catch (error) {
  logger.error({ err: error }, 'demo failed');
  exitCode = 1;
} finally {
  if (keep) {
    process.stdout.write('\nClusters left running (--keep): stop them with `npm run zdm -- cluster stop`.\n');
  } else {
    await stopAll();
  }
}
process.exit(exitCode);
