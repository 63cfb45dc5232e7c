import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { aggregateWriteResponse, failedOn, type Outcome } from '../../src/proxy/aggregate-response.js';
import { BatchType, Opcode } from '../../src/proxy/codec/index.js';
import { handshakePlan } from '../../src/proxy/handshake-plan.js';
import { type RouteContext, routeRequest } from '../../src/proxy/route-request.js';
import {
  batchWantsDefaultTimestamp,
  classifyStatement,
  type Statement,
  settleCounter,
  wantsDefaultTimestamp,
} from '../../src/proxy/statement.js';

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
    ['SELECT json FROM t', { kind: 'select', keyspace: null, table: 't', columns: ['json'] }],
    ['SELECT distinct FROM t', { kind: 'select', keyspace: null, table: 't', columns: ['distinct'] }],
    [
      'SELECT k, v FROM ks.t WHERE k IN (1, 2) -- from here\n AND v > 1',
      { kind: 'select', keyspace: 'ks', table: 't', columns: ['k', 'v'] },
    ],
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
});

describe('classifyStatement: writes', () => {
  const write = (conditional: boolean, counter: boolean | 'bind-marker', timestamped = false): Statement => ({
    kind: 'write',
    conditional,
    counter,
    timestamped,
  });
  const cases: [string, Statement][] = [
    // Collection appends and removals are not counter updates.
    ['UPDATE t SET s = s + {2} WHERE k = 1', write(false, false)],
    ['UPDATE t SET l = l + [3] WHERE k = 1', write(false, false)],
    ["UPDATE t SET m = m - {'k'} WHERE k = 1", write(false, false)],
    ["UPDATE t SET m = m + {'k': 1} WHERE k = 1", write(false, false)],
    ['UPDATE t SET l = [0] + l WHERE k = 1', write(false, false)],
    ["UPDATE t SET s = s - {'a'}, l = l + [1] WHERE k = 1", write(false, false)],
    ["UPDATE t SET m['k'] = 1 WHERE k = 1", write(false, false)],
    // Counter updates: a number operand, with or without spaces, negative, either sign.
    ['UPDATE c SET n = n + 1 WHERE k = 1', write(false, true)],
    ['UPDATE c SET n=n-1 WHERE k = 1', write(false, true)],
    ['UPDATE c SET n = n + -5 WHERE k = 1', write(false, true)],
    ['UPDATE c SET "N" = "N" + 2 WHERE k = 1', write(false, true)],
    ['UPDATE c SET a = a + 1, b = b - 1 WHERE k = 1', write(false, true)],
    // A bind marker can be either: the PREPARED result's variable types settle it.
    ['UPDATE c SET n = n + ? WHERE k = ?', write(false, 'bind-marker')],
    ['UPDATE c SET n = n - :delta WHERE k = :k', write(false, 'bind-marker')],
    ['UPDATE t SET l = l + ?, n = n + 1 WHERE k = ?', write(false, true)],
    // INSERT and DELETE never update counters; `x = x + 1` in a WHERE clause is not a counter update.
    ['DELETE FROM t WHERE k = 1', write(false, false)],
    ['BEGIN COUNTER BATCH UPDATE c SET n = n + 1 WHERE k = 1; APPLY BATCH', write(false, true)],
    [
      'BEGIN UNLOGGED BATCH UPDATE c SET n = n + ? WHERE k = 1; UPDATE t SET s = s + {1} WHERE k = 2; APPLY BATCH',
      write(false, 'bind-marker'),
    ],
    ['BEGIN BATCH INSERT INTO t (k) VALUES (1); APPLY BATCH', write(false, false)],
    // Conditions, wherever they come.
    ['INSERT INTO t (k) VALUES (1) IF NOT EXISTS', write(true, false)],
    ['UPDATE t SET v = ? WHERE k = ? IF v = ?', write(true, false)],
    ['DELETE FROM t WHERE k = 1 IF EXISTS', write(true, false)],
    ["INSERT INTO t (k, v) VALUES (1, 'if')", write(false, false)],
    ['INSERT INTO t (k, "if") VALUES (1, 2)', write(false, false)],
    // USING TIMESTAMP, and a column named timestamp that is not one.
    ['UPDATE t USING TTL 5 AND TIMESTAMP 10 SET v = 1 WHERE k = 1', write(false, false, true)],
    ['INSERT INTO t (k) VALUES (1) USING TIMESTAMP 5', write(false, false, true)],
    ['INSERT INTO t (k) VALUES (1) USING TTL :ttl AND TIMESTAMP :ts', write(false, false, true)],
    ['BEGIN BATCH USING TIMESTAMP ? INSERT INTO t (k) VALUES (1); APPLY BATCH', write(false, false, true)],
    ['UPDATE t USING TTL 5 SET v = 1 WHERE k = 1 AND timestamp = 2', write(false, false)],
    ['INSERT INTO t (k, timestamp) VALUES (1, 2)', write(false, false)],
  ];
  for (const [text, expected] of cases) {
    test(JSON.stringify(text), () => assert.deepEqual(classifyStatement(text), expected));
  }

  test('an IF or a counter update after thousands of tokens is still seen', () => {
    const values = Array.from({ length: 2000 }, (_, i) => `c${i} = ${i}`).join(', ');
    assert.deepEqual(classifyStatement(`UPDATE t SET ${values} WHERE k = 1 IF c0 = 0`), write(true, false));
    assert.deepEqual(classifyStatement(`UPDATE c SET ${values}, n = n + 1 WHERE k = 1`), write(false, true));
    const inserts = Array.from({ length: 500 }, (_, i) => `INSERT INTO t (k, v) VALUES (${i}, 'x');`).join(
      ' ',
    );
    assert.deepEqual(
      classifyStatement(`BEGIN BATCH ${inserts} UPDATE t SET v = 'y' WHERE k = 1 IF v = 'x'; APPLY BATCH`),
      write(true, false),
    );
  });
});

