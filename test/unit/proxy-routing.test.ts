import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { aggregateWriteResponse, failedOn, type Outcome } from '../../src/proxy/aggregate-response.js';
import { Opcode } from '../../src/proxy/codec/index.js';
import { handshakePlan } from '../../src/proxy/handshake-plan.js';
import { type RouteContext, routeRequest } from '../../src/proxy/route-request.js';
import { classifyStatement, type Statement, wantsDefaultTimestamp } from '../../src/proxy/statement.js';

describe('classifyStatement', () => {
  const cases: [string, Statement][] = [
    ['SELECT * FROM ks.t', { kind: 'select', keyspace: 'ks', table: 't', columns: '*' }],
    [
      'select a, "B" as c FROM "Ks"."T" WHERE k = 1',
      { kind: 'select', keyspace: 'Ks', table: 'T', columns: ['a', 'B'] },
    ],
    [
      '  -- comment\n/* x */ SELECT peer, rpc_address FROM system.peers',
      { kind: 'select', keyspace: 'system', table: 'peers', columns: ['peer', 'rpc_address'] },
    ],
    [
      "SELECT * FROM system.local WHERE key='local'",
      { kind: 'select', keyspace: 'system', table: 'local', columns: '*' },
    ],
    ['SELECT count(*) FROM t', { kind: 'select', keyspace: null, table: 't', columns: null }],
    ['SELECT JSON * FROM t', { kind: 'select', keyspace: null, table: 't', columns: null }],
    ['SELECT DISTINCT k FROM ks.t', { kind: 'select', keyspace: 'ks', table: 't', columns: ['k'] }],
    ['USE "MyKs"', { kind: 'use', keyspace: 'MyKs' }],
    ['use ks;', { kind: 'use', keyspace: 'ks' }],
    [
      "INSERT INTO t (k, v) VALUES (1, 'if')",
      { kind: 'write', conditional: false, counter: false, timestamped: false },
    ],
    [
      'INSERT INTO t (k) VALUES (1) IF NOT EXISTS',
      { kind: 'write', conditional: true, counter: false, timestamped: false },
    ],
    [
      'UPDATE t USING TTL 5 AND TIMESTAMP 10 SET v = 1 WHERE k = 1',
      { kind: 'write', conditional: false, counter: false, timestamped: true },
    ],
    [
      'INSERT INTO t (k) VALUES (1) USING TIMESTAMP 5',
      { kind: 'write', conditional: false, counter: false, timestamped: true },
    ],
    [
      'UPDATE c SET n = n + 1 WHERE k = 1',
      { kind: 'write', conditional: false, counter: true, timestamped: false },
    ],
    [
      'UPDATE t SET v = ? WHERE k = ? IF v = ?',
      { kind: 'write', conditional: true, counter: false, timestamped: false },
    ],
    ['DELETE FROM t WHERE k = 1', { kind: 'write', conditional: false, counter: false, timestamped: false }],
    [
      'BEGIN COUNTER BATCH UPDATE c SET n = n + 1 WHERE k = 1; APPLY BATCH',
      { kind: 'write', conditional: false, counter: true, timestamped: false },
    ],
    [
      'BEGIN BATCH INSERT INTO t (k) VALUES (1); APPLY BATCH',
      { kind: 'write', conditional: false, counter: false, timestamped: false },
    ],
    ['CREATE TABLE t (k int PRIMARY KEY)', { kind: 'other' }],
    ['TRUNCATE t', { kind: 'other' }],
    ['', { kind: 'other' }],
    ['((( garbage', { kind: 'other' }],
    ["SELECT * FROM 'unterminated", { kind: 'other' }],
  ];
  for (const [text, expected] of cases) {
    test(JSON.stringify(text), () => assert.deepEqual(classifyStatement(text), expected));
  }

  test('only plain writes get the default timestamp', () => {
    const stamped = ['INSERT INTO t (k) VALUES (1)', 'DELETE FROM t WHERE k = 1', 'BEGIN BATCH APPLY BATCH'];
    const not = [
      'SELECT * FROM t',
      'UPDATE c SET n = n + 1 WHERE k = 1',
      'INSERT INTO t (k) VALUES (1) IF NOT EXISTS',
      'INSERT INTO t (k) VALUES (1) USING TIMESTAMP 1',
      'CREATE TABLE x (k int PRIMARY KEY)',
    ];
    for (const text of stamped) assert.equal(wantsDefaultTimestamp(classifyStatement(text)), true, text);
    for (const text of not) assert.equal(wantsDefaultTimestamp(classifyStatement(text)), false, text);
  });
});

