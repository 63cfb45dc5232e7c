import cassandra from 'cassandra-driver';
import pLimit from 'p-limit';
import type { CqlClient } from '../connect/cluster-client.js';
import { OperatorError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { quoteIdent } from '../schema/identifier.js';
import { claimOrder } from './claim-order.js';
import { killPoint } from './kill-point.js';
import { claimable, type LeaseTiming } from './lease.js';
import {
  addCounts,
  type ClaimedRange,
  type Counts,
  LeaseLost,
  type RangeLease,
  type RangeRecord,
  type RangeStatus,
  type RunRecord,
  type RunState,
  type RunStatus,
  type RunTotals,
  type SharedReportLines,
  totalsOf,
  type WorkerIdentity,
  type WorkerRecord,
} from './run-state.js';

const { types, errors } = cassandra;

/**
 * Reads and commits at QUORUM, LWTs with SERIAL: a run's state may be shared by workers of several
 * datacenters, so nothing is confined to one (the default keyspace lives in one datacenter anyway).
 */
const QUORUM = types.consistencies.quorum;
const SERIAL = types.consistencies.serial;

/** What every state query and plain write runs with (conditional updates: CONDITIONAL). */
const PLAIN = { prepare: true, consistency: QUORUM };
const CONDITIONAL = { prepare: true, consistency: QUORUM, serialConsistency: SERIAL };

/** Ranges read per query when a run's ranges are listed (IN on the partition key's last part). */
const READ_CHUNK = 100;
/** Times a conditional update is tried when its outcome stays unknown (timeouts). */
const UNKNOWN_OUTCOME_TRIES = 5;

/** Partitions of a run's report lines (report_lines.bucket). */
const REPORT_BUCKETS = 16;
/** Report lines read per page. */
const REPORT_PAGE = 500;

/** The bucket of a report line: FNV-1a of its key, so the lines spread evenly and a key always lands in one. */
export function reportBucket(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % REPORT_BUCKETS;
}

/** Where a run's state lives in Cassandra and how its leases are timed. */
export interface CassandraStateContext {
  readonly client: CqlClient;
  readonly keyspace: string;
  readonly timing: LeaseTiming;
  readonly logger: Logger;
}

type Row = cassandra.types.Row;

/** A JS number for a CQL bigint column (the client encodes bigint only from BigInt). */
export const big = (n: number): bigint => BigInt(Math.round(n));

const num = (value: unknown): number => (value === null || value === undefined ? 0 : Number(value));

function rangeOf(row: Row): RangeRecord {
  const owner = row.get('owner') as string | null;
  const leaseUntil = num(row.get('lease_until'));
  return {
    id: num(row.get('range_id')),
    start: BigInt(String(row.get('start_token'))),
    end: BigInt(String(row.get('end_token'))),
    status: String(row.get('status')) as RangeStatus,
    attempts: num(row.get('attempts')),
    counts: JSON.parse(String(row.get('counts') ?? '{}')) as Counts,
    resumeState: (row.get('resume_state') as string | null) ?? undefined,
    lastError: (row.get('last_error') as string | null) ?? undefined,
    completedAt: row.get('completed_at') === null ? undefined : num(row.get('completed_at')),
    owner: owner === null || owner === '' ? undefined : owner,
    leaseUntil: leaseUntil === 0 ? undefined : leaseUntil,
    fence: num(row.get('fence')),
  };
}

/** Whether an error leaves a conditional update's outcome unknown (it may have been applied). */
function outcomeUnknown(error: unknown): boolean {
  if (error instanceof errors.OperationTimedOutError) return true;
  const code = (error as { code?: number }).code;
  // Write timeout, read timeout (Paxos phases), unavailable: native protocol spec section 8.
  return code === 0x1100 || code === 0x1200 || code === 0x1000;
}

/** A range this process holds: what only its owner changes, kept here so updates need no read first. */
interface Holding {
  attempts: number;
  counts: Counts;
}

/**
 * One run's state in a Cassandra keyspace (tables in cassandra-state-schema.ts), shared by workers on
 * any machine. Every change of a range is a lightweight transaction conditioned on what the writer
 * saw (claims) or on its owner and fence (everything a holder does), so a worker that lost its
 * lease cannot overwrite the new owner's progress. A conditional update whose outcome is unknown
 * (timeout) is settled by a SERIAL read of the range before it is tried again.
 */
export class CassandraRunState implements RunState {
  readonly kind = 'cassandra' as const;
  readonly location: string;
  private readonly held = new Map<number, Holding>();
  private rangeCount: number | undefined;
  private order: Map<number, number> | undefined;
  private queue: RangeRecord[] = [];
  private refilling: Promise<void> | undefined;

  constructor(
    private readonly context: CassandraStateContext,
    readonly runId: string,
    /** Closes the client with the state (status and tests own theirs; jobs share Target's). */
    private readonly ownsClient = false,
  ) {
    this.location = `${context.keyspace} run ${runId}`;
  }

  private table(name: string): string {
    return `${quoteIdent(this.context.keyspace)}.${name}`;
  }

  readonly reportLines: SharedReportLines = {
    save: async (key, line) => {
      await this.client.execute(
        `INSERT INTO ${this.table('report_lines')} (run_id, bucket, line_key, line) VALUES (?, ?, ?, ?)`,
        [this.runId, reportBucket(key), key, line],
        PLAIN,
      );
    },
    all: () => this.allReportLines(),
  };

  private async *allReportLines(): AsyncIterable<string> {
    for (let bucket = 0; bucket < REPORT_BUCKETS; bucket++) {
      // The driver's typings say EventEmitter; it is a Readable stream of rows, paged as read.
      const rows = this.client.stream(
        `SELECT line FROM ${this.table('report_lines')} WHERE run_id = ? AND bucket = ?`,
        [this.runId, bucket],
        { ...PLAIN, fetchSize: REPORT_PAGE },
      ) as unknown as AsyncIterable<Row>;
      for await (const row of rows) yield String(row.get('line'));
    }
  }

  private get client(): CqlClient {
    return this.context.client;
  }

  async run(): Promise<RunRecord> {
    const row = (
      await this.client.execute(`SELECT * FROM ${this.table('runs')} WHERE run_id = ?`, [this.runId], PLAIN)
    ).first();
    if (row === null)
      throw new OperatorError(
        'RUN_NOT_FOUND',
        `No run ${this.runId} in the state keyspace ${this.context.keyspace}.`,
        'Check the run id (zdm status --state-store cassandra lists the runs).',
      );
    this.rangeCount = num(row.get('range_count'));
    return {
      job: String(row.get('job')),
      originTable: String(row.get('origin_table')),
      targetTable: String(row.get('target_table')),
      options: String(row.get('options')),
      status: String(row.get('status')) as RunStatus,
      startedAt: num(row.get('started_at')),
      endedAt: row.get('ended_at') === null ? undefined : num(row.get('ended_at')),
      sessions: num(row.get('sessions')),
      runTimestamp: BigInt(String(row.get('run_timestamp'))),
    };
  }

  /**
   * Sessions + 1 and status running, by LWT since workers may begin at once. Ranges of workers that
   * died are not released here: their leases expire (liveness of another machine's process cannot
   * be checked from here).
   */
  async beginSession(): Promise<void> {
    for (let tries = 0; tries < 20; tries++) {
      const sessions = (await this.run()).sessions;
      const result = await this.client.execute(
        `UPDATE ${this.table('runs')} SET sessions = ?, status = 'running', ended_at = null WHERE run_id = ? IF sessions = ?`,
        [sessions + 1, this.runId, sessions],
        CONDITIONAL,
      );
      if (result.wasApplied()) return;
    }
    throw new Error(`could not begin a session of run ${this.runId}: too many concurrent sessions`);
  }

  async resetFailed(): Promise<number> {
    const failed = await this.ranges('failed');
    let reset = 0;
    for (const r of failed) {
      const result = await this.client.execute(
        `UPDATE ${this.table('ranges')} SET status = 'pending', attempts = 0, owner = '', lease_until = 0
         WHERE run_id = ? AND range_id = ? IF status = 'failed' AND fence = ?`,
        [this.runId, r.id, big(r.fence ?? 0)],
        CONDITIONAL,
      );
      if (result.wasApplied()) reset++;
    }
    return reset;
  }

  private async count(): Promise<number> {
    if (this.rangeCount === undefined) await this.run();
    return this.rangeCount!;
  }

  /** Every range of the run, read in chunks of partitions. */
  private async readAll(): Promise<RangeRecord[]> {
    const count = await this.count();
    const chunks: number[][] = [];
    for (let first = 1; first <= count; first += READ_CHUNK)
      chunks.push(Array.from({ length: Math.min(READ_CHUNK, count - first + 1) }, (_, i) => first + i));
    const limit = pLimit(8);
    const read = await Promise.all(
      chunks.map((ids) =>
        limit(() =>
          this.client.execute(
            `SELECT * FROM ${this.table('ranges')} WHERE run_id = ? AND range_id IN ?`,
            [this.runId, ids],
            PLAIN,
          ),
        ),
      ),
    );
    return read.flatMap((rs) => rs.rows.map(rangeOf)).sort((a, b) => a.id - b.id);
  }

  async ranges(status?: RangeStatus): Promise<RangeRecord[]> {
    const all = await this.readAll();
    return status === undefined ? all : all.filter((r) => r.status === status);
  }

  private async readRange(id: number, consistency: number): Promise<RangeRecord | undefined> {
    const row = (
      await this.client.execute(
        `SELECT * FROM ${this.table('ranges')} WHERE run_id = ? AND range_id = ?`,
        [this.runId, id],
        { prepare: true, consistency },
      )
    ).first();
    return row === null ? undefined : rangeOf(row);
  }

  async range(id: number): Promise<RangeRecord> {
    const range = await this.readRange(id, QUORUM);
    if (range === undefined) throw new Error(`range ${id} of run ${this.runId} is missing`);
    return range;
  }

  async registerWorker(worker: WorkerIdentity): Promise<void> {
    const now = Date.now();
    await this.client.execute(
      `INSERT INTO ${this.table('workers')} (run_id, worker_id, host, pid, started_at, heartbeat, ranges)
       VALUES (?, ?, ?, ?, ?, ?, '[]') USING TTL ?`,
      [this.runId, worker.id, worker.host, worker.pid, big(now), big(now), this.workerTtl()],
      PLAIN,
    );
  }

  /**
   * Seconds a worker's row outlives its last heartbeat: a worker that died without leaving stays
   * listed (by `zdm status`, with its heartbeat's age) for 20 leases, then disappears by itself.
   */
  private workerTtl(): number {
    return Math.max(60, Math.ceil((this.context.timing.leaseMs / 1000) * 20));
  }

  async unregisterWorker(workerId: string): Promise<void> {
    await this.client.execute(
      `DELETE FROM ${this.table('workers')} WHERE run_id = ? AND worker_id = ?`,
      [this.runId, workerId],
      PLAIN,
    );
  }

  async workers(): Promise<WorkerRecord[]> {
    const rows = await this.client.execute(
      `SELECT * FROM ${this.table('workers')} WHERE run_id = ?`,
      [this.runId],
      PLAIN,
    );
    return rows.rows.map((r) => ({
      id: String(r.get('worker_id')),
      host: String(r.get('host')),
      pid: num(r.get('pid')),
      startedAt: num(r.get('started_at')),
      heartbeat: num(r.get('heartbeat')),
      ranges: JSON.parse(String(r.get('ranges') ?? '[]')) as number[],
    }));
  }

  /**
   * A conditional update; true when applied. When its outcome is unknown, a SERIAL read of the range
   * (which completes any Paxos round in progress) says whether it took effect; if not, it is tried
   * again, and its condition decides afresh.
   */
  private async conditional(
    rangeId: number,
    cql: string,
    params: unknown[],
    appliedIn: (range: RangeRecord | undefined) => boolean,
  ): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await this.client.execute(cql, params, CONDITIONAL)).wasApplied();
      } catch (error) {
        if (!outcomeUnknown(error) || attempt >= UNKNOWN_OUTCOME_TRIES) throw error;
        this.context.logger.warn(
          { range: rangeId, attempt },
          'state update timed out; reading the range to learn whether it applied',
        );
        if (appliedIn(await this.readRange(rangeId, SERIAL))) return true;
      }
    }
  }

  private async claimOrder(): Promise<Map<number, number>> {
    if (this.order === undefined) {
      this.order = claimOrder(await this.count(), (await this.run()).startedAt);
    }
    return this.order;
  }

  /** Lists the ranges claimable now, in claim order, for the claims that follow. */
  private refill(): Promise<void> {
    this.refilling ??= (async () => {
      try {
        const order = await this.claimOrder();
        const now = Date.now();
        this.queue = (await this.readAll())
          .filter((r) => claimable(r, now, this.context.timing.graceMs))
          .sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
      } finally {
        this.refilling = undefined;
      }
    })();
    return this.refilling;
  }

  async claimRange(workerId: string): Promise<ClaimedRange | undefined> {
    let refilled = false;
    for (;;) {
      if (this.queue.length === 0) {
        if (refilled) return undefined;
        await this.refill();
        refilled = true;
        continue;
      }
      const seen = this.queue.shift()!;
      if (!claimable(seen, Date.now(), this.context.timing.graceMs)) continue;
      const claimed = await this.tryClaim(seen, workerId);
      if (claimed !== undefined) return claimed;
    }
  }

  /** Claims a range if it is still exactly as seen (status, fence, lease and attempts). */
  private async tryClaim(seen: RangeRecord, workerId: string): Promise<ClaimedRange | undefined> {
    const fence = (seen.fence ?? 0) + 1;
    const now = Date.now();
    const applied = await this.conditional(
      seen.id,
      `UPDATE ${this.table('ranges')} SET status = 'running', owner = ?, lease_until = ?, fence = ?,
       attempts = ?, updated_at = ? WHERE run_id = ? AND range_id = ?
       IF status = ? AND fence = ? AND lease_until = ? AND attempts = ?`,
      [
        workerId,
        big(now + this.context.timing.leaseMs),
        big(fence),
        seen.attempts + 1,
        big(now),
        this.runId,
        seen.id,
        seen.status,
        big(seen.fence ?? 0),
        big(seen.leaseUntil ?? 0),
        seen.attempts,
      ],
      (r) => r?.owner === workerId && r.fence === fence,
    );
    if (!applied) return undefined;
    // Read back after the claim: the last owner may have saved a page since the listing, and can no
    // longer (its fence is stale), so this is where the range resumes.
    const range = await this.readRange(seen.id, SERIAL);
    if (range === undefined || range.owner !== workerId || range.fence !== fence) return undefined;
    this.held.set(range.id, { attempts: range.attempts, counts: range.counts });
    return { range, lease: { rangeId: range.id, owner: workerId, fence } };
  }

  /** What this process knows of a range it holds; read if another instance claimed it. */
  private async holding(lease: RangeLease): Promise<Holding> {
    const known = this.held.get(lease.rangeId);
    if (known !== undefined) return known;
    const range = await this.readRange(lease.rangeId, SERIAL);
    if (range === undefined || range.owner !== lease.owner || range.fence !== lease.fence)
      throw new LeaseLost(lease.rangeId, 'another worker owns it now');
    const holding = { attempts: range.attempts, counts: range.counts };
    this.held.set(lease.rangeId, holding);
    return holding;
  }

  private async fenced(
    lease: RangeLease,
    set: string,
    values: unknown[],
    appliedIn: (range: RangeRecord) => boolean,
  ): Promise<void> {
    const applied = await this.conditional(
      lease.rangeId,
      `UPDATE ${this.table('ranges')} SET ${set} WHERE run_id = ? AND range_id = ? IF owner = ? AND fence = ?`,
      [...values, this.runId, lease.rangeId, lease.owner, big(lease.fence)],
      (r) => r !== undefined && appliedIn(r),
    );
    if (!applied) {
      this.held.delete(lease.rangeId);
      throw new LeaseLost(lease.rangeId, 'another worker owns it now');
    }
  }

  async renewLeases(workerId: string, leases: readonly RangeLease[]): Promise<RangeLease[]> {
    const until = Date.now() + this.context.timing.leaseMs;
    const lost: RangeLease[] = [];
    await Promise.all(
      leases.map(async (lease) => {
        try {
          await this.fenced(lease, 'lease_until = ?', [big(until)], (r) => r.leaseUntil === until);
        } catch (error) {
          if (!(error instanceof LeaseLost)) throw error;
          lost.push(lease);
        }
      }),
    );
    const held = leases.filter((l) => !lost.includes(l)).map((l) => l.rangeId);
    await this.client.execute(
      `UPDATE ${this.table('workers')} USING TTL ? SET heartbeat = ?, ranges = ? WHERE run_id = ? AND worker_id = ?`,
      [this.workerTtl(), big(Date.now()), JSON.stringify(held), this.runId, workerId],
      PLAIN,
    );
    return lost;
  }

  async startAttempt(lease: RangeLease): Promise<void> {
    const holding = await this.holding(lease);
    const attempts = holding.attempts + 1;
    await this.fenced(
      lease,
      'attempts = ?, updated_at = ?',
      [attempts, big(Date.now())],
      (r) => r.attempts === attempts,
    );
    holding.attempts = attempts;
  }

  async savePage(lease: RangeLease, resumeState: string | undefined, delta: Counts): Promise<void> {
    killPoint('page-begin');
    const holding = await this.holding(lease);
    const counts = addCounts(holding.counts, delta);
    const json = JSON.stringify(counts);
    await this.fenced(
      lease,
      'counts = ?, resume_state = ?, updated_at = ?',
      [json, resumeState ?? null, big(Date.now())],
      (r) => JSON.stringify(r.counts) === json && r.resumeState === resumeState,
    );
    holding.counts = counts;
    killPoint('page-committed');
  }

  async finishRange(lease: RangeLease, status: 'done' | 'failed' | 'pending', error?: string): Promise<void> {
    const now = Date.now();
    await this.fenced(
      lease,
      `status = ?, last_error = ?, completed_at = ?, updated_at = ?, owner = '', lease_until = 0${status === 'done' ? ', resume_state = null' : ''}`,
      [status, error ?? null, status === 'done' ? big(now) : null, big(now)],
      (r) => r.status === status && r.owner === undefined,
    );
    this.held.delete(lease.rangeId);
    if (status === 'done') killPoint('range-done');
  }

  async finishRun(status: RunStatus): Promise<void> {
    await this.client.execute(
      `UPDATE ${this.table('runs')} SET status = ?, ended_at = ? WHERE run_id = ? IF EXISTS`,
      [status, big(Date.now()), this.runId],
      CONDITIONAL,
    );
  }

  async totals(): Promise<RunTotals> {
    return totalsOf(await this.readAll());
  }

  async close(): Promise<void> {
    if (this.ownsClient) await this.client.shutdown();
  }
}
