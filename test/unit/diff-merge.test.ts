import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import cassandra from 'cassandra-driver';
import { IDENTITY_MAPPING } from '../../src/schema/compare.js';
import { compareCells, compareRow } from '../../src/validate/cell-compare.js';
import { diffLayout } from '../../src/validate/diff-entry.js';
import { DiffReport, type ReportLine, readReport, reportPathFor } from '../../src/validate/diff-report.js';
import { decodeResume, encodeResume } from '../../src/validate/range-differ.js';
import { mergeSorted, OrderViolation, STOP } from '../../src/validate/sorted-merge.js';
import { defaultCompareOptions } from '../helpers/compare-options.js';
import { tableOf } from '../helpers/schema-builder.js';

/** Batches of `items` cut at `cuts` (positions), with an empty batch thrown in, as pages may come. */
async function* batches<T>(items: readonly T[], cuts: readonly number[]): AsyncGenerator<T[]> {
  let from = 0;
  for (const cut of [...cuts, items.length]) {
    yield items.slice(from, cut);
    if (from === 0) yield [];
    from = cut;
  }
}

async function mergeToText(o: number[], t: number[], oCuts: number[] = [], tCuts: number[] = []) {
  const out: string[] = [];
  const finished = await mergeSorted(batches(o, oCuts), batches(t, tCuts), num, (s) => {
    out.push(
      s.origin !== undefined && s.target !== undefined
        ? `${s.origin}=${s.target}`
        : s.origin !== undefined
          ? `${s.origin}-`
          : `+${s.target}`,
    );
    return undefined;
  });
  assert.equal(finished, true);
  return out.join(' ');
}

const num = (a: number, b: number) => a - b;

const options = defaultCompareOptions();

describe('mergeSorted', () => {
  const cases: [string, number[], number[], string][] = [
    ['both empty', [], [], ''],
    ['equal', [1, 2, 3], [1, 2, 3], '1=1 2=2 3=3'],
    ['missing on target', [1, 2, 3], [2], '1- 2=2 3-'],
    ['extra on target', [2], [1, 2, 3], '+1 2=2 +3'],
    ['interleaved', [1, 3, 5], [2, 3, 4, 6], '1- +2 3=3 +4 5- +6'],
    ['target empty', [1, 2], [], '1- 2-'],
    ['origin empty', [], [7], '+7'],
  ];
  for (const [name, o, t, expected] of cases) {
    test(`${name}, with pages cut at every offset`, async () => {
      for (let i = 0; i <= o.length; i++) {
        for (let j = 0; j <= t.length; j++) {
          assert.equal(await mergeToText(o, t, [i], [j]), expected, `cuts ${i}/${j}`);
        }
      }
    });
  }
  test('a stream out of order fails instead of producing missing/extra rows', async () => {
    await assert.rejects(mergeToText([1, 3, 2], [1, 2, 3]), OrderViolation);
    await assert.rejects(mergeToText([1], [2, 2], [], [1]), OrderViolation);
  });
  test('STOP from the step handler ends the merge early', async () => {
    let seen = 0;
    const finished = await mergeSorted(batches([1, 2, 3], [1]), batches([1, 2, 3], [2]), num, async () => {
      seen++;
      return seen === 2 ? STOP : undefined;
    });
    assert.equal(finished, false);
    assert.equal(seen, 2);
  });
});

