import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatBytes, MiB, parseByteSize } from '../../src/guardrail/byte-size.js';
import {
  cellViolations,
  type GuardrailLimits,
  partitionViolations,
  rowViolations,
  STOCK_TARGET_LIMITS,
} from '../../src/guardrail/limits.js';

const STOCK: GuardrailLimits = {
  thresholds: {
    partitionBytes: 100 * MiB,
    partitionRows: 100_000,
    cellBytes: 10 * MiB,
    collectionElements: 10_000,
  },
  target: STOCK_TARGET_LIMITS,
};
const WITH_GUARDRAILS: GuardrailLimits = {
  ...STOCK,
  target: {
    ...STOCK.target,
    columnValueSizeFailThreshold: 1 * MiB,
    collectionSizeFailThreshold: 2 * MiB,
    itemsPerCollectionFailThreshold: 500,
  },
};

const checks = (violations: readonly { check: string; severity: string }[]) =>
  violations.map((v) => `${v.severity}:${v.check}`);

describe('cellViolations', () => {
  const cases: [
    name: string,
    cell: { bytes: number; elements: number | undefined },
    limits: GuardrailLimits,
    expected: string[],
  ][] = [
    ['small text', { bytes: 100, elements: undefined }, STOCK, []],
    ['exactly the cell threshold is not over it', { bytes: 10 * MiB, elements: undefined }, STOCK, []],
    [
      'one byte over the cell threshold',
      { bytes: 10 * MiB + 1, elements: undefined },
      STOCK,
      ['threshold:cell_size'],
    ],
    [
      'over the frame: Target refuses it',
      { bytes: 17 * MiB, elements: undefined },
      STOCK,
      ['threshold:cell_size', 'refused:native_transport_max_frame_size'],
    ],
    [
      'over max_value_size too',
      { bytes: 300 * MiB, elements: undefined },
      STOCK,
      ['threshold:cell_size', 'refused:max_value_size', 'refused:native_transport_max_frame_size'],
    ],
    ['a big collection', { bytes: 200_000, elements: 10_001 }, STOCK, ['threshold:collection_elements']],
    [
      'stock Target has no element limit',
      { bytes: 1 * MiB, elements: 70_000 },
      STOCK,
      ['threshold:collection_elements'],
    ],
    [
      'an element count on a non-collection is never checked',
      { bytes: 10, elements: undefined },
      WITH_GUARDRAILS,
      [],
    ],
    [
      "Target's guardrails when given",
      { bytes: 3 * MiB, elements: 600 },
      WITH_GUARDRAILS,
      [
        'refused:column_value_size_fail_threshold',
        'refused:collection_size_fail_threshold',
        'refused:items_per_collection_fail_threshold',
      ],
    ],
    [
      'collection_size applies to collections only',
      { bytes: 3 * MiB, elements: undefined },
      WITH_GUARDRAILS,
      ['refused:column_value_size_fail_threshold'],
    ],
  ];
  for (const [name, cell, limits, expected] of cases) {
    test(name, () => assert.deepEqual(checks(cellViolations(cell, limits)), expected));
  }

  test('a violation carries the measured value, the limit and the unit', () => {
    assert.deepEqual(cellViolations({ bytes: 5, elements: 10_001 }, STOCK), [
      {
        check: 'collection_elements',
        severity: 'threshold',
        unit: 'elements',
        limit: 10_000,
        measured: 10_001,
      },
    ]);
  });
});

test('stock Target limits are those of Cassandra 5.0: 256MiB values, 16MiB frames and mutations, guardrails off', () => {
  assert.deepEqual(STOCK_TARGET_LIMITS, {
    maxValueSize: 256 * MiB,
    maxFrameSize: 16 * MiB,
    maxMutationSize: 16 * MiB,
    columnValueSizeFailThreshold: undefined,
    collectionSizeFailThreshold: undefined,
    itemsPerCollectionFailThreshold: undefined,
  });
});

describe('rowViolations', () => {
  const cases: [bytes: number, expected: string[]][] = [
    [1000, []],
    [16 * MiB, []],
    [16 * MiB + 1, ['refused:max_mutation_size']],
  ];
  for (const [bytes, expected] of cases) {
    test(`${bytes} bytes`, () => assert.deepEqual(checks(rowViolations({ bytes }, STOCK)), expected));
  }
});

describe('partitionViolations', () => {
  const cases: [partition: { bytes: number; rows: number }, expected: string[]][] = [
    [{ bytes: 1000, rows: 10 }, []],
    [{ bytes: 100 * MiB + 1, rows: 10 }, ['threshold:partition_size']],
    [{ bytes: 1000, rows: 100_001 }, ['threshold:partition_rows']],
    [{ bytes: 200 * MiB, rows: 200_000 }, ['threshold:partition_size', 'threshold:partition_rows']],
  ];
  for (const [partition, expected] of cases) {
    test(JSON.stringify(partition), () =>
      assert.deepEqual(checks(partitionViolations(partition, STOCK)), expected),
    );
  }
});

describe('byte sizes', () => {
  const good: [text: string, bytes: number][] = [
    ['0', 0],
    ['1024', 1024],
    ['512KiB', 512 * 1024],
    ['16MiB', 16 * MiB],
    ['16 mib', 16 * MiB],
    ['1.5GiB', 1.5 * 1024 * MiB],
    ['10b', 10],
  ];
  for (const [text, bytes] of good) test(`parses ${text}`, () => assert.equal(parseByteSize(text), bytes));
  for (const bad of ['', '16MB', '-1', 'lots', '1e3'])
    test(`refuses ${JSON.stringify(bad)}`, () =>
      assert.throws(() => parseByteSize(bad), /expected bytes or a size/));

  const shown: [bytes: number, text: string][] = [
    [312, '312 B'],
    [1536, '1.5 KiB'],
    [16 * MiB, '16 MiB'],
    [3 * 1024 * MiB, '3 GiB'],
  ];
  for (const [bytes, text] of shown)
    test(`shows ${bytes} as ${text}`, () => assert.equal(formatBytes(bytes), text));
});
