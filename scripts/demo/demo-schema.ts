import cassandra from 'cassandra-driver';

/**
 * The demo's keyspace: three tables shaped like real applications' (a wide time series with TTLs,
 * a profile table with collections and UDTs, a counter table), on both clusters, and the rows
 * loaded into Origin before the proxy goes in front.
 */
export const KEYSPACE = 'demo';
export const TABLES = ['readings', 'profiles', 'page_views'] as const;

export const SCHEMA = [
  `CREATE KEYSPACE IF NOT EXISTS ${KEYSPACE} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
  `CREATE TYPE IF NOT EXISTS ${KEYSPACE}.address (street text, city text, zip text)`,
  // Wide partitions: one per sensor and day, newest reading first.
  `CREATE TABLE IF NOT EXISTS ${KEYSPACE}.readings (sensor text, day date, at timestamp, value double,
     status text, PRIMARY KEY ((sensor, day), at)) WITH CLUSTERING ORDER BY (at DESC)`,
  `CREATE TABLE IF NOT EXISTS ${KEYSPACE}.profiles (user_id uuid PRIMARY KEY, name text,
     emails set<text>, prefs map<text, text>, visits list<timestamp>, home frozen<address>, work address)`,
  `CREATE TABLE IF NOT EXISTS ${KEYSPACE}.page_views (page text PRIMARY KEY, views counter, likes counter)`,
];

export const SENSORS = 50;
export const DAY_ZERO = 19_700; // days since the epoch: 2023-12-09
export const userId = (i: number) =>
  cassandra.types.Uuid.fromString(`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
export const sensorName = (i: number) => `sensor-${String(i % SENSORS).padStart(3, '0')}`;

/** Rows of each table for a demo of `readings` rows. */
export function tableSizes(readings: number): Record<(typeof TABLES)[number], number> {
  return {
    readings,
    profiles: Math.max(100, Math.floor(readings / 20)),
    page_views: Math.max(50, Math.floor(readings / 100)),
  };
}

/** One write of the seed: a CQL statement and its parameters. */
interface SeedWrite {
  readonly cql: string;
  readonly params: readonly unknown[];
}

function* seedWrites(readings: number): Generator<SeedWrite> {
  const sizes = tableSizes(readings);
  const now = BigInt(Date.now()) * 1000n;
  for (let i = 0; i < sizes.readings; i++) {
    // Writetimes spread over the last ~17 minutes; one row in three expires in 30 days.
    const ttl = i % 3 === 0 ? 86_400 * 30 : 0;
    yield {
      cql: `INSERT INTO ${KEYSPACE}.readings (sensor, day, at, value, status) VALUES (?, ?, ?, ?, ?) USING TIMESTAMP ? AND TTL ?`,
      params: [
        sensorName(i),
        cassandra.types.LocalDate.fromDate(new Date((DAY_ZERO + (i % 7)) * 86_400_000)),
        new Date((DAY_ZERO + (i % 7)) * 86_400_000 + i * 1000),
        (i % 1000) / 7,
        i % 11 === 0 ? 'alarm' : 'ok',
        now - BigInt(i % 1000) * 1_000_000n,
        ttl,
      ],
    };
    // Some cells rewritten later with a TTL of their own: rows mix writetimes and TTLs.
    if (i % 97 === 1) {
      yield {
        cql: `UPDATE ${KEYSPACE}.readings USING TTL 86400 SET status = 'checked' WHERE sensor = ? AND day = ? AND at = ?`,
        params: [
          sensorName(i),
          cassandra.types.LocalDate.fromDate(new Date((DAY_ZERO + (i % 7)) * 86_400_000)),
          new Date((DAY_ZERO + (i % 7)) * 86_400_000 + i * 1000),
        ],
      };
    }
  }
  for (let i = 0; i < sizes.profiles; i++) {
    yield {
      cql: `INSERT INTO ${KEYSPACE}.profiles (user_id, name, emails, prefs, visits, home, work) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      params: [
        userId(i),
        `user ${i}`,
        [`u${i}@example.org`, `user.${i}@example.com`],
        { lang: i % 2 ? 'en' : 'fr', theme: 'dark' },
        [new Date(1_700_000_000_000 + i), new Date(1_700_000_500_000 + i)],
        { street: `${i} Main St`, city: 'Springfield', zip: String(10_000 + i) },
        { street: `${i} Office Rd`, city: 'Shelbyville', zip: null },
      ],
    };
  }
  for (let i = 0; i < sizes.page_views; i++) {
    yield {
      cql: `UPDATE ${KEYSPACE}.page_views SET views = views + ?, likes = likes + ? WHERE page = ?`,
      params: [BigInt(100 + i), BigInt(i % 13), `/page/${i}`],
    };
  }
}

/** Total writes of the seed, for the progress display. */
export function seedWriteCount(readings: number): number {
  const sizes = tableSizes(readings);
  return sizes.readings + Math.ceil((sizes.readings - 1) / 97) + sizes.profiles + sizes.page_views;
}

/** Loads Origin, 128 writes in flight; `onProgress` gets the writes done so far. */
export async function seedOrigin(
  client: cassandra.Client,
  readings: number,
  onProgress: (done: number) => void,
): Promise<void> {
  const inFlight = new Set<Promise<unknown>>();
  let done = 0;
  for (const write of seedWrites(readings)) {
    const p = client
      .execute(write.cql, [...write.params], { prepare: true })
      .then(() => {
        done++;
        if (done % 1000 === 0) onProgress(done);
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= 128) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  onProgress(done);
}