describe('compareCells', () => {
  const schema = tableOf({
    k: 'pk int',
    c: 'ck int',
    v: 'text',
    tags: 'set<text>',
    attrs: 'map<text, int>',
    n: 'int',
  });
  const layout = diffLayout(schema, schema, IDENTITY_MAPPING);
  const cell = (value: unknown, writetime: unknown = null, ttl: unknown = null) => ({
    value,
    writetime,
    ttl,
  });
  const base = () => [
    cell('x', 10n, null),
    cell(new Set(['a', 'b']), [10n, 11n], [null, 100]),
    cell(new Map([['p', 1]]), [10n], [null]),
    cell(null),
  ];
  const run = (change: (cells: ReturnType<typeof base>) => void, opts = options) => {
    const t = base();
    change(t);
    return compareCells(layout.regulars, base(), t, opts).map(
      (d) => `${d.column.origin.name}:${d.aspects.join('+')}`,
    );
  };
  const cases: [string, (c: ReturnType<typeof base>) => void, string[]][] = [
    ['equal', () => {}, []],
    ['value', (c) => (c[0] = cell('y', 10n)), ['v:value']],
    ['writetime', (c) => (c[0] = cell('x', 11n)), ['v:writetime']],
    [
      'ttl missing on target',
      (c) => (c[1] = cell(new Set(['a', 'b']), [10n, 11n], [null, null])),
      ['tags:ttl'],
    ],
    ['ttl within tolerance', (c) => (c[1] = cell(new Set(['a', 'b']), [10n, 11n], [null, 97])), []],
    ['ttl beyond tolerance', (c) => (c[1] = cell(new Set(['a', 'b']), [10n, 11n], [null, 90])), ['tags:ttl']],
    ['collection element missing', (c) => (c[1] = cell(new Set(['a']), [10n], [null])), ['tags:value']],
    ['map element writetime', (c) => (c[2] = cell(new Map([['p', 1]]), [12n], [null])), ['attrs:writetime']],
    ['null on origin, value on target', (c) => (c[3] = cell(5, 10n)), ['n:value']],
  ];
  for (const [name, change, expected] of cases) test(name, () => assert.deepEqual(run(change), expected));
  test('--no-writetime and --no-ttl narrow the comparison', () => {
    const narrow = { ...options, writetime: false, ttl: false };
    assert.deepEqual(
      run((c) => (c[0] = cell('x', 11n, 50)), narrow),
      [],
    );
  });
  test('counters compare by value, null as 0', () => {
    const counters = tableOf({ k: 'pk int', hits: 'counter' });
    const l = diffLayout(counters, counters, IDENTITY_MAPPING);
    assert.equal(compareCells(l.regulars, [cell(0n)], [cell(null)], options).length, 0);
    assert.equal(compareCells(l.regulars, [cell(5n)], [cell(3n)], options).length, 1);
  });
});

describe('DiffReport', () => {
  const line = (n: number): ReportLine => ({
    kind: 'missing',
    table: 'ks.t',
    targetTable: 'ks.t',
    key: { token: '1', partition: { k: n }, clustering: null },
    repair: 'reported',
  });
  test('writes each difference once, across reopenings, and drops a line cut by a kill', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zdm-report-'));
    const path = reportPathFor(join(dir, 'diff-ks.t-20250101-000000.sqlite'));
    assert.match(path, /diff-ks\.t-20250101-000000\.diff\.jsonl$/);
    const a = new DiffReport(path);
    assert.equal(a.append(line(1)), true);
    assert.equal(a.append(line(1)), false);
    assert.equal(a.append({ ...line(1), kind: 'extra' }), true);
    a.close();
    writeFileSync(path, readFileSync(path, 'utf8') + '{"kind":"missing","ta', { flag: 'w' });
    const b = new DiffReport(path);
    assert.equal(b.append(line(1)), false);
    assert.equal(b.append(line(2)), true);
    b.close();
    const lines = readReport(path);
    assert.deepEqual(
      lines.map((l) => `${l.kind}:${l.key.partition.k}`),
      ['missing:1', 'extra:1', 'missing:2'],
    );
  });

  test('two writers of one report (two worker processes): each sees what the other appended, no line is lost or written twice', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zdm-report-'));
    const path = join(dir, 'run.diff.jsonl');
    const parent = new DiffReport(path);
    const a = new DiffReport(path, { repairCutLine: false });
    const b = new DiffReport(path, { repairCutLine: false });
    assert.equal(a.append(line(1)), true);
    assert.equal(b.has(line(1)), true, 'b reads the line a appended');
    assert.equal(b.append(line(1)), false);
    assert.equal(b.append(line(2)), true);
    assert.equal(a.append(line(3)), true);
    assert.equal(a.append(line(2)), false);
    for (const r of [parent, a, b]) r.close();
    assert.deepEqual(
      readReport(path).map((l) => l.key.partition.k),
      [1, 2, 3],
    );
  });
});

