import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type GuardrailLimits, STOCK_TARGET_LIMITS } from '../../src/guardrail/limits.js';
import { type MeasuredCell, type MeasuredRow, PartitionMeter } from '../../src/guardrail/partition-meter.js';
import { keyBytesOf } from '../../src/schema/cql-value/index.js';

const keyOf = keyBytesOf([{ kind: 'native', name: 'int' }], new Map());

const LIMITS: GuardrailLimits = {
  thresholds: { partitionBytes: 1000, partitionRows: 3, cellBytes: 100, collectionElements: 5 },
  target: { ...STOCK_TARGET_LIMITS, maxMutationSize: 300 },
};

const cell = (column: string, bytes: number, extra: Partial<MeasuredCell> = {}): MeasuredCell => ({
  column,
  bytes,
  elements: undefined,
  static: false,
  ...extra,
});

/** A row of partition `pk` (4-byte key) with an 8-byte clustering value `ck`. */
const row = (token: bigint, pk: number, ck: number | undefined, cells: MeasuredCell[]): MeasuredRow => ({
  token,
  partition: [pk],
  partitionKeyBytes: 4,
  clustering: ck === undefined ? undefined : [ck],
  clusteringBytes: ck === undefined ? 0 : 8,
  cells,
});

const summary = (
  findings: readonly {
    check: string;
    scope: string;
    column: string | undefined;
    clustering: readonly unknown[] | undefined;
  }[],
) =>
  findings.map(
    (f) =>
      `${f.scope}:${f.check}${f.column === undefined ? '' : `:${f.column}`}${f.clustering === undefined ? '' : `@${String(f.clustering)}`}`,
  );

describe('PartitionMeter', () => {
  test('a partition ends when the key changes; its size is its key once plus each row', () => {
    const meter = new PartitionMeter(LIMITS, keyOf);
    assert.equal(meter.add(row(1n, 1, 1, [cell('v', 10)])), undefined);
    assert.equal(meter.add(row(1n, 1, 2, [cell('v', 20)])), undefined);
    assert.equal(meter.openToken, 1n);
    const first = meter.add(row(5n, 2, 1, [cell('v', 1)]));
    assert.deepEqual(first, {
      token: 1n,
      partition: [1],
      rows: 2,
      bytes: 4 + (8 + 10) + (8 + 20),
      findings: [],
    });
    assert.equal(meter.openToken, 5n);
    const second = meter.finish();
    assert.equal(second?.rows, 1);
    assert.equal(second?.bytes, 4 + 8 + 1);
    assert.equal(meter.finish(), undefined);
    assert.equal(meter.openToken, undefined);
  });

  test('static cells repeat on every row as read but count once', () => {
    const meter = new PartitionMeter(LIMITS, keyOf);
    const s = cell('s', 200, { static: true });
    meter.add(row(1n, 1, 1, [s, cell('v', 1)]));
    meter.add(row(1n, 1, 2, [s, cell('v', 1)]));
    const p = meter.finish()!;
    assert.equal(p.bytes, 4 + 200 + (8 + 1) * 2);
    // The static cell is over the cell threshold once, without clustering.
    assert.deepEqual(summary(p.findings), ['cell:cell_size:s']);
  });

  test('rows over the mutation limit: the static row and a regular row are separate writes', () => {
    const meter = new PartitionMeter(LIMITS, keyOf);
    meter.add(row(1n, 1, 7, [cell('s', 99, { static: true }), cell('a', 99), cell('b', 99), cell('c', 99)]));
    meter.add(row(1n, 1, 8, [cell('s', 99, { static: true }), cell('a', 99), cell('b', 99)]));
    const p = meter.finish()!;
    // Row 7: 4 + 8 + 3 × 99 = 309 > 300; row 8: 4 + 8 + 198 = 210; static row: 4 + 99.
    assert.deepEqual(summary(p.findings), ['row:max_mutation_size@7']);
  });

  test('partition findings come first, then its rows and cells in the order read', () => {
    const meter = new PartitionMeter(LIMITS, keyOf);
    for (let ck = 1; ck <= 4; ck++) meter.add(row(3n, 1, ck, [cell('v', ck === 2 ? 400 : 10)]));
    const p = meter.finish()!;
    assert.deepEqual(summary(p.findings), [
      'partition:partition_rows',
      'cell:cell_size:v@2',
      'row:max_mutation_size@2',
    ]);
    assert.deepEqual(
      p.findings.map((f) => [f.measured, f.limit, f.unit]),
      [
        [4, 3, 'rows'],
        [400, 100, 'bytes'],
        [412, 300, 'bytes'],
      ],
    );
  });

  test('a partition with static cells only is measured and reported without clustering', () => {
    const meter = new PartitionMeter(LIMITS, keyOf);
    meter.add(row(9n, 4, undefined, [cell('s', 1200, { static: true })]));
    const p = meter.finish()!;
    assert.equal(p.bytes, 1204);
    assert.deepEqual(summary(p.findings), [
      'partition:partition_size',
      'cell:cell_size:s',
      'row:max_mutation_size',
    ]);
  });

  test('two partitions with the same token (a collision) stay apart', () => {
    const meter = new PartitionMeter(LIMITS, keyOf);
    meter.add(row(2n, 1, 1, [cell('v', 1)]));
    const closed = meter.add(row(2n, 2, 1, [cell('v', 1)]));
    assert.deepEqual(closed?.partition, [1]);
    assert.deepEqual(meter.finish()?.partition, [2]);
  });

  test('collections over the element threshold are named with their row', () => {
    const meter = new PartitionMeter(LIMITS, keyOf);
    meter.add(row(1n, 1, 3, [cell('tags', 60, { elements: 6 })]));
    assert.deepEqual(summary(meter.finish()!.findings), ['cell:collection_elements:tags@3']);
  });
});
