import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { IDENTITY_MAPPING } from '../../src/schema/compare.js';
import { type CompareOptions, compareCells } from '../../src/validate/cell-compare.js';
import { diffLayout } from '../../src/validate/diff-entry.js';
import { DiffReport, type ReportLine, readReport, reportPathFor } from '../../src/validate/diff-report.js';
import { decodeResume, encodeResume } from '../../src/validate/range-differ.js';
import { mergeSorted, OrderViolation } from '../../src/validate/sorted-merge.js';
import { tableOf } from '../helpers/schema-builder.js';

async function* from<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const i of items) yield i;
}

async function collect<T>(gen: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of gen) out.push(x);
  return out;
}

const num = (a: number, b: number) => a - b;

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
    test(name, async () => {
      const steps = await collect(mergeSorted(from(o), from(t), num));
      const text = steps
        .map((s) =>
          s.origin !== undefined && s.target !== undefined
            ? `${s.origin}=${s.target}`
            : s.origin !== undefined
              ? `${s.origin}-`
              : `+${s.target}`,
        )
        .join(' ');
      assert.equal(text, expected);
    });
  }
  test('a stream out of order fails instead of producing missing/extra rows', async () => {
    await assert.rejects(collect(mergeSorted(from([1, 3, 2]), from([1, 2, 3]), num)), OrderViolation);
    await assert.rejects(collect(mergeSorted(from([1]), from([2, 2]), num)), OrderViolation);
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
  const options: CompareOptions = {
    writetime: true,
    ttl: true,
    ttlToleranceS: 5,
    writetimeMin: undefined,
    writetimeMax: undefined,
    userTypes: new Map(),
  };
  const cell = (value: unknown, writetime: unknown = null, ttl: unknown = null) => ({ value, writetime, ttl });
  const base = () => [
    cell('x', 10n, null),
    cell(new Set(['a', 'b']), [10n, 11n], [null, 100]),
    cell(new Map([['p', 1]]), [10n], [null]),
    cell(null),
  ];
  const run = (change: (cells: ReturnType<typeof base>) => void, opts = options) => {
    const t = base();
    change(t);
    return compareCells(layout.regulars, base(), t, opts).map((d) => `${d.column.origin.name}:${d.aspects.join('+')}`);
  };
  const cases: [string, (c: ReturnType<typeof base>) => void, string[]][] = [
    ['equal', () => {}, []],
    ['value', (c) => (c[0] = cell('y', 10n)), ['v:value']],
    ['writetime', (c) => (c[0] = cell('x', 11n)), ['v:writetime']],
    ['ttl missing on target', (c) => (c[1] = cell(new Set(['a', 'b']), [10n, 11n], [null, null])), ['tags:ttl']],
    ['ttl within tolerance', (c) => (c[1] = cell(new Set(['a', 'b']), [10n, 11n], [null, 97])), []],
    ['ttl beyond tolerance', (c) => (c[1] = cell(new Set(['a', 'b']), [10n, 11n], [null, 90])), ['tags:ttl']],
    ['collection element missing', (c) => (c[1] = cell(new Set(['a']), [10n], [null])), ['tags:value']],
    ['map element writetime', (c) => (c[2] = cell(new Map([['p', 1]]), [12n], [null])), ['attrs:writetime']],
    ['null on origin, value on target', (c) => (c[3] = cell(5, 10n)), ['n:value']],
  ];
  for (const [name, change, expected] of cases) test(name, () => assert.deepEqual(run(change), expected));
  test('--no-writetime and --no-ttl narrow the comparison', () => {
    const narrow = { ...options, writetime: false, ttl: false };
    assert.deepEqual(run((c) => (c[0] = cell('x', 11n, 50)), narrow), []);
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
});

test('resume state round trip', () => {
  assert.equal(decodeResume(encodeResume(-(2n ** 63n) + 5n)), -(2n ** 63n) + 5n);
  assert.equal(decodeResume(undefined), undefined);
  assert.equal(decodeResume('garbage'), undefined);
});
