import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type cassandra from 'cassandra-driver';
import { type GuardrailReportLine, readGuardrailReport } from '../../src/guardrail/guardrail-report.js';
import { scratchDir } from '../helpers/checkpoints.js';
import { runZdm } from '../helpers/cli.js';
import { type ClusterEndpoint, sharedClusters } from '../helpers/clusters.js';
import { exactClient, freshKeyspace, runAll } from '../helpers/keyspace.js';

const KS = 'guard';
const MiB = 1024 * 1024;
/** Rows of the wide partition, 1 KiB each: 1200 × (4-byte seq + 1024-byte body) + its 4-byte key. */
const WIDE_ROWS = 1200;
const WIDE_BYTES = 4 + WIDE_ROWS * (4 + 1024);
const BIG_CELL = 3 * MiB;
const BIG_LIST = 2000;

/** Only Origin's connection flags: the scan reads nothing else. */
const originFlags = (origin: ClusterEndpoint) => [
  '--origin-contact-points',
  origin.contactPoints.join(','),
  '--origin-port',
  String(origin.port),
  '--origin-local-datacenter',
  origin.localDataCenter,
];

/** Thresholds a few MB of test data exceed, and a Target with a 2 MiB max_mutation_size. */
const SMALL_LIMITS = [
  '--partition-size-threshold',
  '1MiB',
  '--partition-rows-threshold',
  '1000',
  '--cell-size-threshold',
  '1MiB',
  '--collection-elements-threshold',
  '1000',
  '--target-max-mutation-size',
  '2MiB',
];

const describeLine = (l: GuardrailReportLine) =>
  `${l.severity} ${l.check} ${l.scope} ${String(l.key.partition.id)}${l.column === undefined ? '' : ` ${l.column}`}`;

describe('zdm guardrail', () => {
  let origin: ClusterEndpoint;
  let client: cassandra.Client;

  before(async () => {
    ({ origin } = await sharedClusters());
    client = await exactClient(origin, 'origin');
    await freshKeyspace(client, KS);
    await runAll(client, [
      `CREATE TABLE ${KS}.events (id text, seq int, body blob, tags list<int>, note text, PRIMARY KEY (id, seq))`,
    ]);
    const insert = `INSERT INTO ${KS}.events (id, seq, body, tags, note) VALUES (?, ?, ?, ?, ?)`;
    const body = Buffer.alloc(1024, 7);
    // A wide partition (1.2 MB, 1200 rows), written a hundred rows at a time.
    for (let from = 0; from < WIDE_ROWS; from += 100) {
      await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          client.execute(insert, ['wide', from + i, body, null, null], { prepare: true }),
        ),
      );
    }
    // One 3 MiB cell, one list of 2000 elements, and normal partitions of three small rows.
    await client.execute(insert, ['bigcell', 0, Buffer.alloc(BIG_CELL, 1), null, null], { prepare: true });
    const list = Array.from({ length: BIG_LIST }, (_, i) => i);
    await client.execute(insert, ['bigcoll', 0, null, list, 'a list'], { prepare: true });
    for (let p = 0; p < 30; p++) {
      for (let seq = 0; seq < 3; seq++) {
        await client.execute(insert, [`normal-${p}`, seq, body, [1, 2, 3], 'fine'], { prepare: true });
      }
    }
  });

  after(async () => {
    await client?.shutdown();
  });

  test('small thresholds: exactly the wide partition, the big cell and the big collection; exit 1', async () => {
    const reports = scratchDir('zdm-guardrail-');
    const result = await runZdm([
      'guardrail',
      `${KS}.events`,
      ...originFlags(origin),
      ...SMALL_LIMITS,
      '--splits',
      '16',
      '--report-dir',
      reports,
    ]);
    assert.equal(result.code, 1, result.stderr);
    const files = readdirSync(reports).filter((f) => f.endsWith('.jsonl'));
    assert.equal(files.length, 1);
    const lines = readGuardrailReport(join(reports, files[0]!));
    assert.deepEqual(lines.map(describeLine).sort(), [
      'refused max_mutation_size row bigcell',
      'threshold cell_size cell bigcell body',
      'threshold collection_elements cell bigcoll tags',
      'threshold partition_rows partition wide',
      'threshold partition_size partition bigcell',
      'threshold partition_size partition wide',
    ]);
    const find = (check: string) => lines.find((l) => l.check === check)!;
    // Sizes are the serialized sizes of what was written.
    assert.deepEqual(
      lines
        .filter((l) => l.check === 'partition_size')
        .map((l) => [l.key.partition.id, l.measured])
        .sort(),
      [
        ['bigcell', 7 + 4 + BIG_CELL],
        ['wide', WIDE_BYTES],
      ],
    );
    assert.equal(find('partition_rows').measured, WIDE_ROWS);
    assert.deepEqual([find('cell_size').measured, find('cell_size').limit], [BIG_CELL, MiB]);
    assert.deepEqual(find('cell_size').key.clustering, { seq: 0 });
    assert.deepEqual(
      [find('max_mutation_size').measured, find('max_mutation_size').limit],
      [7 + 4 + BIG_CELL, 2 * MiB],
    );
    assert.equal(find('collection_elements').measured, BIG_LIST);
    // The terminal table names the partitions; the summary counts every row read.
    for (const id of ['id=wide', 'id=bigcell', 'id=bigcoll']) assert.match(result.stdout, new RegExp(id));
    assert.doesNotMatch(result.stdout, /normal-/);
    assert.match(result.stdout, /REFUSED\s+max_mutation_size/);
    assert.match(result.stdout, new RegExp(`rows read\\s+${WIDE_ROWS + 2 + 90}\\b`));
    assert.match(result.stdout, /refused by Target\s+1\b/);
    assert.match(result.stdout, /over thresholds\s+5\b/);
  });

  test('default thresholds and stock Target limits: nothing to report, exit 0', async () => {
    const reports = scratchDir('zdm-guardrail-');
    const result = await runZdm([
      'guardrail',
      `${KS}.events`,
      ...originFlags(origin),
      '--report-dir',
      reports,
      '--json',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    assert.equal(summary['rows read'], WIDE_ROWS + 2 + 90);
    assert.equal(summary['partitions read'], 33);
    assert.equal(summary['refused by Target'], 0);
    assert.equal(summary['over thresholds'], 0);
    assert.equal(summary['ranges failed'], 0);
    const [file] = readdirSync(reports).filter((f) => f.endsWith('.jsonl'));
    assert.deepEqual(readGuardrailReport(join(reports, file!)), []);
  });

  test('bad input exits 2 with a message: a missing table, a bad size', async () => {
    const missing = await runZdm(['guardrail', `${KS}.nope`, ...originFlags(origin)]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /Table guard\.nope does not exist on Origin/);
    const badSize = await runZdm([
      'guardrail',
      `${KS}.events`,
      ...originFlags(origin),
      '--cell-size-threshold',
      '10MB',
    ]);
    assert.equal(badSize.code, 2);
    assert.match(
      badSize.stderr,
      /cell_size_threshold \(from flag --cell-size-threshold\): expected bytes or a size/,
    );
  });

  test('an unreachable Origin exits 2', async () => {
    const result = await runZdm([
      'guardrail',
      `${KS}.events`,
      '--origin-contact-points',
      '127.0.0.1',
      '--origin-port',
      '1',
      '--origin-local-datacenter',
      'dc1',
      '--origin-connection-timeout-ms',
      '2000',
    ]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /ORIGIN_UNREACHABLE/);
  });
});
