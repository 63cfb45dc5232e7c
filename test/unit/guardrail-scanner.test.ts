import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Counts, RangeRecord } from '../../src/checkpoint/checkpoint-store.js';
import type { CqlClient } from '../../src/connect/cluster-client.js';
import { type GuardrailLimits, STOCK_TARGET_LIMITS } from '../../src/guardrail/limits.js';
import type { MeasuredPartition } from '../../src/guardrail/partition-meter.js';
import { scanRangeWorker } from '../../src/guardrail/range-scanner.js';
import { scanQuery } from '../../src/guardrail/row-measure.js';
import { RateLimiter } from '../../src/ranges/rate-limiter.js';
import { parseCqlType } from '../../src/schema/cql-type.js';
import type { ColumnSchema, TableSchema } from '../../src/schema/table-schema.js';

const column = (name: string, kind: ColumnSchema['kind'], typeText: string, position = -1): ColumnSchema => ({
  name,
  kind,
  position,
  type: parseCqlType(typeText),
  typeText,
  clusteringOrder: kind === 'clustering' ? 'ASC' : undefined,
});

const SCHEMA: TableSchema = {
  keyspace: 'ks',
  table: 't',
  partitionKey: [column('pk', 'partition_key', 'int', 0)],
  clustering: [column('ck', 'clustering', 'int', 0)],
  statics: [],
  regulars: [column('v', 'regular', 'text')],
  defaultTtl: 0,
  userTypes: new Map(),
};

const LIMITS: GuardrailLimits = {
  thresholds: { partitionBytes: 50, partitionRows: 1000, cellBytes: 1000, collectionElements: 1000 },
  target: STOCK_TARGET_LIMITS,
};

/** Partition p (token 10·p) has p rows of a 10-byte value: 4 + p × (4 + 10) bytes. */
const DATA = [1, 2, 3, 4, 5].flatMap((p) =>
  Array.from({ length: p }, (_, ck) => ({ zdm_token: BigInt(10 * p), pk: p, ck, v: 'x'.repeat(10) })),
);

/**
 * A stand-in for Origin that pages DATA two rows at a time and fails the read of one page once:
 * a fault at an exact moment, which a real cluster does not produce on demand.
 */
function fakeOrigin(failOnCall: number) {
  const queries: { start: bigint; pageState: string | undefined }[] = [];
  const client = {
    async execute(
      query: string,
      params: [bigint, bigint],
      options: { pageState?: string; fetchSize: number },
    ) {
      assert.equal(query, scanQuery(SCHEMA));
      queries.push({ start: params[0], pageState: options.pageState });
      if (queries.length === failOnCall) throw new Error('read timeout');
      const rows = DATA.filter((r) => r.zdm_token > params[0] && r.zdm_token <= params[1]);
      const from = Number(options.pageState ?? 0);
      const page = rows.slice(from, from + options.fetchSize);
      const next = from + options.fetchSize < rows.length ? String(from + options.fetchSize) : undefined;
      return {
        rows: page.map((r) => ({ get: (name: string) => r[name as keyof typeof r] })),
        pageState: next,
      };
    },
  };
  return { client: client as unknown as CqlClient, queries };
}

describe('scanRangeWorker', () => {
  test('a read that fails mid-range resumes at the open partition: nothing counted twice or in part', async () => {
    // Pages of two rows: call 4 (rows 7-8, partition 4) fails after call 3 ended inside partition 3,
    // so partitions 1 and 2 are done and 3 is open.
    const origin = fakeOrigin(4);
    const handed: MeasuredPartition[] = [];
    const worker = scanRangeWorker({
      origin: origin.client,
      schema: SCHEMA,
      limits: LIMITS,
      fetchSize: 2,
      consistency: 1,
      limiter: new RateLimiter(0),
      onPartitions: (ps) => handed.push(...ps),
    });
    let resumeState: string | undefined;
    const totals: Record<string, number> = {};
    const context = (range: RangeRecord) => ({
      range,
      stop: new AbortController().signal,
      assertLease: () => undefined,
      async commit(state: string | undefined, delta: Counts) {
        resumeState = state;
        for (const [k, v] of Object.entries(delta)) totals[k] = (totals[k] ?? 0) + v;
      },
    });
    const range: RangeRecord = {
      id: 1,
      start: 0n,
      end: 100n,
      status: 'running',
      attempts: 1,
      counts: {},
      resumeState: undefined,
      lastError: undefined,
      completedAt: undefined,
    };
    await assert.rejects(worker(context(range)), /read timeout/);
    assert.deepEqual(
      handed.map((p) => p.partition[0]),
      [1, 2],
    );
    const firstRetryCall = origin.queries.length;
    assert.equal(await worker(context({ ...range, attempts: 2, resumeState })), 'done');
    // The retry starts at the open partition's token (token > 29 reads partition 3 from its first row).
    assert.deepEqual(origin.queries[firstRetryCall], { start: 29n, pageState: undefined });
    assert.deepEqual(
      handed.map((p) => [p.partition[0], p.rows, p.bytes]),
      [1, 2, 3, 4, 5].map((p) => [p, p, 4 + p * 14]),
    );
    assert.deepEqual(totals, { rowsRead: 15, partitions: 5, refused: 0, overThreshold: 2 });
    // Partitions 4 (60 bytes) and 5 (74 bytes) are over the 50-byte threshold.
    assert.deepEqual(
      handed.flatMap((p) => p.findings.map((f) => [f.partition[0], f.check, f.measured])),
      [
        [4, 'partition_size', 60],
        [5, 'partition_size', 74],
      ],
    );
  });
});
