import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AggregatorRegistry, type Registry } from 'prom-client';
import { BackendClosedError } from '../../src/proxy/backend-connection.js';
import {
  BatchType,
  Consistency,
  type ErrorBody,
  ErrorCode,
  encodeBatch,
  encodeError,
  encodeExecute,
  encodeFrame,
  encodeQuery,
  Framer,
  Opcode,
  queryParameters,
  type RawFrame,
  simpleError,
} from '../../src/proxy/codec/index.js';
import { failureCause } from '../../src/proxy/failure-cause.js';
import { FAILED_WRITE_TABLES, ProxyMetrics } from '../../src/proxy/proxy-metrics.js';
import { RequestTimeoutError, StreamIdsExhaustedError } from '../../src/proxy/stream-ids.js';
import { OTHER_TABLES, TableLabels } from '../../src/proxy/table-labels.js';
import { writtenTables } from '../../src/proxy/written-tables.js';

/** A v4 frame as it comes off the wire. */
function frame(opcode: number, body: Buffer, isResponse: boolean): RawFrame {
  const raw = encodeFrame({ version: 4, isResponse, flags: 0, streamId: 1, opcode }, body);
  return new Framer({ supportedVersions: [4] }).push(raw).frames[0]!;
}

const errorFrame = (error: ErrorBody) => frame(Opcode.ERROR, encodeError(error, 4), true);
const base = { consistency: Consistency.QUORUM, received: 1, blockFor: 2 };

/** The sum of the samples of counter or gauge `name` whose labels include `labels`; NaN when none has. */
async function sample(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const found = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (found?.values ?? []).filter((v) =>
    Object.entries(labels).every(([k, l]) => (v.labels as Record<string, unknown>)[k] === l),
  );
  return values.length === 0 ? Number.NaN : values.reduce((sum, v) => sum + v.value, 0);
}

describe('failureCause: the error label of *_requests_failed_total', () => {
  const cases: [string, RawFrame | Error, string | null][] = [
    ['a RESULT', frame(Opcode.RESULT, Buffer.from([0, 0, 0, 1]), true), null],
    [
      'READ_TIMEOUT',
      errorFrame({
        kind: 'read_timeout',
        code: ErrorCode.READ_TIMEOUT,
        message: 'r',
        ...base,
        dataPresent: false,
      }),
      'read_timeout',
    ],
    [
      'WRITE_TIMEOUT',
      errorFrame({
        kind: 'write_timeout',
        code: ErrorCode.WRITE_TIMEOUT,
        message: 'w',
        ...base,
        writeType: 'SIMPLE',
        contentions: null,
      }),
      'write_timeout',
    ],
    [
      'READ_FAILURE',
      errorFrame({
        kind: 'read_failure',
        code: ErrorCode.READ_FAILURE,
        message: 'r',
        ...base,
        numFailures: 1,
        reasons: null,
        dataPresent: false,
      }),
      'read_failure',
    ],
    [
      'WRITE_FAILURE',
      errorFrame({
        kind: 'write_failure',
        code: ErrorCode.WRITE_FAILURE,
        message: 'w',
        ...base,
        numFailures: 1,
        reasons: null,
        writeType: 'SIMPLE',
      }),
      'write_failure',
    ],
    [
      'UNAVAILABLE',
      errorFrame({
        kind: 'unavailable',
        code: ErrorCode.UNAVAILABLE,
        message: 'u',
        consistency: Consistency.QUORUM,
        required: 2,
        alive: 1,
      }),
      'unavailable',
    ],
    ['OVERLOADED', errorFrame(simpleError(ErrorCode.OVERLOADED, 'busy')), 'overloaded'],
    [
      'UNPREPARED',
      errorFrame({
        kind: 'unprepared',
        code: ErrorCode.UNPREPARED,
        message: 'u',
        id: Buffer.from('ab', 'hex'),
      }),
      'unprepared',
    ],
    [
      'INVALID (unconfigured table)',
      errorFrame(simpleError(ErrorCode.INVALID, 'unconfigured table t')),
      'other',
    ],
    ['an ERROR body cut short', frame(Opcode.ERROR, Buffer.from([0, 0]), true), 'other'],
    ['no answer before the deadline', new RequestTimeoutError('late'), 'client_timeout'],
    ['every stream id in use', new StreamIdsExhaustedError('full'), 'stream_ids_exhausted'],
    ['the connection closed', new BackendClosedError('gone'), 'connection_closed'],
  ];
  for (const [what, result, cause] of cases)
    test(`${what} → ${cause}`, () => assert.equal(failureCause(result, 4), cause));
});

describe('TableLabels: bounded keyspace/table labels', () => {
  test('the first `cap` tables keep their names, later ones fold into (other), for good', () => {
    const labels = new TableLabels(2);
    const t = (table: string) => ({ keyspace: 'ks', table });
    assert.deepEqual(labels.of(t('a')), t('a'));
    assert.deepEqual(labels.of(t('b')), t('b'));
    assert.deepEqual(labels.of(t('c')), OTHER_TABLES);
    assert.deepEqual(labels.of(t('a')), t('a'), 'a table seen before keeps its label');
    assert.deepEqual(labels.of(t('c')), OTHER_TABLES, 'a folded table stays folded');
  });
});