describe('routeRequest', () => {
  const origin: RouteContext = { primary: 'origin', dualReads: false, keyspace: null };
  const target: RouteContext = { primary: 'target', dualReads: false, keyspace: null };
  const dual: RouteContext = { primary: 'origin', dualReads: true, keyspace: null };
  const inSystem: RouteContext = { primary: 'target', dualReads: false, keyspace: 'system' };
  const q = (text: string) => classifyStatement(text);
  const both = { kind: 'forward', to: 'both', asyncTo: null, read: false };
  const cases: [string, number, Statement | null, RouteContext, object][] = [
    [
      'read → primary origin',
      Opcode.QUERY,
      q('SELECT * FROM ks.t'),
      origin,
      { kind: 'forward', to: 'origin', asyncTo: null, read: true },
    ],
    [
      'read → primary target',
      Opcode.QUERY,
      q('SELECT * FROM ks.t'),
      target,
      { kind: 'forward', to: 'target', asyncTo: null, read: true },
    ],
    [
      'dual async read',
      Opcode.QUERY,
      q('SELECT * FROM ks.t'),
      dual,
      { kind: 'forward', to: 'origin', asyncTo: 'target', read: true },
    ],
    [
      'prepared read',
      Opcode.EXECUTE,
      q('SELECT * FROM ks.t'),
      target,
      { kind: 'forward', to: 'target', asyncTo: null, read: true },
    ],
    [
      'system keyspace → origin',
      Opcode.QUERY,
      q('SELECT * FROM system_schema.tables'),
      target,
      { kind: 'forward', to: 'origin', asyncTo: null, read: true },
    ],
    [
      'dse keyspace → origin',
      Opcode.QUERY,
      q('SELECT * FROM dse_insights.x'),
      target,
      { kind: 'forward', to: 'origin', asyncTo: null, read: true },
    ],
    [
      'system.local virtual',
      Opcode.QUERY,
      q("SELECT * FROM system.local WHERE key='local'"),
      target,
      { kind: 'virtual', table: 'local' },
    ],
    [
      'system.peers virtual',
      Opcode.QUERY,
      q('SELECT * FROM system.peers'),
      origin,
      { kind: 'virtual', table: 'peers' },
    ],
    [
      'peers_v2 virtual',
      Opcode.QUERY,
      q('SELECT * FROM system.peers_v2'),
      origin,
      { kind: 'virtual', table: 'peers_v2' },
    ],
    [
      'unqualified local after USE system',
      Opcode.QUERY,
      q('SELECT * FROM local'),
      inSystem,
      { kind: 'virtual', table: 'local' },
    ],
    [
      'unqualified table after USE system',
      Opcode.QUERY,
      q('SELECT * FROM size_estimates'),
      inSystem,
      { kind: 'forward', to: 'origin', asyncTo: null, read: true },
    ],
    [
      'prepared system.local → origin',
      Opcode.EXECUTE,
      q('SELECT * FROM system.local'),
      target,
      { kind: 'forward', to: 'origin', asyncTo: null, read: true },
    ],
    ['insert → both', Opcode.QUERY, q('INSERT INTO t (k) VALUES (1)'), origin, both],
    ['DDL → both', Opcode.QUERY, q('CREATE TABLE t (k int PRIMARY KEY)'), target, both],
    ['USE → both', Opcode.QUERY, q('USE ks'), origin, both],
    ['unrecognised → both', Opcode.QUERY, q('GRANT ALL ON ks TO r'), origin, both],
    ['BATCH → both', Opcode.BATCH, null, target, both],
    ['PREPARE → both', Opcode.PREPARE, q('SELECT * FROM t'), origin, both],
    [
      'REGISTER → origin',
      Opcode.REGISTER,
      null,
      target,
      { kind: 'forward', to: 'origin', asyncTo: null, read: false },
    ],
    ['OPTIONS → proxy', Opcode.OPTIONS, null, origin, { kind: 'local' }],
  ];
  for (const [name, opcode, statement, context, expected] of cases) {
    test(name, () => assert.deepEqual(routeRequest(opcode, statement, context), expected));
  }
});

describe('aggregateWriteResponse', () => {
  const cases: [Outcome, Outcome, 'origin' | 'target', object, string | null][] = [
    ['ok', 'ok', 'origin', { kind: 'relay', from: 'origin' }, null],
    ['ok', 'ok', 'target', { kind: 'relay', from: 'target' }, null],
    ['error', 'ok', 'target', { kind: 'relay', from: 'origin' }, 'origin'],
    ['ok', 'error', 'origin', { kind: 'relay', from: 'target' }, 'target'],
    ['error', 'error', 'target', { kind: 'relay', from: 'origin' }, 'both'],
    ['ok', 'timeout', 'origin', { kind: 'timeout', cluster: 'target' }, 'target'],
    ['timeout', 'ok', 'origin', { kind: 'timeout', cluster: 'origin' }, 'origin'],
    ['ok', 'unavailable', 'origin', { kind: 'unavailable', cluster: 'target' }, 'target'],
    ['unavailable', 'error', 'origin', { kind: 'unavailable', cluster: 'origin' }, 'both'],
    ['error', 'timeout', 'origin', { kind: 'relay', from: 'origin' }, 'both'],
    ['timeout', 'timeout', 'target', { kind: 'timeout', cluster: 'origin' }, 'both'],
  ];
  for (const [o, t, primary, expected, failed] of cases) {
    test(`origin ${o}, target ${t}, primary ${primary}`, () => {
      assert.deepEqual(aggregateWriteResponse(o, t, primary), expected);
      assert.equal(failedOn(o, t), failed);
    });
  }
});

describe('handshakePlan (REFERENCE §1 auth table)', () => {
  const cases: [boolean, boolean, boolean, object][] = [
    [false, false, false, { client: null, proxy: [] }],
    [false, true, false, { client: 'target', proxy: [] }],
    [true, false, false, { client: 'origin', proxy: [] }],
    [true, true, false, { client: 'target', proxy: ['origin'] }],
    [true, true, true, { client: 'origin', proxy: ['target'] }],
    [false, true, true, { client: 'target', proxy: [] }],
    [true, false, true, { client: 'origin', proxy: [] }],
  ];
  for (const [originAsks, targetAsks, forward, expected] of cases) {
    test(`origin auth ${originAsks}, target auth ${targetAsks}, forward ${forward}`, () =>
      assert.deepEqual(handshakePlan(originAsks, targetAsks, forward), expected));
  }
});
