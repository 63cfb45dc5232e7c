import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import cassandra from 'cassandra-driver';
import { type ReportLine, readReport, reportPathFor } from '../../src/validate/diff-report.js';
import { scratchDir } from '../helpers/checkpoints.js';
import { clusterFlags, migrateArgs, runZdm } from '../helpers/cli.js';
import { type ClusterEndpoint, sharedClusters } from '../helpers/clusters.js';
import { exactClient, freshKeyspace, runAll } from '../helpers/keyspace.js';

/**
 * `zdm diff` on values that string keys got wrong: NaN, -0.0, tuples, UDTs and collections holding
 * nulls, frozen sets inside UDTs in another element order, near-equal tuples, blobs and lists of
 * text; and migrate's documented list limitation, reported as its own kind and never repaired.
 */

const { types } = cassandra;
const KS = 'diff_values';
const T = 1_700_000_000_000_000n;

const SCHEMA = [
  `CREATE TYPE ${KS}.tagged (name text, tags frozen<set<text>>, at timestamp)`,
  `CREATE TABLE ${KS}.vals (
     k int, c frozen<tuple<int, text>>,
     sl list<int> static,
     d double, f float, tup tuple<timestamp, blob, text>, u frozen<tagged>, un tagged,
     l list<text>, fl frozen<list<frozen<tuple<int, text>>>>, m map<text, frozen<tuple<int, text>>>,
     PRIMARY KEY (k, c))`,
  `CREATE TABLE ${KS}.near (k int PRIMARY KEY, d double, tup tuple<timestamp, blob>, u frozen<tagged>,
     lt list<text>, b blob)`,
];

interface Summary {
  readonly [field: string]: unknown;
}

const summaryOf = (stdout: string): Summary => {
  const line = stdout.split('\n').find((l) => l.startsWith('{"summary"'));
  assert.ok(line !== undefined, `a JSON summary in:\n${stdout}`);
  return JSON.parse(line) as Summary;
};

