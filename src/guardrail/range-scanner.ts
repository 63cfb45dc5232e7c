import type { Counts } from '../checkpoint/checkpoint-store.js';
import type { CqlClient } from '../connect/cluster-client.js';
import { readPages } from '../ranges/page-reader.js';
import type { RangeWorker } from '../ranges/range-runner.js';
import type { RateLimiter } from '../ranges/rate-limiter.js';
import { keyBytesOf } from '../schema/cql-value/index.js';
import type { TableSchema } from '../schema/table-schema.js';
import { decodeResume, encodeResume } from '../validate/range-differ.js';
import type { GuardrailLimits } from './limits.js';
import { type MeasuredPartition, PartitionMeter } from './partition-meter.js';
import { measureRow, scanQuery } from './row-measure.js';

export interface ScanSetup {
  readonly origin: CqlClient;
  readonly schema: TableSchema;
  readonly limits: GuardrailLimits;
  readonly fetchSize: number;
  readonly consistency: number;
  readonly limiter: RateLimiter;
  /** Receives every partition read to its end, once, before its counts are committed. */
  readonly onPartitions: (partitions: readonly MeasuredPartition[]) => void;
}

/** Counters a batch of finished partitions adds to the run. */
export function partitionCounts(partitions: readonly MeasuredPartition[]): Counts {
  const counts: Record<string, number> = { rowsRead: 0, partitions: 0, refused: 0, overThreshold: 0 };
  for (const p of partitions) {
    counts.rowsRead! += p.rows;
    counts.partitions!++;
    for (const f of p.findings) {
      if (f.severity === 'refused') counts.refused!++;
      else counts.overThreshold!++;
    }
  }
  return counts;
}

/**
 * The guardrail worker: reads a token range of Origin page by page and measures every partition.
 *
 * Resume: a partition can span pages, and its size is known only at its end. After each page the
 * partitions that ended before the one still open are handed over and committed with "every token
 * below the open partition's is done", so a retried range reads again from the open partition's
 * first row and never counts a partition twice or in part.
 */
export function scanRangeWorker(setup: ScanSetup): RangeWorker {
  const query = scanQuery(setup.schema);
  const partitionKeyOf = keyBytesOf(
    setup.schema.partitionKey.map((c) => c.type),
    setup.schema.userTypes,
  );
  return async ({ range, stop, commit }) => {
    const after = decodeResume(range.resumeState) ?? range.start;
    const meter = new PartitionMeter(setup.limits, partitionKeyOf);
    let ended: MeasuredPartition[] = [];
    const hand = async (partitions: MeasuredPartition[], resume: string | undefined) => {
      setup.onPartitions(partitions);
      await commit(resume, partitionCounts(partitions));
    };
    const pages = readPages({
      client: setup.origin,
      query,
      range: { start: after, end: range.end },
      fetchSize: setup.fetchSize,
      consistency: setup.consistency,
      resumeState: undefined,
      limiter: setup.limiter,
    });
    for await (const page of pages) {
      for (const row of page.rows) {
        const closed = meter.add(measureRow(setup.schema, row));
        if (closed !== undefined) ended.push(closed);
      }
      const open = meter.openToken;
      if (open === undefined) continue;
      // Partitions sharing the open one's token (a token collision) wait with it.
      const done = ended.filter((p) => p.token < open);
      ended = ended.filter((p) => p.token >= open);
      if (done.length > 0) await hand(done, encodeResume(open - 1n));
      if (stop.aborted) return 'stopped';
    }
    const last = meter.finish();
    await hand(last === undefined ? ended : [...ended, last], undefined);
    return 'done';
  };
}