describe('writtenTables: the tables of a write request', () => {
  const request = (opcode: number, body: Buffer, prepared: Record<string, string> = {}) => ({
    frame: frame(opcode, body, false),
    version: 4 as const,
    keyspace: 'session_ks',
    preparedKey: () => undefined,
    preparedText: (id: Buffer) => prepared[id.toString('hex')],
  });
  const params = queryParameters(Consistency.ONE);

  test('a QUERY: its qualified table, or the session keyspace for an unqualified one', () => {
    const qualified = encodeQuery({ query: 'INSERT INTO app.users (id) VALUES (1)', params }, 4);
    assert.deepEqual(writtenTables(request(Opcode.QUERY, qualified)), [{ keyspace: 'app', table: 'users' }]);
    const bare = encodeQuery({ query: 'DELETE FROM events WHERE id = 1', params }, 4);
    assert.deepEqual(writtenTables(request(Opcode.QUERY, bare)), [
      { keyspace: 'session_ks', table: 'events' },
    ]);
  });

  test('an EXECUTE: the table of its prepared text', () => {
    const id = Buffer.from('0f0f', 'hex');
    const body = encodeExecute({ id, resultMetadataId: null, params }, 4);
    assert.deepEqual(
      writtenTables(request(Opcode.EXECUTE, body, { '0f0f': 'UPDATE app.t SET v = ? WHERE k = ?' })),
      [{ keyspace: 'app', table: 't' }],
    );
  });

  test('a BATCH: each table once, in order; DDL names none', () => {
    const batch = encodeBatch(
      {
        type: BatchType.LOGGED,
        children: [
          { kind: 'query', query: 'INSERT INTO app.a (k) VALUES (1)', values: [] },
          { kind: 'query', query: 'INSERT INTO app.b (k) VALUES (1)', values: [] },
          { kind: 'query', query: 'INSERT INTO app.a (k) VALUES (2)', values: [] },
        ],
        consistency: Consistency.ONE,
        serialConsistency: null,
        defaultTimestamp: null,
        keyspace: null,
        nowInSeconds: null,
      },
      4,
    );
    assert.deepEqual(writtenTables(request(Opcode.BATCH, batch)), [
      { keyspace: 'app', table: 'a' },
      { keyspace: 'app', table: 'b' },
    ]);
    const ddl = encodeQuery({ query: 'CREATE TABLE app.c (k int PRIMARY KEY)', params }, 4);
    assert.deepEqual(writtenTables(request(Opcode.QUERY, ddl)), []);
  });
});

describe('ProxyMetrics: what the original proxy exposes, and more', () => {
  test('a node request records its duration, its failure by cause and its stream id', async () => {
    const metrics = new ProxyMetrics();
    const answers: unknown[] = [];
    const waiter = metrics.nodes.request('target', '10.0.0.2:9042', 4, 'reads', (r) => answers.push(r));
    assert.equal(
      await sample(metrics.registry, 'zdm_target_used_stream_ids_total', { node: '10.0.0.2:9042' }),
      1,
    );
    waiter(errorFrame(simpleError(ErrorCode.OVERLOADED, 'busy')));
    assert.equal(answers.length, 1, 'the answer is passed on');
    const node = { node: '10.0.0.2:9042' };
    assert.equal(await sample(metrics.registry, 'zdm_target_used_stream_ids_total', node), 0);
    assert.equal(
      await sample(metrics.registry, 'zdm_target_requests_failed_total', { ...node, error: 'overloaded' }),
      1,
    );
    assert.equal(
      await sample(metrics.registry, 'zdm_target_requests_failed_total', { ...node, error: 'read_timeout' }),
      0,
    );
    const text = await metrics.registry.metrics();
    assert.match(text, /zdm_target_request_duration_seconds_count\{node="10.0.0.2:9042",type="reads"\} 1/);
    assert.doesNotMatch(text, /type="writes"/, 'a read is not timed as a write');
  });

  test('async reads: timed per cluster and node, in flight until answered, nothing left when dropped', async () => {
    const metrics = new ProxyMetrics();
    const labels = { cluster: 'target', node: 't1:9042' };
    const read = metrics.nodes.asyncRead('target', 't1:9042', 4);
    assert.equal(read.sent(true), true);
    assert.equal(await sample(metrics.registry, 'zdm_async_inflight_requests_total', labels), 1);
    read.done(new RequestTimeoutError('late'));
    assert.equal(await sample(metrics.registry, 'zdm_async_inflight_requests_total', labels), 0);
    assert.equal(
      await sample(metrics.registry, 'zdm_async_requests_failed_total', {
        ...labels,
        error: 'client_timeout',
      }),
      1,
    );
    const dropped = metrics.nodes.asyncRead('target', 't1:9042', 4);
    assert.equal(dropped.sent(false), false);
    assert.equal(await sample(metrics.registry, 'zdm_async_inflight_requests_total', labels), 0);
    assert.equal(await sample(metrics.registry, 'zdm_async_used_stream_ids_total', labels), 0);
    assert.match(
      await metrics.registry.metrics(),
      /zdm_async_request_duration_seconds_count\{cluster="target",node="t1:9042",type="reads"\} 1/,
    );
  });

  test('failed writes by table: one per table written, (unknown) without one, (other) past the cap', async () => {
    const metrics = new ProxyMetrics();
    metrics.failedWrite('target', [
      { keyspace: 'app', table: 'a' },
      { keyspace: 'app', table: 'b' },
    ]);
    metrics.failedWrite('both');
    for (let i = 0; i < FAILED_WRITE_TABLES + 5; i++)
      metrics.failedWrite('origin', [{ keyspace: 'many', table: `t${i}` }]);
    const name = 'zdm_proxy_failed_writes_by_table_total';
    assert.equal(
      await sample(metrics.registry, name, { keyspace: 'app', table: 'a', failed_on: 'target' }),
      1,
    );
    assert.equal(
      await sample(metrics.registry, name, { keyspace: 'app', table: 'b', failed_on: 'target' }),
      1,
    );
    assert.equal(await sample(metrics.registry, name, { keyspace: '(unknown)', failed_on: 'both' }), 1);
    // Two tables took two labels of the cap: the many keyspace gets the rest, then (other).
    assert.equal(await sample(metrics.registry, name, { keyspace: '(other)', failed_on: 'origin' }), 7);
    assert.equal(
      await sample(metrics.registry, 'zdm_proxy_failed_writes_total', { failed_on: 'origin' }),
      FAILED_WRITE_TABLES + 5,
    );
    const series = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name)!.values.length;
    assert.equal(
      series,
      FAILED_WRITE_TABLES + 2,
      'the cap bounds the series: its tables, (unknown) and (other)',
    );
  });
});