test('resume state round trip', () => {
  assert.equal(decodeResume(encodeResume(-(2n ** 63n) + 5n)), -(2n ** 63n) + 5n);
  assert.equal(decodeResume(undefined), undefined);
  assert.equal(decodeResume('garbage'), undefined);
});

describe("compareRow: values by the CQL value model, lists by migrate's documented rule", () => {
  const schema = tableOf({
    k: 'pk int',
    d: 'double',
    tup: 'frozen<tuple<int, text, blob>>',
    l: 'list<int>',
    fs: 'frozen<set<text>>',
  });
  const layout = diffLayout(schema, schema, IDENTITY_MAPPING);
  const { Tuple } = cassandra.types;
  const cell = (value: unknown, writetime: unknown = 10n, ttl: unknown = null) => ({ value, writetime, ttl });
  const row = (overrides: Record<number, ReturnType<typeof cell>> = {}) => {
    const cells = [
      cell(Number.NaN),
      cell(new Tuple(1, null, Buffer.from([1]))),
      cell([1, 2], [10n, 10n], [null, null]),
      cell(new Set(['a', 'b'])),
    ];
    for (const [i, c] of Object.entries(overrides)) cells[Number(i)] = c;
    return cells;
  };
  const run = (target: ReturnType<typeof row>, origin = row()) => {
    const { differences, listWritetimes } = compareRow(layout.regulars, origin, target, options);
    return {
      differences: differences.map((d) => `${d.column.origin.name}:${d.aspects.join('+')}`),
      listWritetimes: listWritetimes.map((d) => d.column.origin.name),
    };
  };
  const mixedList = cell([1, 2], [10n, 20n], [null, 300]);
  const cases: [string, ReturnType<typeof row>, ReturnType<typeof row>, string[], string[]][] = [
    [
      'NaN equals NaN; a tuple holding a null; a frozen set in another order',
      row(),
      row({ 3: cell(new Set(['b', 'a'])) }),
      [],
      [],
    ],
    ['-0.0 differs from 0.0', row({ 0: cell(0) }), row({ 0: cell(-0) }), ['d:value'], []],
    [
      'a blob inside a tuple',
      row(),
      row({ 1: cell(new Tuple(1, null, Buffer.from([2]))) }),
      ['tup:value'],
      [],
    ],
    [
      'a null inside a tuple against a value',
      row(),
      row({ 1: cell(new Tuple(1, '', Buffer.from([1]))) }),
      ['tup:value'],
      [],
    ],
    [
      'a list with mixed writetimes, written whole at the newest (documented)',
      row({ 2: mixedList }),
      row({ 2: cell([1, 2], [20n, 20n], [null, null]) }),
      [],
      ['l'],
    ],
    [
      'the same list written at another writetime is a difference',
      row({ 2: mixedList }),
      row({ 2: cell([1, 2], [10n, 10n], [null, null]) }),
      ['l:writetime+ttl'],
      [],
    ],
    [
      'a list whose elements shared one writetime must keep it',
      row(),
      row({ 2: cell([1, 2], [20n, 20n], [null, null]) }),
      ['l:writetime'],
      [],
    ],
    [
      'a list with other elements is a difference',
      row({ 2: mixedList }),
      row({ 2: cell([2, 1], [20n, 20n], [null, null]) }),
      ['l:value+writetime+ttl'],
      [],
    ],
  ];
  for (const [name, origin, target, differences, listWritetimes] of cases) {
    test(name, () => assert.deepEqual(run(target, origin), { differences, listWritetimes }));
  }
  test('compareCells leaves the documented list limitation out', () => {
    const target = row({ 2: cell([1, 2], [20n, 20n], [null, null]) });
    assert.deepEqual(compareCells(layout.regulars, row({ 2: mixedList }), target, options), []);
  });
});
