import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CLUSTER_SETTINGS } from '../../src/config/cluster-settings.js';
import { resolveSettings } from '../../src/config/resolve.js';
import {
  type ColumnSpec,
  Consistency,
  decodeBatch,
  decodeExecute,
  decodeQuery,
  encodeBatch,
  encodeExecute,
  encodeQuery,
  FrameFlag,
  Opcode,
  type ProtocolVersion,
  queryParameters,
  withConsistency,
  withQueryText,
} from '../../src/proxy/codec/index.js';
import { CqlLexer } from '../../src/proxy/cql-lexer.js';
import { targetConsistencyOf } from '../../src/proxy/forward-plan.js';
import {
  batchWithNow,
  executeWithNow,
  nowCallsToMarkers,
  nowMarkersOf,
  withNowValues,
  withoutNowMarkers,
} from '../../src/proxy/prepared-now.js';
import { PROXY_SETTINGS, proxyConfig } from '../../src/proxy/proxy-settings.js';
import { replaceNowCalls } from '../../src/proxy/replace-now-calls.js';
import { classifyStatement } from '../../src/proxy/statement.js';
import { timeUuidGenerator } from '../../src/proxy/time-uuid.js';

/** Stand-in timeuuids U1, U2, ... so expected texts stay readable. */
function counter(): () => string {
  let n = 0;
  return () => `U${++n}`;
}

describe('replaceNowCalls', () => {
  const cases: [string, string, string | null][] = [
    ['INSERT', 'INSERT INTO t (k, v) VALUES (1, now())', 'INSERT INTO t (k, v) VALUES (1, U1)'],
    ['any case', 'insert into t (k, v) values (1, NOW())', 'insert into t (k, v) values (1, U1)'],
    [
      'spacing and comments inside',
      'INSERT INTO t (k, v) VALUES (1, now /* c */ ( ) )',
      'INSERT INTO t (k, v) VALUES (1, U1 )',
    ],
    ['system.now()', 'INSERT INTO t (k, v) VALUES (1, system.now())', 'INSERT INTO t (k, v) VALUES (1, U1)'],
    [
      'quoted "system"."now"()',
      'INSERT INTO t (k, v) VALUES (1, "system"."now"())',
      'INSERT INTO t (k, v) VALUES (1, U1)',
    ],
    ["another keyspace's now() is a UDF", 'INSERT INTO t (k, v) VALUES (1, ks.now())', null],
    ['"NOW"() is another function (quoted keeps case)', 'INSERT INTO t (k, v) VALUES (1, "NOW"())', null],
    ["now() with arguments is not CQL's now()", 'INSERT INTO t (k, v) VALUES (1, now(1))', null],
    [
      'each call gets its own value',
      'INSERT INTO t (k, a, b) VALUES (now(), now(), 1)',
      'INSERT INTO t (k, a, b) VALUES (U1, U2, 1)',
    ],
    [
      'nested call',
      'INSERT INTO t (k, ts) VALUES (1, toTimestamp(now()))',
      'INSERT INTO t (k, ts) VALUES (1, toTimestamp(U1))',
    ],
    ['in a string literal', "INSERT INTO t (k, v) VALUES (1, 'now()')", null],
    ['in a $$ string', 'INSERT INTO t (k, v) VALUES (1, $$now()$$)', null],
    ['in a line comment', 'INSERT INTO t (k, v) VALUES (1, 2) -- now()', null],
    ['in a block comment', 'INSERT INTO t (k, v) /* now() */ VALUES (1, 2)', null],
    ['in a quoted identifier', 'INSERT INTO t (k, "now()") VALUES (1, 2)', null],
    ['a column named now', 'UPDATE t SET now = 1 WHERE k = 2', null],
    ['a table named now', 'INSERT INTO now (k) VALUES (1)', null],
    [
      'string beside a call',
      "INSERT INTO t (k, v, s) VALUES (now(), 1, 'now()')",
      "INSERT INTO t (k, v, s) VALUES (U1, 1, 'now()')",
    ],
    ['UPDATE SET and WHERE', 'UPDATE t SET v = now() WHERE k = now()', 'UPDATE t SET v = U1 WHERE k = U2'],
    [
      'LWT IF clause',
      'UPDATE t SET v = now() WHERE k = 1 IF w < now()',
      'UPDATE t SET v = U1 WHERE k = 1 IF w < U2',
    ],
    ['DELETE', 'DELETE FROM t WHERE k = 1 AND c = now()', 'DELETE FROM t WHERE k = 1 AND c = U1'],
    [
      'BATCH',
      "BEGIN BATCH INSERT INTO t (k, v) VALUES (1, now()); UPDATE t SET s = 'now()' WHERE k = now(); APPLY BATCH",
      "BEGIN BATCH INSERT INTO t (k, v) VALUES (1, U1); UPDATE t SET s = 'now()' WHERE k = U2; APPLY BATCH",
    ],
    ['SELECT is not a write', 'SELECT now() FROM t', null],
    ['DDL is not a write', 'CREATE TABLE t (k timeuuid PRIMARY KEY)', null],
    ['a write without now()', 'INSERT INTO t (k) VALUES (1)', null],
    [
      'unterminated comment',
      'INSERT INTO t (k) VALUES (now()) /* now()',
      'INSERT INTO t (k) VALUES (U1) /* now()',
    ],
    ['empty text', '', null],
  ];
  for (const [name, text, expected] of cases) {
    test(name, () => assert.equal(replaceNowCalls(text, counter()), expected));
  }

  test('the rewritten statement classifies as the original', () => {
    const text = 'UPDATE t SET v = now() WHERE k = 1 IF EXISTS';
    assert.deepEqual(classifyStatement(replaceNowCalls(text, counter())!), classifyStatement(text));
  });
});

