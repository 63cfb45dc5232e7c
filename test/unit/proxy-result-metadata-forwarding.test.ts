import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { silentLogger } from '../../src/log/logger.js';
import type { ClusterLink } from '../../src/proxy/cluster-link.js';
import { ClusterLinks } from '../../src/proxy/cluster-links.js';
import {
  type ColumnSpec,
  Consistency,
  decodeResult,
  encodeExecute,
  encodeFrame,
  encodePrepare,
  encodeResult,
  executeResultMetadataId,
  Framer,
  Opcode,
  queryParameters,
  type RawFrame,
} from '../../src/proxy/codec/index.js';
import { PreparedCache } from '../../src/proxy/prepared-cache.js';
import { ProxyMetrics } from '../../src/proxy/proxy-metrics.js';
import { RequestForwarder } from '../../src/proxy/request-forwarder.js';
import type { ClusterName } from '../../src/proxy/route-request.js';
import type { Waiter } from '../../src/proxy/stream-ids.js';
import { monotonicMicros } from '../../src/proxy/timestamps.js';
import { virtualHosts } from '../../src/proxy/virtual-tables.js';

/**
 * The forwarder's handling of v5 result metadata ids, on the bytes it sends: the statement's
 * SELECT * has columns k, v on Origin and k, a, v on Target, so each cluster gives it another id.
 */

const id = (hex: string) => Buffer.from(hex, 'hex');
const column = (name: string, kind: 'int' | 'varchar'): ColumnSpec => ({
  keyspace: 'ks',
  table: 't',
  name,
  type: { kind },
});
const COLUMNS: Record<ClusterName, readonly ColumnSpec[]> = {
  origin: [column('k', 'int'), column('v', 'varchar')],
  target: [column('k', 'int'), column('a', 'int'), column('v', 'varchar')],
};
const RESULT_IDS: Record<ClusterName, Buffer> = { origin: id('01'), target: id('02') };
const STATEMENT_ID = id('aaaa');

interface Sent {
  readonly cluster: ClusterName;
  readonly lane: 'main' | 'secondary';
  readonly opcode: number;
  readonly body: Buffer;
}

function frame(version: 5, stream: number, opcode: number, body: Buffer, isResponse = false): RawFrame {
  const raw = encodeFrame({ version, isResponse, flags: 0, streamId: stream, opcode }, body);
  return new Framer({ supportedVersions: [version] }).push(raw).frames[0]!;
}

/** A v5 node of `cluster` without sockets: answers PREPARE and EXECUTE, records what it is sent. */
function node(cluster: ClusterName, sent: Sent[], rowsNewId: () => Buffer | null): ClusterLink {
  const answer = (opcode: number): Buffer =>
    opcode === Opcode.PREPARE
      ? encodeResult(
          {
            kind: 'prepared',
            id: STATEMENT_ID,
            resultMetadataId: RESULT_IDS[cluster],
            metadata: { pkIndexes: [0], columns: [column('k', 'int')] },
            resultMetadata: {
              columnCount: COLUMNS[cluster].length,
              columns: COLUMNS[cluster],
              pagingState: null,
              newMetadataId: null,
            },
          },
          5,
        )
      : encodeResult(
          {
            kind: 'rows',
            metadata: {
              columnCount: COLUMNS[cluster].length,
              columns: COLUMNS[cluster],
              pagingState: null,
              newMetadataId: rowsNewId(),
            },
            rows: [],
          },
          5,
        );
  return {
    cluster,
    address: `memory-${cluster}`,
    closed: false,
    inFlight: 0,
    backedUp: false,
    request(opcode: number, _flags: number, body: Buffer, onResult: Waiter) {
      sent.push({ cluster, lane: 'main', opcode, body });
      onResult(frame(5, 1, Opcode.RESULT, answer(opcode), true));
    },
    requestSecondary(opcode: number, _flags: number, body: Buffer) {
      sent.push({ cluster, lane: 'secondary', opcode, body });
      return true;
    },
    send: () => Promise.reject(new Error('unused')),
    close: () => undefined,
  };
}