describe('zdm diff: values compared as Cassandra compares them', () => {
  let origin: ClusterEndpoint;
  let target: ClusterEndpoint;
  let o: cassandra.Client;
  let t: cassandra.Client;
  const checkpoints = scratchDir('zdm-diff-values-');
  const opts = { prepare: true };

  const diff = async (table: string, ...extra: string[]) => {
    const dir = join(checkpoints, `diff-${table}`);
    const result = await runZdm([
      'diff',
      `${KS}.${table}`,
      ...clusterFlags(origin, target),
      '--checkpoint-dir',
      dir,
      '--json',
      '--recheck-delay-ms',
      '0',
      ...extra,
    ]);
    const latest = readdirSync(dir)
      .filter((f) => f.endsWith('.sqlite'))
      .sort()
      .at(-1)!;
    return { ...result, report: readReport(reportPathFor(join(dir, latest))) };
  };
  const describeLine = (l: ReportLine) =>
    `${l.kind} ${JSON.stringify(l.key.partition)} ${JSON.stringify(l.key.clustering)} ${l.column ?? ''}:${l.aspects?.join('+') ?? ''}`;

  before(async () => {
    ({ origin, target } = await sharedClusters());
    [o, t] = await Promise.all([exactClient(origin, 'origin'), exactClient(target, 'target')]);
    await Promise.all(
      [o, t].map(async (c) => {
        await freshKeyspace(c, KS);
        await runAll(c, SCHEMA);
      }),
    );
  });

  after(async () => {
    await Promise.allSettled([o?.shutdown(), t?.shutdown()]);
  });

  test('after a clean migrate, diff exits 0 (lists with mixed writetimes are exact); a list written whole is a list-writetimes line', async () => {
    const insert = `INSERT INTO ${KS}.vals (k, c, d, f, tup, u, un, l, fl, m) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) USING TIMESTAMP ?`;
    const tagged = (tags: string[]) => ({ name: 'n', tags: new Set(tags), at: null });
    await o.execute(
      insert,
      [
        1,
        new types.Tuple(1, null),
        Number.NaN,
        Number.NaN,
        new types.Tuple(new Date(1000), Buffer.from([1]), null),
        // A frozen set inside a UDT, in the client's (unsorted) order.
        tagged(['z', 'a']),
        { name: null, tags: new Set(['b']), at: new Date(5) },
        ['x', 'y'],
        [new types.Tuple(1, null), new types.Tuple(null, 't')],
        new Map([['a', new types.Tuple(1, null)]]),
        T,
      ],
      opts,
    );
    await o.execute(
      insert,
      [2, new types.Tuple(2, 'b'), -0, Number.POSITIVE_INFINITY, null, null, null, ['a'], null, null, T],
      opts,
    );
    // Mixed element writetimes: a regular list (k 2), a static list (partition 2) and mixed TTLs (k 3).
    await o.execute(
      `UPDATE ${KS}.vals USING TIMESTAMP ? SET l = l + ['b'] WHERE k = 2 AND c = (2, 'b')`,
      [T + 5n],
      opts,
    );
    await o.execute(`UPDATE ${KS}.vals USING TIMESTAMP ? SET sl = [1] WHERE k = 2`, [T], opts);
    await o.execute(`UPDATE ${KS}.vals USING TIMESTAMP ? SET sl = sl + [2] WHERE k = 2`, [T + 7n], opts);
    const row3 = [3, new types.Tuple(3, null)];
    await o.execute(
      `UPDATE ${KS}.vals USING TIMESTAMP ? AND TTL 500000 SET l = ['p'] WHERE k = ? AND c = ?`,
      [T, ...row3],
      opts,
    );
    await o.execute(
      `UPDATE ${KS}.vals USING TIMESTAMP ? SET l = l + ['q'] WHERE k = ? AND c = ?`,
      [T, ...row3],
      opts,
    );

    const migrated = await runZdm(migrateArgs(`${KS}.vals`, origin, target, join(checkpoints, 'migrate')));
    assert.equal(migrated.code, 0, migrated.stderr);

    // Lists with mixed element writetimes and TTLs are migrated exactly: nothing to report.
    const result = await diff('vals');
    assert.equal(result.code, 0, `${result.stderr}\n${result.report.map(describeLine).join('\n')}`);
    const summary = summaryOf(result.stdout);
    assert.equal(summary.mismatched, 0);
    assert.equal(summary['rows compared'], 3);
    assert.equal(summary['list writetimes (documented)'], 0);
    assert.deepEqual(result.report.map(describeLine), []);
    const lists = (
      await t.execute(`SELECT WRITETIME(sl) AS w FROM ${KS}.vals WHERE k = 2`, [], opts)
    ).first();
    assert.deepEqual(lists?.get('w').map(String), [String(T), String(T + 7n)]);

    // Target holds a list element Origin does not (written there alone): --autocorrect writes
    // Origin's list whole above it, and later diffs report that as the documented limitation.
    await t.execute(`UPDATE ${KS}.vals USING TIMESTAMP ? SET sl = sl + [9] WHERE k = 2`, [T + 8n], opts);
    const rewritten = await diff('vals', '--autocorrect');
    assert.equal(rewritten.code, 0, `${rewritten.stderr}\n${rewritten.report.map(describeLine).join('\n')}`);
    assert.deepEqual(
      rewritten.report.map((l) => `${l.kind} ${l.column}:${l.repair}`),
      ['mismatch sl:corrected'],
    );
    const limitation = await diff('vals');
    assert.equal(limitation.code, 0, limitation.stderr);
    assert.equal(summaryOf(limitation.stdout)['list writetimes (documented)'], 1);
    assert.deepEqual(limitation.report.map(describeLine), ['list-writetimes {"k":2} null sl:writetime']);
    const [line] = limitation.report;
    assert.deepEqual(line?.origin?.value, [1, 2]);
    assert.deepEqual(line?.origin?.writetime, [String(T), String(T + 7n)]);
    assert.deepEqual(line?.target?.writetime, [String(T + 9n), String(T + 9n)]);

    // A real difference on a row that also holds such a list: --autocorrect repairs the difference and
    // leaves the list alone (rewriting it would gain nothing).
    await o.execute(
      `UPDATE ${KS}.vals USING TIMESTAMP ? SET d = 2.5 WHERE k = 2 AND c = (2, 'b')`,
      [T + 10n],
      opts,
    );
    const repaired = await diff('vals', '--autocorrect');
    assert.equal(repaired.code, 0, `${repaired.stderr}\n${repaired.report.map(describeLine).join('\n')}`);
    assert.equal(summaryOf(repaired.stdout).corrected, 1);
    const fixed = (await t.execute(`SELECT d, l, sl FROM ${KS}.vals WHERE k = 2`, [], opts)).first();
    assert.equal(fixed?.get('d'), 2.5, "the repair wrote Origin's newer value");
    assert.deepEqual(fixed?.get('l'), ['a', 'b'], 'the list was not rewritten');
    assert.deepEqual(fixed?.get('sl'), [1, 2], 'the static list was not rewritten');
    const lines = repaired.report.map((l) => `${l.kind} ${l.column}:${l.repair}`).sort();
    assert.deepEqual(lines, ['list-writetimes sl:reported', 'mismatch d:corrected']);
  });

  test('near-equal values are reported as exactly the cells that differ', async () => {
    const insert = `INSERT INTO ${KS}.near (k, d, tup, u, lt, b) VALUES (?, ?, ?, ?, ?, ?) USING TIMESTAMP ?`;
    const tagged = (tags: string[]) => ({ name: 'n', tags: new Set(tags), at: null });
    const tup = (ms: number, blob: number[]) => new types.Tuple(new Date(ms), Buffer.from(blob));
    const base = [0.5, tup(1000, [1]), tagged(['x']), ['a', 'b'], Buffer.from([0])];
    const rows: [number, unknown[], unknown[]][] = [
      [1, base, [0.5, tup(1001, [1]), ...base.slice(2)]],
      [2, base, [0.5, tup(1000, [2]), ...base.slice(2)]],
      [3, base, [...base.slice(0, 2), tagged(['x', 'y']), ...base.slice(3)]],
      [4, base, [...base.slice(0, 3), ['a,b'], base[4]]],
      [5, base, [...base.slice(0, 4), Buffer.from([0, 0])]],
      // Equal: NaN, a tuple with a null, a UDT's frozen set written in another order on each side.
      [
        6,
        [Number.NaN, new types.Tuple(null, Buffer.from([1])), tagged(['z', 'a']), ...base.slice(3)],
        [Number.NaN, new types.Tuple(null, Buffer.from([1])), tagged(['a', 'z']), ...base.slice(3)],
      ],
      [7, [-0, ...base.slice(1)], [0, ...base.slice(1)]],
    ];
    for (const [k, originValues, targetValues] of rows) {
      await o.execute(insert, [k, ...originValues, T], opts);
      await t.execute(insert, [k, ...targetValues, T], opts);
    }
    const result = await diff('near');
    assert.equal(result.code, 1, result.stderr);
    assert.deepEqual(result.report.map(describeLine).sort(), [
      'mismatch {"k":1} {} tup:value',
      'mismatch {"k":2} {} tup:value',
      'mismatch {"k":3} {} u:value',
      'mismatch {"k":4} {} lt:value',
      'mismatch {"k":5} {} b:value',
      'mismatch {"k":7} {} d:value',
    ]);
    const blob = result.report.find((l) => l.column === 'b');
    assert.deepEqual([blob?.origin?.value, blob?.target?.value], ['0x00', '0x0000']);
    const nan = result.report.find((l) => l.column === 'd');
    assert.deepEqual([nan?.origin?.value, nan?.target?.value], ['-0', 0]);
  });
});