describe('metrics summed over worker processes (ZDM_PROXY_WORKERS > 1)', () => {
  /**
   * The pool serves `AggregatorRegistry.clusterMetrics()`, which gathers every worker's
   * `getMetricsAsJSON()` over IPC and sums them with `AggregatorRegistry.aggregate`: the same
   * function, fed here with two workers' registries.
   */
  test('counters, gauges and histograms add up per label set; per-worker series stay apart', async () => {
    const workers = [new ProxyMetrics('zdm', () => 3, 1), new ProxyMetrics('zdm', () => 4, 2)];
    for (const [i, metrics] of workers.entries()) {
      metrics.clientConnections(i + 1);
      metrics.failedWrite('target', [{ keyspace: 'app', table: 'orders' }]);
      metrics.nodes.request(
        'origin',
        'o1:9042',
        4,
        'writes',
        () => undefined,
      )(errorFrame(simpleError(ErrorCode.INVALID, 'x')));
      const read = metrics.nodes.asyncRead('target', 't1:9042', 4);
      read.sent(true);
      read.done(frame(Opcode.RESULT, Buffer.from([0, 0, 0, 1]), true));
      metrics.startRequest('writes')();
      metrics.nodes.request('target', 't1:9042', 4, 'writes', () => undefined); // still in flight
    }
    const summed = AggregatorRegistry.aggregate(
      await Promise.all(workers.map((m) => m.registry.getMetricsAsJSON())),
    );
    const text = await summed.metrics();
    const value = (series: string) => {
      const line = text.split('\n').find((l) => l.startsWith(`${series} `));
      assert.ok(line !== undefined, `${series} is in the sum:\n${text}`);
      return Number(line.slice(series.length + 1));
    };
    assert.equal(value('zdm_client_connections_total'), 3);
    assert.equal(value('zdm_proxy_worker_client_connections{worker="1"}'), 1);
    assert.equal(value('zdm_proxy_worker_client_connections{worker="2"}'), 2);
    assert.equal(value('zdm_pscache_entries_total'), 7);
    assert.equal(value('zdm_proxy_failed_writes_total{failed_on="target"}'), 2);
    assert.equal(
      value('zdm_proxy_failed_writes_by_table_total{keyspace="app",table="orders",failed_on="target"}'),
      2,
    );
    assert.equal(value('zdm_origin_requests_failed_total{node="o1:9042",error="other"}'), 2);
    assert.equal(value('zdm_origin_request_duration_seconds_count{node="o1:9042",type="writes"}'), 2);
    assert.equal(
      value('zdm_origin_request_duration_seconds_bucket{le="+Inf",node="o1:9042",type="writes"}'),
      2,
    );
    assert.equal(
      value('zdm_async_request_duration_seconds_count{cluster="target",node="t1:9042",type="reads"}'),
      2,
    );
    assert.equal(value('zdm_async_requests_failed_total{cluster="target",node="t1:9042",error="other"}'), 0);
    assert.equal(value('zdm_proxy_request_duration_seconds_count{type="writes"}'), 2);
    assert.equal(value('zdm_target_used_stream_ids_total{node="t1:9042"}'), 2);
  });
});
