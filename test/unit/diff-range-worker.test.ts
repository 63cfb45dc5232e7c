import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import pLimit from 'p-limit';
import type { RangeRecord } from '../../src/checkpoint/checkpoint-store.js';
import type { CqlClient } from '../../src/connect/cluster-client.js';
import { silentLogger } from '../../src/log/logger.js';
import { RateLimiter } from '../../src/ranges/rate-limiter.js';
import { IDENTITY_MAPPING } from '../../src/schema/compare.js';
import { diffLayout, SideView, TOKEN_ALIAS } from '../../src/validate/diff-entry.js';
import { Repairer } from '../../src/validate/diff-repair.js';
import { DiffReport, readReport } from '../../src/validate/diff-report.js';
import { type DiffCounts, diffRangeWorker } from '../../src/validate/range-differ.js';
import { writeSizesFor } from '../../src/write/write-sizes.js';
import { defaultCompareOptions } from '../helpers/compare-options.js';
import { tableOf } from '../helpers/schema-builder.js';

/**
 * The range worker driven by an in-memory table: a fake cluster is the only way to stop a range at
 * an exact commit and resume it, which is what these tests are about. Reading real clusters is
 * covered by test/integration/diff.test.ts.
 */
type Row = Record<string, unknown>;

const schema = tableOf({ k: 'pk int', c: 'ck int', v: 'text' });
const layout = diffLayout(schema, schema, IDENTITY_MAPPING);

const row = (k: number, c: number, v: string): Row => ({
  [TOKEN_ALIAS]: BigInt(k) * 1000n - 30_000n,
  k,
  c,
  v,
  wt_0: 5n,
  ttl_0: null,
});

/** Serves the range scan (manual paging) and the point reads of SideView's queries. */
function fakeClient(rows: readonly Row[]): CqlClient {
  const sorted = [...rows].sort((a, b) =>
    a[TOKEN_ALIAS] === b[TOKEN_ALIAS]
      ? Number(a.c) - Number(b.c)
      : (a[TOKEN_ALIAS] as bigint) < (b[TOKEN_ALIAS] as bigint)
        ? -1
        : 1,
  );
  const execute = async (
    query: string,
    params: unknown[],
    options: { fetchSize?: number; pageState?: string },
  ) => {
    if (query.includes('token(k) >')) {
      const [start, end] = params as [bigint, bigint];
      const inRange = sorted.filter(
        (r) => (r[TOKEN_ALIAS] as bigint) > start && (r[TOKEN_ALIAS] as bigint) <= end,
      );
      const from = options.pageState === undefined ? 0 : Number(options.pageState);
      const to = from + (options.fetchSize ?? 5000);
      return { rows: inRange.slice(from, to), pageState: to < inRange.length ? String(to) : null };
    }
    const [k, c] = params as [number, number | undefined];
    return { rows: sorted.filter((r) => r.k === k && (c === undefined || r.c === c)) };
  };
  return { execute } as unknown as CqlClient;
}

function setup(origin: readonly Row[], target: readonly Row[], reportPath: string) {
  const compare = defaultCompareOptions();
  const targetClient = fakeClient(target);
  return diffRangeWorker({
    origin: fakeClient(origin),
    target: targetClient,
    layout,
    originView: new SideView('origin', schema, layout),
    targetView: new SideView('target', schema, layout),
    where: undefined,
    fetchSize: 7,
    originConsistency: 1,
    targetConsistency: 1,
    originLimiter: new RateLimiter(0),
    targetLimiter: new RateLimiter(0),
    compare,
    recheckDelayMs: 0,
    repair: new Set(),
    repairer: new Repairer({
      writer: {
        target: targetClient,
        table: { tableCql: 'ks.t', partitionKey: ['k'], clustering: ['c'] },
        consistency: 1,
        limiter: new RateLimiter(0),
        slots: pLimit(4),
        sizes: writeSizesFor(schema, []),
        lists: undefined,
      },
      layout,
      plan: { writetimeMin: undefined, writetimeMax: undefined, fallbackTimestamp: 1n, userTypes: new Map() },
      compare,
      counters: false,
      reread: async () => undefined,
    }),
    report: new DiffReport(reportPath),
    tables: { origin: 'ks.t', target: 'ks.t' },
    runTimestamp: 1n,
    logger: silentLogger(),
  });
}

const originRows: Row[] = [];
for (let k = 0; k < 60; k++) for (let c = 0; c < 4; c++) originRows.push(row(k, c, `v${k}.${c}`));
const targetRows = originRows
  .filter((r) => !(Number(r.k) % 10 === 3 && r.c === 0))
  .map((r) => (r.k === 7 && r.c === 1 ? { ...r, v: 'changed' } : r))
  .concat([row(5, 9, 'extra')]);

const range = (resumeState?: string): RangeRecord => ({
  id: 1,
  start: -(2n ** 63n),
  end: 2n ** 63n - 1n,
  status: 'running',
  attempts: 1,
  counts: {},
  resumeState,
  lastError: undefined,
  completedAt: undefined,
});

function sum(into: Record<string, number>, delta: Readonly<Record<string, number>>) {
  for (const [k, v] of Object.entries(delta)) into[k] = (into[k] ?? 0) + v;
}

describe('diffRangeWorker', () => {
  test('finds missing, extra and changed rows of a range read page by page', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'zdm-worker-')), 'r.diff.jsonl');
    const counts: Record<string, number> = {};
    const outcome = await setup(
      originRows,
      targetRows,
      path,
    )({
      range: range(),
      stop: new AbortController().signal,
      commit: async (_state, delta) => sum(counts, delta),
      assertLease: () => undefined,
    });
    assert.equal(outcome, 'done');
    const c = counts as unknown as DiffCounts;
    assert.equal(c.rowsCompared, 240);
    assert.equal(c.rowsEqual, 240 - 6 - 1);
    assert.equal(c.missing, 6);
    assert.equal(c.extra, 1);
    assert.equal(c.mismatched, 1);
    assert.equal(readReport(path).length, 8);
  });

  test('stopped after a commit and resumed from its state: every row counted once, no line twice', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'zdm-worker-')), 'r.diff.jsonl');
    const counts: Record<string, number> = {};
    const stop = new AbortController();
    let state: string | undefined;
    let commits = 0;
    const first = await setup(
      originRows,
      targetRows,
      path,
    )({
      range: range(),
      stop: stop.signal,
      assertLease: () => undefined,
      commit: async (s, delta) => {
        state = s;
        sum(counts, delta);
        if (++commits === 3) stop.abort();
      },
    });
    assert.equal(first, 'stopped');
    assert.ok(state !== undefined);
    const partial = counts.rowsCompared;
    assert.ok(partial !== undefined && partial > 0 && partial < 240, `stopped after ${partial} rows`);
    // The second session reuses the report file, as a resumed run does.
    const second = await setup(
      originRows,
      targetRows,
      path,
    )({
      range: range(state),
      stop: new AbortController().signal,
      assertLease: () => undefined,
      commit: async (s, delta) => {
        state = s;
        sum(counts, delta);
      },
    });
    assert.equal(second, 'done');
    assert.equal(counts.rowsCompared, 240);
    assert.equal(counts.missing, 6);
    assert.equal(counts.extra, 1);
    assert.equal(counts.mismatched, 1);
    const lines = readReport(path).map((l) => `${l.kind} ${JSON.stringify(l.key)} ${l.column ?? ''}`);
    assert.equal(lines.length, 8);
    assert.equal(new Set(lines).size, 8);
    assert.ok(state !== undefined, 'the last commit still names a position');
  });
});
