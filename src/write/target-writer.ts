import type { LimitFunction } from 'p-limit';
import type { CqlClient } from '../connect/cluster-client.js';
import type { RateLimiter } from '../ranges/rate-limiter.js';
import { addToBatch, type BatchFill, EMPTY_FILL, fitsBatch } from './batch-limits.js';
import type { Assignment, PlannedWrite } from './cell-plan.js';
import type { OriginList } from './list-merge.js';
import type { ListCell, ListReconciler } from './list-reconciler.js';
import { agedTtl } from './ttl-age.js';
import { estimateValueBytes } from './value-size.js';
import { type RetryOptions, WRITE_RETRY, withWriteRetries } from './write-retry.js';
import type { WriteSizes } from './write-sizes.js';
import { type Statement, type WriteTarget, writeStatement } from './write-statement.js';

/** What every Target write of a job shares. */
export interface TargetWriterSetup {
  readonly target: CqlClient;
  readonly table: WriteTarget;
  readonly consistency: number;
  /** The Target rate limit, in rows. */
  readonly limiter: RateLimiter;
  /** Bounds the requests in flight to Target, across all ranges. */
  readonly slots: LimitFunction;
  /** Serialized sizes of the table's values, for batching. */
  readonly sizes: WriteSizes;
  /** Writes the table's non-frozen lists; undefined when it has none. */
  readonly lists: ListReconciler | undefined;
  readonly retry?: RetryOptions;
}

/** One row's (or a partition's static) planned writes. */
export interface RowWrites {
  readonly writes: readonly PlannedWrite[];
  /** Partition key values, then clustering values. */
  readonly keyValues: readonly unknown[];
  /** Rows this counts for the Target rate limit (0 for a partition's static writes). */
  readonly rows: number;
  /** Statements sent as they are beside the planned writes (a repair's deletes). */
  readonly extra?: readonly Statement[];
}

/** Per-cell bookkeeping Cassandra counts in a mutation's data size (timestamp, TTL, deletion time). */
const CELL_OVERHEAD_BYTES = 24;
const ROW_OVERHEAD_BYTES = 16;

function rowBytes(row: RowWrites, sizes: WriteSizes): number {
  let bytes = ROW_OVERHEAD_BYTES + sizes.keys(row.keyValues);
  for (const w of row.writes)
    for (const a of w.assignments) bytes += CELL_OVERHEAD_BYTES + sizes.assignment(a);
  for (const s of row.extra ?? []) bytes += CELL_OVERHEAD_BYTES + estimateValueBytes(s.params);
  return bytes;
}

const statementCount = (row: RowWrites) => row.writes.length + (row.extra?.length ?? 0);

/**
 * The one way Target is written, by migrate and by diff's repairs: planned writes become statements
 * (write-statement.ts) grouped into unlogged batches within Cassandra's stock limits
 * (batch-limits.ts), sent under the Target rate limit and the shared bound on requests in flight,
 * with TTLs aged from when Origin was read (ttl-age.ts), computed again for every retry; non-frozen
 * lists go through the list reconciler instead, which never duplicates them.
 *
 * One writer serves one unit of reading (a page, a repaired row): `readAt` is when it was read.
 */
export class TargetWriter {
  private readonly pending: Promise<unknown>[] = [];
  private readonly listCells: ListCell[] = [];
  private batch: RowWrites[] = [];
  private fill: BatchFill = EMPTY_FILL;
  private partitionStarts = false;
  /** Rate-limit units of rows whose only writes were lists. */
  private listOnlyRows = 0;

  constructor(
    private readonly setup: TargetWriterSetup,
    private readonly readAt: number,
  ) {}

  /** The rows added next belong to another partition than the ones before. */
  startPartition(): void {
    this.partitionStarts = true;
  }

  add(row: RowWrites): void {
    const item = this.withoutLists(row);
    const newPartition = this.partitionStarts;
    this.partitionStarts = false;
    if (item.writes.length === 0 && (item.extra?.length ?? 0) === 0) {
      this.listOnlyRows += item.rows;
      return;
    }
    const size = { statements: statementCount(item), bytes: rowBytes(item, this.setup.sizes), newPartition };
    if (!fitsBatch(this.fill, size)) this.flush();
    this.batch.push(item);
    this.fill = addToBatch(this.fill, size);
  }

  /** Moves list assignments to the list reconciler; drops writes left with nothing to do. */
  private withoutLists(row: RowWrites): RowWrites {
    const lists = this.setup.lists;
    if (lists === undefined) return row;
    let moved = false;
    const writes: PlannedWrite[] = [];
    for (const w of row.writes) {
      const kept = w.assignments.filter((a) => {
        if (a.op !== 'set' || !lists.has(a.column)) return true;
        moved = true;
        this.listCells.push({
          column: a.column,
          keyValues: row.keyValues,
          list: originList(a, w),
          readAt: this.readAt,
        });
        return false;
      });
      // An INSERT still carries the row marker when its lists are gone.
      if (kept.length > 0 || w.kind === 'insert') writes.push({ ...w, assignments: kept });
    }
    return moved ? { ...row, writes } : row;
  }

  private flush(): void {
    if (this.batch.length === 0) return;
    const rows = this.batch;
    this.batch = [];
    this.fill = EMPTY_FILL;
    const { target, consistency, limiter, slots, table } = this.setup;
    const units = rows.reduce((n, r) => n + r.rows, 0);
    this.pending.push(
      slots(async () => {
        await limiter.acquire(units);
        await withWriteRetries(() => {
          const now = Date.now();
          const statements = rows.flatMap((row) => [
            ...row.writes.map((w) =>
              writeStatement(table, { ...w, ttl: agedTtl(w.ttl, this.readAt, now) }, row.keyValues),
            ),
            ...(row.extra ?? []),
          ]);
          const options = { prepare: true, consistency };
          if (statements.length === 1) {
            const [only] = statements as [Statement];
            return target.execute(only.query, only.params, options);
          }
          return target.batch(statements, { ...options, logged: false });
        }, this.setup.retry ?? WRITE_RETRY);
      }),
    );
  }

  /**
   * Sends what is left and waits for every write; rejects with the first failure. Lists are written
   * once the other cells are acknowledged, each through read, decide, write, read.
   */
  async done(): Promise<{ readonly listsUnsettled: number }> {
    this.flush();
    await settleAll(this.pending);
    const lists = this.setup.lists;
    let listsUnsettled = 0;
    if (lists !== undefined && this.listCells.length > 0) {
      await this.setup.limiter.acquire(this.listOnlyRows);
      await settleAll(
        this.listCells.map(async (cell) => {
          const settled = await withWriteRetries(
            () => lists.reconcile(cell),
            this.setup.retry ?? WRITE_RETRY,
          );
          if (!settled) listsUnsettled++;
        }),
      );
    }
    return { listsUnsettled };
  }
}

/** Origin's list as planned: its elements' own metadata, or the write's for a uniform list. */
function originList(a: Extract<Assignment, { op: 'set' }>, w: PlannedWrite): OriginList {
  const elements = a.value as unknown[];
  return {
    elements,
    writetimes: a.elementMeta?.writetimes ?? elements.map(() => w.timestamp),
    ttls: a.elementMeta?.ttls ?? elements.map(() => w.ttl),
  };
}

async function settleAll(work: readonly Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(work);
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure !== undefined) throw failure.reason;
}
