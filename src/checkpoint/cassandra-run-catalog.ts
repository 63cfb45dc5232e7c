import { randomBytes } from 'node:crypto';
import cassandra from 'cassandra-driver';
import pLimit from 'p-limit';
import type { TokenRange } from '../ranges/token-ring.js';
import { quoteIdent } from '../schema/identifier.js';
import { big, CassandraRunState, type CassandraStateContext } from './cassandra-run-state.js';
import { checkpointFileName } from './checkpoint-store.js';
import { claimOrder } from './claim-order.js';
import type { RunIdentity } from './resume-decision.js';
import type { Created, RunCatalog } from './run-catalog.js';
import type { NewRun, RunState } from './run-state.js';

const { types } = cassandra;
const READ = { prepare: true, consistency: types.consistencies.quorum };
const CONDITIONAL = {
  prepare: true,
  consistency: types.consistencies.quorum,
  serialConsistency: types.consistencies.serial,
};
/** The pointer to the latest run is only ever changed by LWT: read it at SERIAL. */
const SERIAL_READ = { prepare: true, consistency: types.consistencies.serial };

/** A run id: the job, the Origin table, the time and a random part (`migrate-ks.t-20260101-120000-3fa2`). */
export function newRunId(job: string, originTable: string, at: Date): string {
  return `${checkpointFileName(job, originTable, at).replace(/\.sqlite$/, '')}-${randomBytes(2).toString('hex')}`;
}

const pointerKey = (identity: {
  readonly job: string;
  readonly originTable: string;
  readonly targetTable: string;
}) => [identity.job, identity.originTable, identity.targetTable] as const;

/**
 * Runs kept in a Cassandra keyspace. The latest run of (job, Origin table, Target table) is named by
 * a pointer row that only LWTs change: a new run is written whole (run row, then every range) and
 * only then published by moving the pointer from the run it replaces, so no worker ever finds a
 * half-made run; when two processes create one at the same moment, one pointer move wins and the
 * other process deletes its own copy and joins the winner's run. No lock: several processes may work
 * on one run, that is the point.
 */
export class CassandraRunCatalog implements RunCatalog {
  readonly where: string;
  /** The pointer as `latest` saw it, per job and tables: a new run replaces exactly that one. */
  private readonly seen = new Map<string, string | null>();

  constructor(private readonly context: CassandraStateContext) {
    this.where = `keyspace ${context.keyspace}`;
  }

  private table(name: string): string {
    return `${quoteIdent(this.context.keyspace)}.${name}`;
  }

  async exclude(): Promise<() => void> {
    return () => undefined;
  }

  async cleanUnfinished(): Promise<string[]> {
    return [];
  }

  private async pointer(identity: Parameters<typeof pointerKey>[0]): Promise<string | null> {
    const row = (
      await this.context.client.execute(
        `SELECT run_id FROM ${this.table('latest_runs')} WHERE job = ? AND origin_table = ? AND target_table = ?`,
        [...pointerKey(identity)],
        SERIAL_READ,
      )
    ).first();
    const runId = row === null ? null : (row.get('run_id') as string | null);
    this.seen.set(pointerKey(identity).join('\u0000'), runId);
    return runId;
  }

  async latest(identity: RunIdentity): Promise<RunState | undefined> {
    const runId = await this.pointer(identity);
    return runId === null ? undefined : this.open(runId);
  }

  /** Opens a run by its id: how a worker joins a run another process started. */
  async open(runId: string): Promise<RunState> {
    const state = new CassandraRunState(this.context, runId);
    await state.run(); // refuses an unknown id
    return state;
  }

  async create(run: NewRun, ranges: readonly TokenRange[], now: Date): Promise<Created> {
    const identity = { job: run.job, originTable: run.originTable, targetTable: run.targetTable };
    const key = pointerKey(identity).join('\u0000');
    const replaced = this.seen.has(key) ? this.seen.get(key)! : await this.pointer(identity);
    const runId = newRunId(run.job, run.originTable, now);
    const client = this.context.client;
    await client.execute(
      `INSERT INTO ${this.table('runs')} (run_id, job, origin_table, target_table, options, status, started_at,
       sessions, run_timestamp, range_count) VALUES (?, ?, ?, ?, ?, 'running', ?, 0, ?, ?) IF NOT EXISTS`,
      [
        runId,
        run.job,
        run.originTable,
        run.targetTable,
        run.options,
        big(run.startedAt),
        run.runTimestamp,
        ranges.length,
      ],
      CONDITIONAL,
    );
    const order = claimOrder(ranges.length, run.startedAt);
    const limit = pLimit(32);
    // LWT inserts: every later change of a range is an LWT too, and mixing plain writes with LWTs on
    // one row lets clock skew order them wrongly.
    await Promise.all(
      ranges.map((r, i) =>
        limit(() =>
          client.execute(
            `INSERT INTO ${this.table('ranges')} (run_id, range_id, start_token, end_token, claim_order, status,
             attempts, counts, owner, lease_until, fence) VALUES (?, ?, ?, ?, ?, 'pending', 0, '{}', '', 0, 0)
             IF NOT EXISTS`,
            [runId, i + 1, r.start, r.end, order.get(i + 1)],
            CONDITIONAL,
          ),
        ),
      ),
    );
    const moved =
      replaced === null
        ? await client.execute(
            `INSERT INTO ${this.table('latest_runs')} (job, origin_table, target_table, run_id) VALUES (?, ?, ?, ?) IF NOT EXISTS`,
            [...pointerKey(identity), runId],
            CONDITIONAL,
          )
        : await client.execute(
            `UPDATE ${this.table('latest_runs')} SET run_id = ? WHERE job = ? AND origin_table = ? AND target_table = ? IF run_id = ?`,
            [runId, ...pointerKey(identity), replaced],
            CONDITIONAL,
          );
    this.seen.delete(key);
    if (!moved.wasApplied()) {
      await this.discard(runId, ranges.length);
      return { kind: 'raced' };
    }
    return { kind: 'created', state: new CassandraRunState(this.context, runId) };
  }

  /** Deletes a run that lost the race to be published (no worker has seen it). */
  private async discard(runId: string, rangeCount: number): Promise<void> {
    const limit = pLimit(32);
    await Promise.all(
      Array.from({ length: rangeCount }, (_, i) =>
        limit(() =>
          this.context.client.execute(
            `DELETE FROM ${this.table('ranges')} WHERE run_id = ? AND range_id = ? IF EXISTS`,
            [runId, i + 1],
            CONDITIONAL,
          ),
        ),
      ),
    );
    await this.context.client.execute(
      `DELETE FROM ${this.table('runs')} WHERE run_id = ? IF EXISTS`,
      [runId],
      CONDITIONAL,
    );
  }

  releaseOnClose(_state: RunState, release: () => void): void {
    release();
  }

  /** Every run in the keyspace (for `zdm status`), oldest first. */
  async runIds(): Promise<string[]> {
    const rows = await this.context.client.execute(
      `SELECT run_id, started_at FROM ${this.table('runs')}`,
      [],
      READ,
    );
    return rows.rows
      .map((r) => ({ id: String(r.get('run_id')), at: Number(r.get('started_at') ?? 0) }))
      .sort((a, b) => a.at - b.at)
      .map((r) => r.id);
  }
}
