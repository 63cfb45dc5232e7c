import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { IDENTITY_MAPPING } from '../../src/schema/compare.js';
import {
  type DiffEntry,
  diffLayout,
  entryKey,
  SideView,
  TOKEN_ALIAS,
} from '../../src/validate/diff-entry.js';
import { tableOf } from '../helpers/schema-builder.js';

const schema = tableOf({ k: 'pk int', c: 'ck int desc', s: 'static int', v: 'text', tags: 'set<text>' });
const layout = diffLayout(schema, schema, IDENTITY_MAPPING);
const view = new SideView('origin', schema, layout);

/** A row as the driver returns it for the view's SELECT (value i of valueColumns is wt_i / ttl_i). */
const row = (token: bigint, k: number, c: number | null, s: number | null, v: string | null) => ({
  [TOKEN_ALIAS]: token,
  k,
  c,
  s,
  v,
  tags: null,
  wt_0: s === null ? null : 10n,
  ttl_0: null,
  wt_1: v === null ? null : 20n,
  ttl_1: null,
  wt_2: null,
  ttl_2: null,
});

const show = (e: DiffEntry) =>
  `${e.token}/${e.partition[0]}/${e.clustering === undefined ? 'static' : e.clustering[0]}:${e.cells.map((c) => `${c.value}@${c.writetime}`).join(',')}`;

describe('SideView', () => {
  test('the range read selects the token, the columns and their writetimes and TTLs', () => {
    assert.equal(
      view.rangeQuery(undefined),
      'SELECT token(k) AS zdm_token, k, c, s, v, tags, WRITETIME(s) AS wt_0, TTL(s) AS ttl_0, WRITETIME(v) AS wt_1, TTL(v) AS ttl_1, WRITETIME(tags) AS wt_2, TTL(tags) AS ttl_2 FROM ks.t WHERE token(k) > ? AND token(k) <= ?',
    );
    assert.match(view.rangeQuery("v = 'x'"), / AND v = 'x' ALLOW FILTERING$/);
    assert.match(view.pointQuery(true), / WHERE k = \? AND c = \?$/);
    assert.match(view.pointQuery(false), / WHERE k = \? LIMIT 1$/);
  });

  test('one static entry per partition, even across pages; static-only partitions give no row entry', () => {
    const previous = {};
    const page1 = [row(1n, 1, 9, 5, 'a'), row(1n, 1, 3, 5, 'b')];
    const page2 = [row(1n, 1, 1, 5, 'c'), row(2n, 2, null, 7, null), row(3n, 3, 4, null, 'd')];
    const entries = [...view.entries(page1, previous), ...view.entries(page2, previous)].map(show);
    assert.deepEqual(entries, [
      '1/1/static:5@10',
      '1/1/9:a@20,null@null',
      '1/1/3:b@20,null@null',
      '1/1/1:c@20,null@null',
      '2/2/static:7@10',
      '3/3/static:null@null',
      '3/3/4:d@20,null@null',
    ]);
  });

  test('entry keys name the columns and mark statics with a null clustering', () => {
    const [stat, first] = [...view.entries([row(-5n, 4, 2, 1, 'x')], {})];
    assert.deepEqual(entryKey(layout, stat!), { token: '-5', partition: { k: 4 }, clustering: null });
    assert.deepEqual(entryKey(layout, first!), { token: '-5', partition: { k: 4 }, clustering: { c: 2 } });
  });
});
