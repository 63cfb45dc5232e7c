/**
 * Which writes may share one unlogged batch, within Cassandra's stock limits.
 *
 * Cassandra checks a batch's size only when it spans several partitions (`BatchStatement`
 * `verifyBatchSize` returns early for a single mutation): stock `batch_size_warn_threshold` is
 * 5 KiB and `batch_size_fail_threshold` 50 KiB, measured on the mutations' data size, and
 * `unlogged_batch_across_partitions_warn_threshold` is 10 partitions. So:
 * - rows of ONE partition share a batch up to a statement count and a byte budget; a larger
 *   partition continues in the next batch instead of growing this one;
 * - rows of SEVERAL partitions share a batch only while its estimated size stays under 4 KiB (with
 *   room for what the estimate misses) and it touches at most 8 partitions, so neither the warning
 *   nor the failure threshold is ever reached.
 */
export const BATCH_LIMITS = {
  /** Statements of one partition per batch. */
  singlePartitionStatements: 64,
  /** Estimated bytes of one partition per batch: far below max_mutation_size (16 MiB stock). */
  singlePartitionBytes: 256 * 1024,
  /** Estimated bytes of a batch across partitions (stock warn threshold: 5 KiB). */
  multiPartitionBytes: 4 * 1024,
  /** Partitions of a batch across partitions (stock warn threshold: 10). */
  multiPartitionPartitions: 8,
} as const;

export type BatchLimits = typeof BATCH_LIMITS;

/** What a batch being filled holds. */
export interface BatchFill {
  readonly statements: number;
  readonly bytes: number;
  /** Distinct partitions in it (0 when empty). */
  readonly partitions: number;
}

/** One row's writes, about to join the batch. */
export interface BatchItem {
  readonly statements: number;
  readonly bytes: number;
  /** Whether it belongs to another partition than the batch's last item. */
  readonly newPartition: boolean;
}

export const EMPTY_FILL: BatchFill = { statements: 0, bytes: 0, partitions: 0 };

/** Whether the item may join the batch; when not, the batch is sent first. An empty batch takes anything. */
export function fitsBatch(fill: BatchFill, item: BatchItem, limits: BatchLimits = BATCH_LIMITS): boolean {
  if (fill.statements === 0) return true;
  const partitions = fill.partitions + (item.newPartition ? 1 : 0);
  const statements = fill.statements + item.statements;
  const bytes = fill.bytes + item.bytes;
  if (partitions === 1)
    return statements <= limits.singlePartitionStatements && bytes <= limits.singlePartitionBytes;
  return (
    partitions <= limits.multiPartitionPartitions &&
    bytes <= limits.multiPartitionBytes &&
    statements <= limits.singlePartitionStatements
  );
}

/** The batch after the item joined (or the new batch it starts). */
export function addToBatch(fill: BatchFill, item: BatchItem): BatchFill {
  return {
    statements: fill.statements + item.statements,
    bytes: fill.bytes + item.bytes,
    partitions: fill.partitions + (item.newPartition || fill.statements === 0 ? 1 : 0),
  };
}