async function forwarder(primary: ClusterName, rowsNewId: () => Buffer | null = () => null) {
  const sent: Sent[] = [];
  const written: Buffer[] = [];
  const metrics = new ProxyMetrics();
  const prepared = new PreparedCache(10);
  const links = new ClusterLinks({
    connect: async (cluster) => node(cluster, sent, rowsNewId),
    credentials: { origin: undefined, target: undefined },
    metrics,
    logger: silentLogger(),
    onEvent: () => undefined,
    onDrain: () => undefined,
    primary,
  });
  links.version = 5;
  await links.open('origin');
  await links.open('target');
  const forward = new RequestForwarder(
    {
      version: 5,
      write: (bytes) => written.push(Buffer.from(bytes)),
      started: () => undefined,
      finished: () => undefined,
      guarded: (_stage, work) => work(),
      fault: (_stage, error) => {
        throw error;
      },
      supported: () => Buffer.alloc(0),
    },
    links,
    {
      primary,
      dualReads: true,
      requestTimeoutMs: 1000,
      replaceDefaultTimestamp: true,
      prepared,
      topology: { hosts: virtualHosts(['127.0.0.1'], 8), self: 0, port: 9042 },
      timestamps: monotonicMicros(),
      metrics,
    },
  );
  const prepare = () => {
    forward.dispatch(
      frame(
        5,
        3,
        Opcode.PREPARE,
        encodePrepare({ query: 'SELECT * FROM ks.t WHERE k = ?', keyspace: null }, 5),
      ),
    );
    const answer = decodeResult(
      new Framer({ supportedVersions: [5] }).push(written.at(-1)!).frames[0]!.body,
      5,
    );
    assert.equal(answer.kind, 'prepared');
    return answer.kind === 'prepared' ? answer : assert.fail('no PREPARED answer');
  };
  const execute = (resultMetadataId: Buffer) => {
    sent.length = 0;
    const params = queryParameters(Consistency.ONE, { values: [id('00000001')], skipMetadata: true });
    forward.dispatch(
      frame(5, 4, Opcode.EXECUTE, encodeExecute({ id: STATEMENT_ID, resultMetadataId, params }, 5)),
    );
    return sent.map((s) => ({
      cluster: s.cluster,
      lane: s.lane,
      resultMetadataId: executeResultMetadataId(s.body, 5)?.toString('hex'),
    }));
  };
  return { prepare, execute, prepared };
}

describe('v5 result metadata ids through the forwarder', () => {
  test('Origin primary: the client gets Origin’s id; the asynchronous Target copy carries Target’s', async () => {
    const f = await forwarder('origin');
    const answer = f.prepare();
    assert.deepEqual(answer.resultMetadataId, RESULT_IDS.origin);
    assert.deepEqual(answer.resultMetadata.columns, COLUMNS.origin);
    assert.deepEqual(f.execute(answer.resultMetadataId!), [
      { cluster: 'target', lane: 'secondary', resultMetadataId: '02' },
      { cluster: 'origin', lane: 'main', resultMetadataId: '01' },
    ]);
  });

  test('Target primary: the client gets Target’s columns and id; Origin’s copy carries Origin’s', async () => {
    const f = await forwarder('target');
    const answer = f.prepare();
    assert.deepEqual(answer.id, STATEMENT_ID);
    assert.deepEqual(answer.resultMetadataId, RESULT_IDS.target);
    assert.deepEqual(answer.resultMetadata.columns, COLUMNS.target);
    assert.deepEqual(f.execute(answer.resultMetadataId!), [
      { cluster: 'origin', lane: 'secondary', resultMetadataId: '01' },
      { cluster: 'target', lane: 'main', resultMetadataId: '02' },
    ]);
  });

  test('the cluster whose answer reaches the client gets the client’s id, even a stale one', async () => {
    const f = await forwarder('target');
    f.prepare();
    assert.deepEqual(f.execute(id('0bad')), [
      { cluster: 'origin', lane: 'secondary', resultMetadataId: '01' },
      { cluster: 'target', lane: 'main', resultMetadataId: '0bad' },
    ]);
  });

  test('Metadata_changed from the primary: the proxy learns the cluster’s new id', async () => {
    let newId: Buffer | null = null;
    const f = await forwarder('target', () => newId);
    f.prepare();
    newId = id('03');
    f.execute(RESULT_IDS.target);
    assert.deepEqual(f.prepared.get(STATEMENT_ID)?.resultMetadataIds, {
      origin: RESULT_IDS.origin,
      target: id('03'),
    });
  });
});