describe('CqlLexer.span', () => {
  test('where each consumed token sits, also for tokens read ahead by peek', () => {
    const text = "a /* c */ 'x''y' \"Q\"(";
    const lexer = new CqlLexer(text);
    const seen: string[] = [];
    lexer.peek(2);
    for (let token = lexer.next(); token !== undefined; token = lexer.next()) {
      seen.push(text.slice(lexer.span.start, lexer.span.end));
      lexer.peek(1);
    }
    assert.deepEqual(seen, ['a', "'x''y'", '"Q"', '(']);
  });
});

describe('timeUuidGenerator', () => {
  test('version 1, RFC 4122 variant, the clock time, strictly increasing within one millisecond', () => {
    const ms = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
    const next = timeUuidGenerator(
      () => ms,
      (n) => Buffer.alloc(n, 0xab),
    );
    const first = next();
    const second = next();
    assert.match(first, /^[0-9a-f]{8}-[0-9a-f]{4}-1[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const time = (uuid: string): bigint => {
      const [low, mid, high] = uuid.split('-') as [string, string, string];
      return BigInt(`0x${high.slice(1)}${mid}${low}`);
    };
    // 100 ns steps since 1582-10-15.
    assert.equal(time(first), BigInt(ms) * 10_000n + 122_192_928_000_000_000n);
    assert.equal(time(second), time(first) + 1n);
    assert.equal(first.slice(19), second.slice(19), 'clock sequence and node stay');
    assert.equal(first.slice(24, 26), 'ab', 'node from the random bytes, multicast bit already set');
  });

  test('a clock stepping back still gives increasing times', () => {
    const clock = [2_000, 1_000];
    const next = timeUuidGenerator(() => clock.shift() ?? 0);
    const a = next();
    const b = next();
    assert.ok(
      b.slice(15, 18) + b.slice(9, 13) + b.slice(0, 8) > a.slice(15, 18) + a.slice(9, 13) + a.slice(0, 8),
    );
  });
});

describe('targetConsistencyOf', () => {
  const write = classifyStatement('INSERT INTO t (k) VALUES (1)');
  const read = classifyStatement('SELECT * FROM t');
  const ddl = classifyStatement('CREATE TABLE t (k int PRIMARY KEY)');
  const use = classifyStatement('USE ks');
  const THREE = Consistency.THREE;
  const cases: [string, number, ReturnType<typeof classifyStatement> | null, number | null, number | null][] =
    [
      ["unset: the client's", Opcode.QUERY, write, null, null],
      ['QUERY write', Opcode.QUERY, write, THREE, THREE],
      ['EXECUTE write', Opcode.EXECUTE, write, THREE, THREE],
      ['BATCH', Opcode.BATCH, null, THREE, THREE],
      ['read', Opcode.QUERY, read, THREE, null],
      ['DDL', Opcode.QUERY, ddl, THREE, null],
      ['USE', Opcode.QUERY, use, THREE, null],
      ['PREPARE', Opcode.PREPARE, write, THREE, null],
    ];
  for (const [name, opcode, statement, level, expected] of cases) {
    test(name, () => assert.equal(targetConsistencyOf(opcode, statement, level), expected));
  }
});

const VERSIONS: ProtocolVersion[] = [3, 4, 5];

describe('withConsistency', () => {
  test('QUERY v4 vector: only the [short] before the flags changes', () => {
    const before = Buffer.from('00000001' + '51' + '0001' + '10' + '0008', 'hex'); // "Q", ONE, serial SERIAL
    const after = Buffer.from('00000001' + '51' + '0003' + '10' + '0008', 'hex'); // THREE, serial kept
    assert.deepEqual(withConsistency(before, Opcode.QUERY, 4, Consistency.THREE), after);
  });

  for (const version of VERSIONS) {
    test(`v${version}: QUERY, EXECUTE and BATCH get the consistency, the rest decodes unchanged`, () => {
      const params = queryParameters(Consistency.LOCAL_ONE, {
        values: [Buffer.from([1])],
        serialConsistency: Consistency.LOCAL_SERIAL,
        defaultTimestamp: 42n,
        ...(version >= 5 ? { keyspace: 'ks', nowInSeconds: 7 } : {}),
      });
      const query = encodeQuery({ query: 'INSERT', params }, version);
      assert.deepEqual(decodeQuery(withConsistency(query, Opcode.QUERY, version, Consistency.ALL), version), {
        query: 'INSERT',
        params: { ...params, consistency: Consistency.ALL },
      });
      const execute = encodeExecute(
        {
          id: Buffer.from('abcd', 'hex'),
          resultMetadataId: version >= 5 ? Buffer.from('ef', 'hex') : null,
          params,
        },
        version,
      );
      const executed = decodeExecute(
        withConsistency(execute, Opcode.EXECUTE, version, Consistency.ALL),
        version,
      );
      assert.deepEqual(executed.params, { ...params, consistency: Consistency.ALL });
      const batch = {
        type: 0,
        children: [{ kind: 'query' as const, query: 'INSERT', values: [Buffer.from([2])] }],
        consistency: Consistency.ONE,
        serialConsistency: Consistency.SERIAL,
        defaultTimestamp: null,
        keyspace: version >= 5 ? 'ks' : null,
        nowInSeconds: null,
      };
      const rewritten = withConsistency(
        encodeBatch(batch, version),
        Opcode.BATCH,
        version,
        Consistency.QUORUM,
      );
      assert.deepEqual(decodeBatch(rewritten, version), { ...batch, consistency: Consistency.QUORUM });
    });
  }

  test('the same consistency returns the body itself; a custom payload is skipped', () => {
    const body = encodeQuery({ query: 'Q', params: queryParameters(Consistency.ONE) }, 4);
    assert.equal(withConsistency(body, Opcode.QUERY, 4, Consistency.ONE), body);
    const payload = Buffer.from('0000', 'hex'); // empty [bytes map]
    const withPayload = Buffer.concat([payload, body]);
    const out = withConsistency(withPayload, Opcode.QUERY, 4, Consistency.TWO, FrameFlag.CUSTOM_PAYLOAD);
    assert.deepEqual(out.subarray(0, 2), payload);
    assert.equal(decodeQuery(out.subarray(2), 4).params.consistency, Consistency.TWO);
  });
});

describe('withQueryText', () => {
  for (const version of VERSIONS) {
    test(`v${version}: a QUERY's text is replaced, its parameters kept`, () => {
      const params = queryParameters(Consistency.ONE, {
        values: [Buffer.from([1, 2])],
        defaultTimestamp: 9n,
      });
      const body = encodeQuery({ query: 'INSERT now()', params }, version);
      const out = withQueryText(body, Opcode.QUERY, version, (text) => text.replace('now()', 'é-uuid'));
      assert.deepEqual(decodeQuery(out, version), { query: 'INSERT é-uuid', params });
    });

    test(`v${version}: a BATCH's query children are replaced, prepared children and values kept`, () => {
      const batch = {
        type: 1,
        children: [
          { kind: 'query' as const, query: 'A now()', values: [Buffer.from([1])] },
          { kind: 'prepared' as const, id: Buffer.from('0102', 'hex'), values: [Buffer.from([2])] },
          { kind: 'query' as const, query: 'B', values: [] },
          { kind: 'query' as const, query: 'C now()', values: [null] },
        ],
        consistency: Consistency.ONE,
        serialConsistency: null,
        defaultTimestamp: 5n,
        keyspace: null,
        nowInSeconds: null,
      };
      const seen: number[] = [];
      const out = withQueryText(encodeBatch(batch, version), Opcode.BATCH, version, (text, index) => {
        seen.push(index);
        return text.includes('now()') ? text.replace('now()', `U${index}`) : null;
      });
      assert.deepEqual(seen, [0, 1, 2]);
      const children = [...batch.children];
      children[0] = { ...batch.children[0]!, query: 'A U0' } as (typeof children)[0];
      children[3] = { ...batch.children[3]!, query: 'C U2' } as (typeof children)[0];
      assert.deepEqual(decodeBatch(out, version), { ...batch, children });
    });
  }

  test('no text replaced: the body itself', () => {
    const body = encodeQuery({ query: 'Q', params: queryParameters(Consistency.ONE) }, 4);
    assert.equal(
      withQueryText(body, Opcode.QUERY, 4, () => null),
      body,
    );
  });
});

describe('settings', () => {
  const spec = { ...PROXY_SETTINGS, ...CLUSTER_SETTINGS };
  const required = { ZDM_ORIGIN_CONTACT_POINTS: '10.0.0.1', ZDM_TARGET_CONTACT_POINTS: '10.0.0.2' };
  const loadSettings = (env: Record<string, string>) =>
    resolveSettings(spec, { env: { ...required, ...env } });

  test('defaults: functions not replaced, Target gets the client consistency', () => {
    const config = proxyConfig(loadSettings({}));
    assert.equal(config.replaceCqlFunctions, false);
    assert.equal(config.targetConsistency, null);
  });

  test('ZDM_REPLACE_CQL_FUNCTIONS and ZDM_TARGET_CONSISTENCY_LEVEL from the environment', () => {
    const config = proxyConfig(
      loadSettings({ ZDM_REPLACE_CQL_FUNCTIONS: 'true', ZDM_TARGET_CONSISTENCY_LEVEL: 'local_quorum' }),
    );
    assert.equal(config.replaceCqlFunctions, true);
    assert.equal(config.targetConsistency, Consistency.LOCAL_QUORUM);
  });

  test('a bad level names the variable and lists the valid ones', () => {
    assert.throws(
      () => loadSettings({ ZDM_TARGET_CONSISTENCY_LEVEL: 'SERIAL' }),
      (error: Error) =>
        /ZDM_TARGET_CONSISTENCY_LEVEL/.test(error.message) &&
        /ANY, ONE, TWO, THREE, QUORUM, ALL, LOCAL_QUORUM, EACH_QUORUM, LOCAL_ONE/.test(error.message),
    );
  });
});

describe('prepared statements: now() as the proxy markers', () => {
  const spec = (name: string): ColumnSpec => ({
    keyspace: 'ks',
    table: 't',
    name,
    type: { kind: 'int' } as ColumnSpec['type'],
  });
  const u = (n: number) => Buffer.alloc(16, n);

  test('each call becomes a typed, numbered named marker; strings and other statements are kept', () => {
    assert.equal(
      nowCallsToMarkers("INSERT INTO t (k, a, b, s) VALUES (?, now(), toTimestamp(now()), 'now()')"),
      "INSERT INTO t (k, a, b, s) VALUES (?, (timeuuid) :zdm__now_0, toTimestamp((timeuuid) :zdm__now_1), 'now()')",
    );
    assert.equal(nowCallsToMarkers('SELECT now() FROM t'), null);
    assert.equal(nowCallsToMarkers('INSERT INTO t (k) VALUES (?)'), null);
  });

  test('the markers are found by name among the bind variables', () => {
    assert.deepEqual(nowMarkersOf(['k', 'zdm__now_0', 'v', 'zdm__now_1', 'zdm__now_x'].map(spec)), [
      { index: 1, name: 'zdm__now_0' },
      { index: 3, name: 'zdm__now_1' },
    ]);
  });

  const cases: [string, number[], string[], number[], string[], number[]][] = [
    // name, pk indexes, variables, marker indexes → client's variables, client's pk indexes
    ['marker before the key: the key index moves down', [1], ['zdm__now_0', 'k'], [0], ['k'], [0]],
    ['marker after the key', [0], ['k', 'zdm__now_0', 'v'], [1], ['k', 'v'], [0]],
    [
      'two markers around two key parts',
      [1, 3],
      ['zdm__now_0', 'a', 'zdm__now_1', 'b'],
      [0, 2],
      ['a', 'b'],
      [0, 1],
    ],
    ['a key part bound to now(): no key indexes', [0], ['zdm__now_0', 'v'], [0], ['v'], []],
  ];
  for (const [name, pk, variables, indexes, columns, clientPk] of cases) {
    test(`withoutNowMarkers: ${name}`, () => {
      const markers = indexes.map((index) => ({ index, name: variables[index]! }));
      const out = withoutNowMarkers({ pkIndexes: pk, columns: variables.map(spec) }, markers);
      assert.deepEqual(
        out.columns.map((c) => c.name),
        columns,
      );
      assert.deepEqual(out.pkIndexes, clientPk);
    });
  }

  test('withNowValues: positional values get the uuids at the markers, named values get them by name', () => {
    const markers = [
      { index: 0, name: 'zdm__now_0' },
      { index: 2, name: 'zdm__now_1' },
    ];
    const a = Buffer.from([0xa]);
    const b = Buffer.from([0xb]);
    assert.deepEqual(withNowValues([a, b], null, markers, [u(1), u(2)]), {
      values: [u(1), a, u(2), b],
      names: null,
    });
    assert.deepEqual(withNowValues(null, null, [{ index: 0, name: 'zdm__now_0' }], [u(1)]), {
      values: [u(1)],
      names: null,
    });
    assert.deepEqual(withNowValues([a], ['k'], markers, [u(1), u(2)]), {
      values: [a, u(1), u(2)],
      names: ['k', 'zdm__now_0', 'zdm__now_1'],
    });
  });

  for (const version of VERSIONS) {
    test(`v${version}: EXECUTE and BATCH bodies get the values, everything else kept`, () => {
      const params = queryParameters(Consistency.ONE, {
        values: [Buffer.from([7])],
        defaultTimestamp: 3n,
        ...(version >= 5 ? { nowInSeconds: 9 } : {}),
      });
      const execute = {
        id: Buffer.from('ab', 'hex'),
        resultMetadataId: version >= 5 ? Buffer.from('cd', 'hex') : null,
        params,
      };
      const markers = [{ index: 1, name: 'zdm__now_0' }];
      const out = executeWithNow(encodeExecute(execute, version), 0, version, markers, [u(5)]);
      assert.deepEqual(decodeExecute(out, version), {
        ...execute,
        params: { ...params, values: [Buffer.from([7]), u(5)] },
      });
      const batch = {
        type: 0,
        children: [
          { kind: 'prepared' as const, id: Buffer.from('01', 'hex'), values: [Buffer.from([1])] },
          { kind: 'query' as const, query: 'Q', values: [] },
          { kind: 'prepared' as const, id: Buffer.from('02', 'hex'), values: [] },
        ],
        consistency: Consistency.ONE,
        serialConsistency: null,
        defaultTimestamp: null,
        keyspace: null,
        nowInSeconds: null,
      };
      let n = 0;
      const rewritten = batchWithNow(
        encodeBatch(batch, version),
        0,
        version,
        (i) => (i === 1 ? [] : [{ index: 0, name: 'zdm__now_0' }]),
        () => u(++n),
      );
      assert.deepEqual(decodeBatch(rewritten, version).children, [
        { ...batch.children[0], values: [u(1), Buffer.from([1])] },
        batch.children[1],
        { ...batch.children[2], values: [u(2)] },
      ]);
    });
  }
});
