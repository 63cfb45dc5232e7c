import type { LimitFunction } from 'p-limit';
import type { Counts, RangeRecord } from '../checkpoint/checkpoint-store.js';
import type { CqlClient } from '../connect/cluster-client.js';
import { readPages } from '../ranges/page-reader.js';
import type { RangeWorker } from '../ranges/range-runner.js';
import type { RateLimiter } from '../ranges/rate-limiter.js';
import { keyBytesOf } from '../schema/cql-value/index.js';
import type { ColumnSchema, TableSchema } from '../schema/table-schema.js';
import { carriesWriteTime, ttlAlias, valueColumns, writeTimeAlias } from '../schema/table-schema.js';
import { type CellInput, type PlanOptions, planRowWrites, planStaticWrites } from '../write/cell-plan.js';
import { listReconcilerFor } from '../write/list-reconciler.js';
import { TargetWriter, type TargetWriterSetup } from '../write/target-writer.js';
import { writeSizesFor } from '../write/write-sizes.js';
import type { WriteTarget } from '../write/write-statement.js';

/** Origin's pages of one range, from where the checkpoint says to resume. */
export function readOriginPages(setup: CopySetup, range: RangeRecord) {
  return readPages({
    client: setup.origin,
    query: setup.readQuery,
    range,
    fetchSize: setup.fetchSize,
    consistency: setup.readConsistency,
    resumeState: range.resumeState,
    limiter: setup.readLimiter,
  });
}

export interface CopySetup {
  readonly origin: CqlClient;
  readonly target: CqlClient;
  readonly originSchema: TableSchema;
  /** Origin columns that are copied (skipped ones left out), with their Target names. */
  readonly copied: readonly { readonly column: ColumnSchema; readonly targetName: string }[];
  readonly readQuery: string;
  readonly writeTarget: WriteTarget;
  readonly fetchSize: number;
  readonly readConsistency: number;
  readonly writeConsistency: number;
  readonly readLimiter: RateLimiter;
  readonly writeLimiter: RateLimiter;
  /** Shared by all ranges: bounds the writes in flight to Target. */
  readonly writeSlots: LimitFunction;
  readonly plan: PlanOptions;
}

interface PageCounts {
  rowsRead: number;
  rowsWritten: number;
  rowsSkipped: number;
  cellsSkipped: number;
  partitions: number;
  /** Lists that kept changing on Target while they were written (left to a later pass or diff). */
  listsUnsettled: number;
}

/** The Target writer's setup for a migrate. */
export function migrateWriterSetup(setup: CopySetup): TargetWriterSetup {
  return {
    target: setup.target,
    table: setup.writeTarget,
    consistency: setup.writeConsistency,
    limiter: setup.writeLimiter,
    slots: setup.writeSlots,
    sizes: writeSizesFor(setup.originSchema, setup.copied),
    lists: listReconcilerFor({
      origin: setup.origin,
      target: setup.target,
      originSchema: setup.originSchema,
      writeTarget: setup.writeTarget,
      columns: setup.copied,
      readConsistency: setup.readConsistency,
      writeConsistency: setup.writeConsistency,
      slots: setup.writeSlots,
      appendsInFlight: true,
    }),
  };
}

/** The migrate worker for tables without counters. */
export function copyRangeWorker(setup: CopySetup): RangeWorker {
  const schema = setup.originSchema;
  const values = valueColumns(schema);
  const aliasIndex = new Map(values.map((c, i) => [c.name, i]));
  const copiedStatics = setup.copied.filter((c) => c.column.kind === 'static');
  const copiedRegulars = setup.copied.filter((c) => c.column.kind === 'regular');
  const hasClustering = schema.clustering.length > 0;
  // Rows of one partition are grouped by the partition key's serialized bytes (Cassandra's equality).
  const partitionKeyOf = keyBytesOf(
    schema.partitionKey.map((c) => c.type),
    schema.userTypes,
  );
  const keyColumns = [...schema.partitionKey, ...schema.clustering];

  const cellsOf = (row: Record<string, unknown>, columns: typeof setup.copied): CellInput[] =>
    columns.map(({ column, targetName }) => {
      const i = aliasIndex.get(column.name)!;
      const meta = carriesWriteTime(column);
      return {
        column,
        targetName,
        value: row[column.name],
        writetime: meta ? row[writeTimeAlias(i)] : null,
        ttl: meta ? row[ttlAlias(i)] : null,
      };
    });

  const writerSetup = migrateWriterSetup(setup);

  return async ({ range, stop, commit, assertLease }) => {
    let lastPartition: string | undefined;
    for await (const page of readOriginPages(setup, range)) {
      const counts: PageCounts = {
        rowsRead: 0,
        rowsWritten: 0,
        rowsSkipped: 0,
        cellsSkipped: 0,
        partitions: 0,
        listsUnsettled: 0,
      };
      // The page is read; its writes start below (the writer sends full batches as rows come in).
      assertLease();
      const writer = new TargetWriter(writerSetup, page.requestedAt);
      for (const driverRow of page.rows) {
        const row = driverRow as unknown as Record<string, unknown>;
        counts.rowsRead++;
        const keyValues = keyColumns.map((c) => row[c.name]);
        // Without clustering columns every row is a partition of its own: no key to compare.
        const partition = hasClustering
          ? partitionKeyOf(schema.partitionKey.map((c) => row[c.name]))
          : undefined;
        if (partition === undefined || partition !== lastPartition) {
          writer.startPartition();
          lastPartition = partition;
          counts.partitions++;
          if (copiedStatics.length > 0) {
            const statics = planStaticWrites(cellsOf(row, copiedStatics), setup.plan);
            counts.cellsSkipped += statics.skippedCells;
            writer.add({ writes: statics.writes, keyValues, rows: 0 });
          }
        }
        // A partition with static cells and no rows comes back as one row with null clustering values.
        if (
          hasClustering &&
          schema.clustering.every((c) => row[c.name] === null || row[c.name] === undefined)
        )
          continue;
        const plan = planRowWrites(cellsOf(row, copiedRegulars), setup.plan);
        counts.cellsSkipped += plan.skippedCells;
        if (plan.writes.length === 0) {
          counts.rowsSkipped++;
          continue;
        }
        counts.rowsWritten++;
        writer.add({ writes: plan.writes, keyValues, rows: 1 });
      }
      counts.listsUnsettled += (await writer.done()).listsUnsettled;
      await commit(page.nextState, counts as unknown as Counts);
      if (page.nextState !== undefined && stop.aborted) return 'stopped';
    }
    return 'done';
  };
}
