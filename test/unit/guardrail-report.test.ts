import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, test } from 'node:test';
import { findingsTable, WorstFindings } from '../../src/guardrail/findings-table.js';
import {
  GuardrailReport,
  type GuardrailReportLine,
  readGuardrailReport,
  reportLine,
} from '../../src/guardrail/guardrail-report.js';
import { parseCqlType } from '../../src/schema/cql-type.js';
import type { TableSchema } from '../../src/schema/table-schema.js';

const SCHEMA: TableSchema = {
  keyspace: 'shop',
  table: 'orders',
  partitionKey: [
    {
      name: 'id',
      kind: 'partition_key',
      position: 0,
      type: parseCqlType('bigint'),
      typeText: 'bigint',
      clusteringOrder: undefined,
    },
  ],
  clustering: [
    {
      name: 'line',
      kind: 'clustering',
      position: 0,
      type: parseCqlType('text'),
      typeText: 'text',
      clusteringOrder: 'ASC',
    },
  ],
  statics: [],
  regulars: [],
  defaultTtl: 0,
  userTypes: new Map(),
};

const line = (over: Partial<GuardrailReportLine>): GuardrailReportLine => ({
  check: 'cell_size',
  severity: 'threshold',
  scope: 'cell',
  table: 'shop.orders',
  key: { token: '1', partition: { id: '1' }, clustering: null },
  measured: 2,
  limit: 1,
  unit: 'bytes',
  ...over,
});

describe('guardrail report lines', () => {
  test('a finding names its key columns, with JSON-safe values', () => {
    const out = reportLine(SCHEMA, {
      check: 'max_mutation_size',
      severity: 'refused',
      scope: 'row',
      token: -5n,
      partition: [2n ** 60n],
      clustering: ['a'],
      column: undefined,
      measured: 20,
      limit: 10,
      unit: 'bytes',
    });
    assert.deepEqual(out, {
      check: 'max_mutation_size',
      severity: 'refused',
      scope: 'row',
      table: 'shop.orders',
      key: { token: '-5', partition: { id: String(2n ** 60n) }, clustering: { line: 'a' } },
      measured: 20,
      limit: 10,
      unit: 'bytes',
    });
  });

  test('a partition finding has no clustering; a cell finding names its column', () => {
    const base = {
      severity: 'threshold',
      token: 1n,
      partition: [1n],
      unit: 'bytes',
      measured: 2,
      limit: 1,
    } as const;
    const partition = reportLine(SCHEMA, {
      ...base,
      check: 'partition_size',
      scope: 'partition',
      clustering: undefined,
      column: undefined,
    });
    assert.equal(partition.key.clustering, null);
    assert.equal('column' in partition, false);
    const cell = reportLine(SCHEMA, {
      ...base,
      check: 'cell_size',
      scope: 'cell',
      clustering: ['x'],
      column: 'body',
    });
    assert.equal(cell.column, 'body');
  });
});

describe('findings on a terminal', () => {
  test('refused findings first, then the furthest over their limit; only the worst kept', () => {
    const worst = new WorstFindings(2);
    worst.add(line({ measured: 3, limit: 1 }));
    worst.add(line({ measured: 11, limit: 10, severity: 'refused', check: 'max_mutation_size' }));
    worst.add(line({ measured: 50, limit: 1 }));
    worst.add(line({ measured: 2, limit: 1 }));
    assert.equal(worst.total, 4);
    assert.deepEqual(
      worst.worst().map((l) => [l.severity, l.measured]),
      [
        ['refused', 11],
        ['threshold', 50],
      ],
    );
  });

  test('an aligned table with sizes for people and the key columns named', () => {
    const table = findingsTable([
      line({
        severity: 'refused',
        check: 'max_mutation_size',
        scope: 'row',
        key: { token: '1', partition: { id: '7' }, clustering: { line: 'a' } },
        measured: 17 * 1024 * 1024,
        limit: 16 * 1024 * 1024,
      }),
      line({ check: 'collection_elements', column: 'tags', measured: 12000, limit: 10000, unit: 'elements' }),
    ]);
    assert.deepEqual(table.split('\n'), [
      'SEVERITY  CHECK                SCOPE  PARTITION KEY  CLUSTERING  COLUMN  MEASURED         LIMIT',
      'REFUSED   max_mutation_size    row    id=7           line=a              17 MiB           16 MiB',
      'over      collection_elements  cell   id=1                       tags    12,000 elements  10,000 elements',
    ]);
  });
});

describe('the report file', () => {
  const at = new Date('2025-01-02T03:04:05Z');

  test('one file per run, named after the table and time; lines read back as written', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'zdm-guardrail-')), 'reports');
    const first = GuardrailReport.create(dir, 'shop.orders', at);
    const second = GuardrailReport.create(dir, 'shop.orders', at);
    assert.equal(basename(first.path), 'guardrail-shop.orders-20250102-030405.jsonl');
    assert.equal(basename(second.path), 'guardrail-shop.orders-20250102-030405-2.jsonl');
    first.append(line({ measured: 5 }));
    first.append(line({ check: 'partition_rows', unit: 'rows' }));
    first.close();
    second.close();
    assert.deepEqual(
      readGuardrailReport(first.path).map((l) => [l.check, l.measured]),
      [
        ['cell_size', 5],
        ['partition_rows', 2],
      ],
    );
    assert.deepEqual(readGuardrailReport(second.path), []);
  });

  test('a directory that cannot be made is an operator error naming the setting', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'zdm-guardrail-')), 'a-file');
    writeFileSync(file, '');
    assert.throws(() => GuardrailReport.create(join(file, 'reports'), 'shop.orders', at), {
      name: 'OperatorError',
      code: 'REPORT_DIR',
      hint: /--report-dir/,
    });
  });
});
