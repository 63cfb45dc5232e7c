import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { reportBucket } from '../../src/checkpoint/cassandra-run-state.js';
import { stateTablesCql } from '../../src/checkpoint/cassandra-state-schema.js';
import type { SharedReportLines } from '../../src/checkpoint/run-state.js';
import { DiffReport, type ReportLine, readReport } from '../../src/validate/diff-report.js';

/**
 * The report lines a run keeps in its Cassandra state, so every machine of a run can write the
 * whole report: what is saved, when a range may commit, and what a machine adds at its end.
 */

/** Shared lines in memory, in the order saved; `failNext` makes the next save reject. */
function memoryShared() {
  const lines = new Map<string, string>();
  const shared = {
    failNext: false,
    saves: 0,
    save: async (key: string, line: string) => {
      shared.saves++;
      if (shared.failNext) {
        shared.failNext = false;
        throw new Error('state unreachable');
      }
      lines.set(key, line);
    },
    all: async function* () {
      yield* lines.values();
    },
  } satisfies SharedReportLines & Record<string, unknown>;
  return { shared, lines };
}

const line = (id: number, kind: ReportLine['kind'] = 'missing'): ReportLine => ({
  kind,
  table: 'ks.t',
  targetTable: 'ks.t',
  key: { token: String(id), partition: { id }, clustering: null },
  repair: 'reported',
});

const dirs: string[] = [];
const reportPath = () => {
  const dir = mkdtempSync(join(tmpdir(), 'zdm-report-'));
  dirs.push(dir);
  return join(dir, 'run.diff.jsonl');
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('DiffReport with shared lines (run state in Cassandra)', () => {
  test('every appended line is saved, once settled; a line already in the file is saved again', async () => {
    const { shared, lines } = memoryShared();
    const path = reportPath();
    const first = new DiffReport(path, { shared });
    assert.equal(first.append(line(1)), true);
    first.close();
    // A machine killed after writing line 1 but before its save: the rerun finds it in the file.
    const again = new DiffReport(path, { shared });
    lines.clear();
    assert.equal(again.append(line(1)), false, 'not written to the file twice');
    assert.equal(again.append(line(2)), true);
    await again.settled();
    assert.equal(lines.size, 2, 'both lines are in the shared state');
    assert.deepEqual(
      [...lines.values()].map((l) => JSON.parse(l).key.partition.id),
      [1, 2],
    );
    again.close();
  });

  test('a failed save makes settled throw, so the range does not commit past the line', async () => {
    const { shared } = memoryShared();
    const report = new DiffReport(reportPath(), { shared });
    shared.failNext = true;
    report.append(line(1));
    await assert.rejects(report.settled(), /state unreachable/);
    await report.settled(); // the failure is reported once; the retried range saves again
    report.close();
  });

  test('mergeShared adds the lines other machines saved, each once', async () => {
    const { shared, lines } = memoryShared();
    const mine = new DiffReport(reportPath(), { shared });
    mine.append(line(1));
    await mine.settled();
    // Another machine's lines, one of them also found here.
    for (const other of [line(1), line(2), line(3, 'extra')]) {
      lines.set(`other ${JSON.stringify(other.key)} ${other.kind}`, JSON.stringify(other));
    }
    lines.set('garbage', '{not json');
    assert.equal(await mine.mergeShared(), 2);
    assert.equal(await mine.mergeShared(), 0, 'merging again adds nothing');
    assert.deepEqual(
      readReport(mine.path).map((l) => `${l.kind} ${l.key.partition.id}`),
      ['missing 1', 'missing 2', 'extra 3'],
    );
    mine.close();
  });

  test('without shared lines (SQLite state) nothing is saved and nothing merged', async () => {
    const report = new DiffReport(reportPath(), { shared: null });
    report.append(line(1));
    await report.settled();
    assert.equal(await report.mergeShared(), 0);
    assert.equal(readFileSync(report.path, 'utf8').split('\n').filter(Boolean).length, 1);
    report.close();
  });
});

describe('reportBucket', () => {
  test('a key always lands in one of 16 buckets, and keys spread over all of them', () => {
    const buckets = new Map<number, number>();
    for (let i = 0; i < 1600; i++) {
      const key = `missing|{"token":"${i * 7919}"}|`;
      const bucket = reportBucket(key);
      assert.equal(reportBucket(key), bucket);
      assert.ok(Number.isInteger(bucket) && bucket >= 0 && bucket < 16, `bucket ${bucket}`);
      buckets.set(bucket, (buckets.get(bucket) ?? 0) + 1);
    }
    assert.equal(buckets.size, 16);
    for (const [bucket, count] of buckets) assert.ok(count > 50 && count < 150, `bucket ${bucket}: ${count}`);
  });

  test('the state schema has the table the lines go to', () => {
    assert.ok(
      stateTablesCql('zdm_state').some((cql) => /report_lines \(\s*run_id text, bucket int/.test(cql)),
    );
  });
});
