import cassandra from 'cassandra-driver';
import { DAY_ZERO, KEYSPACE, SENSORS, sensorName, tableSizes, userId } from './demo-schema.js';

export interface AppStats {
  writes: number;
  reads: number;
  /** Operations that failed (the app retries a failed write until it succeeds). */
  errors: number;
}

/**
 * The application being migrated: a few workers that keep writing and reading through the proxy
 * (new readings, profile changes with set/map/list updates, lookups) until stopped. It pauses
 * (finishing what is in flight) while the proxy restarts between phases, as an application behind
 * a rolling restart would see only drained connections. It leaves the counter table alone: see the
 * README's "Counters" for how to migrate counters under traffic.
 */
export class SampleApp {
  readonly stats: AppStats = { writes: 0, reads: 0, errors: 0 };
  private running = false;
  private paused = false;
  private workers: Promise<void>[] = [];
  private step = 0;

  constructor(
    private readonly client: cassandra.Client,
    private readonly readingsSeeded: number,
    private readonly concurrency = 4,
  ) {}

  static async connect(address: string, port: number, readingsSeeded: number): Promise<SampleApp> {
    const client = new cassandra.Client({
      contactPoints: [`${address}:${port}`],
      localDataCenter: 'datacenter1',
      // Only the proxy: its virtual system.peers lists the proxy instances, never the clusters.
      policies: { reconnection: new cassandra.policies.reconnection.ConstantReconnectionPolicy(200) },
      socketOptions: { readTimeout: 30_000 },
    });
    await client.connect();
    return new SampleApp(client, readingsSeeded);
  }

  start(): void {
    this.running = true;
    this.workers = Array.from({ length: this.concurrency }, () => this.work());
  }

  /** Stops issuing requests and waits for those in flight. */
  async pause(): Promise<void> {
    this.paused = true;
    this.running = false;
    await Promise.all(this.workers);
  }

  resume(): void {
    this.paused = false;
    this.start();
  }

  async stop(): Promise<void> {
    await this.pause();
    await this.client.shutdown();
  }

  private async work(): Promise<void> {
    while (this.running && !this.paused) {
      const n = this.step++;
      await this.retrying(() => this.write(n));
      if (n % 4 === 3) await this.once(() => this.appendVisit(n));
      await this.retrying(() => this.read(n));
    }
  }

  private async write(n: number): Promise<void> {
    const users = tableSizes(this.readingsSeeded).profiles;
    const kind = n % 4;
    if (kind === 3) {
      await this.client.execute(
        `UPDATE ${KEYSPACE}.profiles SET prefs['seen'] = ?, emails = emails + ? WHERE user_id = ?`,
        [String(n), [`n${n}@example.net`], userId(n % users)],
        { prepare: true },
      );
    } else {
      const day = cassandra.types.LocalDate.fromDate(new Date((DAY_ZERO + (n % 7)) * 86_400_000));
      await this.client.execute(
        `INSERT INTO ${KEYSPACE}.readings (sensor, day, at, value, status) VALUES (?, ?, ?, ?, ?)`,
        [sensorName(n % SENSORS), day, new Date(), Math.random() * 100, 'live'],
        { prepare: true },
      );
    }
    this.stats.writes++;
  }

  /** A list append: not idempotent (a repeat adds the element twice), so never retried. */
  private async appendVisit(n: number): Promise<void> {
    const users = tableSizes(this.readingsSeeded).profiles;
    await this.client.execute(
      `UPDATE ${KEYSPACE}.profiles SET visits = visits + ? WHERE user_id = ?`,
      [[new Date()], userId(n % users)],
      { prepare: true },
    );
    this.stats.writes++;
  }

  private async read(n: number): Promise<void> {
    const users = tableSizes(this.readingsSeeded).profiles;
    if (n % 2 === 0) {
      await this.client.execute(`SELECT * FROM ${KEYSPACE}.profiles WHERE user_id = ?`, [userId(n % users)], {
        prepare: true,
      });
    } else {
      const day = cassandra.types.LocalDate.fromDate(new Date((DAY_ZERO + (n % 7)) * 86_400_000));
      await this.client.execute(
        `SELECT at, value FROM ${KEYSPACE}.readings WHERE sensor = ? AND day = ? LIMIT 10`,
        [sensorName(n % SENSORS), day],
        { prepare: true },
      );
    }
    this.stats.reads++;
  }

  /** Retries an idempotent operation (inserts, set and map updates, reads) until it succeeds. */
  private async retrying(op: () => Promise<void>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await op();
        return;
      } catch {
        this.stats.errors++;
        await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)));
      }
    }
  }

  private async once(op: () => Promise<void>): Promise<void> {
    try {
      await op();
    } catch {
      this.stats.errors++;
    }
  }
}