describe('classifyStatement: read-only statements', () => {
  for (const text of [
    'DESCRIBE KEYSPACES',
    'describe table ks.t',
    'DESC SCHEMA',
    'LIST ROLES',
    'LIST USERS',
    'LIST ALL PERMISSIONS OF alice',
    'list select permission on ks.t',
  ]) {
    test(text, () => assert.deepEqual(classifyStatement(text), { kind: 'read-only' }));
  }
});

describe('the shared default timestamp', () => {
  test('plain writes, collection appends/removals and USING TIMESTAMP get it; LWT and counters do not', () => {
    const stamped = [
      'INSERT INTO t (k) VALUES (1)',
      'DELETE FROM t WHERE k = 1',
      'BEGIN BATCH APPLY BATCH',
      'UPDATE t SET s = s + {2} WHERE k = 1',
      'UPDATE t SET l = l + [3] WHERE k = 1',
      "UPDATE t SET m = m - {'k'} WHERE k = 1",
      'UPDATE t SET l = [0] + l WHERE k = 1',
      'INSERT INTO t (k) VALUES (1) USING TIMESTAMP 1',
    ];
    const not = [
      'SELECT * FROM t',
      'UPDATE c SET n = n + 1 WHERE k = 1',
      'UPDATE c SET n = n + ? WHERE k = 1',
      'INSERT INTO t (k) VALUES (1) IF NOT EXISTS',
      'CREATE TABLE x (k int PRIMARY KEY)',
      'DESCRIBE KEYSPACES',
    ];
    for (const text of stamped) assert.equal(wantsDefaultTimestamp(classifyStatement(text)), true, text);
    for (const text of not) assert.equal(wantsDefaultTimestamp(classifyStatement(text)), false, text);
  });

  test('a bind-marker operand is settled by the prepared variable types', () => {
    const append = classifyStatement('UPDATE t SET l = l + ? WHERE k = ?');
    assert.equal(wantsDefaultTimestamp(settleCounter(append, false)), true);
    assert.equal(wantsDefaultTimestamp(settleCounter(append, true)), false);
    const counter = classifyStatement('UPDATE c SET n = n + 1 WHERE k = ?');
    assert.deepEqual(settleCounter(counter, false), counter, 'a literal counter update stays one');
    const insert = classifyStatement('INSERT INTO t (k) VALUES (?)');
    assert.deepEqual(settleCounter(insert, true), insert);
  });

  test('BATCH messages: every child must want it, and the batch must not be a COUNTER batch', () => {
    const q = classifyStatement;
    const plain = q('INSERT INTO t (k) VALUES (1)');
    const append = q('UPDATE t SET s = s + {1} WHERE k = 1');
    const cases: [number, Statement[], boolean][] = [
      [BatchType.LOGGED, [plain, append], true],
      [BatchType.UNLOGGED, [plain], true],
      [BatchType.LOGGED, [], true],
      [BatchType.COUNTER, [q('UPDATE c SET n = n + ? WHERE k = 1')], false],
      [BatchType.COUNTER, [plain], false],
      [BatchType.LOGGED, [plain, q('UPDATE t SET v = 1 WHERE k = 1 IF v = 0')], false],
      [BatchType.LOGGED, [plain, q('UPDATE c SET n = n + ? WHERE k = 1')], false],
      [BatchType.LOGGED, [plain, settleCounter(q('UPDATE t SET l = l + ? WHERE k = 1'), false)], true],
      [BatchType.LOGGED, [plain, q('GRANT SELECT ON t TO r')], false],
    ];
    for (const [type, children, expected] of cases)
      assert.equal(batchWantsDefaultTimestamp(type, children), expected, JSON.stringify(children));
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
    [
      'DESCRIBE → primary origin only',
      Opcode.QUERY,
      q('DESCRIBE KEYSPACES'),
      dual,
      { kind: 'forward', to: 'origin', asyncTo: null, read: true },
    ],
    [
      'DESCRIBE → primary target only',
      Opcode.QUERY,
      q('DESC TABLE ks.t'),
      target,
      { kind: 'forward', to: 'target', asyncTo: null, read: true },
    ],
    [
      'LIST ROLES → primary only',
      Opcode.QUERY,
      q('LIST ROLES'),
      target,
      { kind: 'forward', to: 'target', asyncTo: null, read: true },
    ],
    [
      'prepared LIST PERMISSIONS → primary only',
      Opcode.EXECUTE,
      q('LIST ALL PERMISSIONS'),
      origin,
      { kind: 'forward', to: 'origin', asyncTo: null, read: true },
    ],
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
