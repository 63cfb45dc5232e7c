import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type DataType, decodeCell } from '../../src/proxy/codec/index.js';
import {
  nameUuid,
  type SourceCell,
  virtualHosts,
  virtualTable,
  virtualTokens,
} from '../../src/proxy/virtual-tables.js';

const TWO_63 = 2n ** 63n;

describe('virtualTokens', () => {
  test('one instance, 8 tokens: the ring cut in 8 equal parts from the minimum token', () => {
    const step = 2n ** 61n;
    assert.deepEqual(
      virtualTokens(0, 1, 8),
      Array.from({ length: 8 }, (_, t) => step * BigInt(t) - TWO_63),
    );
  });
  test('three instances interleave: floor(2^64 / (numTokens*N)) * (t*N + i) - 2^63', () => {
    const step = 2n ** 64n / 6n;
    assert.deepEqual(virtualTokens(1, 3, 2), [step * 1n - TWO_63, step * 4n - TWO_63]);
    const all = [0, 1, 2].flatMap((i) => virtualTokens(i, 3, 2)).sort((a, b) => (a < b ? -1 : 1));
    assert.equal(new Set(all).size, 6);
    assert.ok(all.every((t) => t >= -TWO_63 && t < TWO_63));
  });
});

describe('nameUuid', () => {
  test('stable, version 3, differs per address', () => {
    assert.equal(nameUuid('10.0.0.1'), nameUuid('10.0.0.1'));
    assert.notEqual(nameUuid('10.0.0.1'), nameUuid('10.0.0.2'));
    assert.match(
      nameUuid('10.0.0.1'),
      /^[0-9a-f]{8}-[0-9a-f]{4}-3[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });
});

describe('virtualTable', () => {
  const text: DataType = { kind: 'varchar' };
  const inet: DataType = { kind: 'inet' };
  const source = new Map<string, SourceCell>([
    ['key', { type: text, cell: Buffer.from('local') }],
    ['data_center', { type: text, cell: Buffer.from('dc1') }],
    ['rpc_address', { type: inet, cell: Buffer.from([10, 9, 9, 9]) }],
    ['rpc_port', { type: { kind: 'int' }, cell: Buffer.from([0, 0, 0x23, 0x52]) }],
    ['release_version', { type: text, cell: Buffer.from('5.0.9') }],
    ['schema_version', { type: { kind: 'uuid' }, cell: Buffer.alloc(16, 7) }],
    ['tokens', { type: { kind: 'set', element: text }, cell: null }],
  ]);
  const hosts = virtualHosts(['10.0.0.1', '10.0.0.2', '10.0.0.3'], 2);
  const decode = (table: ReturnType<typeof virtualTable>) => {
    assert.equal(table.kind, 'rows');
    if (table.kind !== 'rows') return [];
    return table.rows.map((row) =>
      Object.fromEntries(
        row.map((cell, i) => [table.columns[i]!.name, decodeCell(table.columns[i]!.type, cell, 4)]),
      ),
    );
  };

  test('system.local is this instance: its address, port, host id, rack and tokens; the rest from Origin', () => {
    const rows = decode(
      virtualTable({ table: 'local', source, hosts, self: 1, port: 14002, columns: '*', version: 4 }),
    );
    assert.deepEqual(rows, [
      {
        key: 'local',
        data_center: 'dc1',
        rpc_address: '10.0.0.2',
        rpc_port: 14002,
        release_version: '5.0.9',
        schema_version: '07070707-0707-0707-0707-070707070707',
        tokens: hosts[1]!.tokens,
      },
    ]);
  });

  test('system.peers lists the other instances with the peers columns', () => {
    const table = virtualTable({
      table: 'peers',
      source,
      hosts,
      self: 1,
      port: 14002,
      columns: '*',
      version: 4,
    });
    assert.equal(table.kind, 'rows');
    if (table.kind !== 'rows') return;
    assert.deepEqual(
      table.columns.map((c) => c.name),
      [
        'peer',
        'data_center',
        'host_id',
        'preferred_ip',
        'rack',
        'release_version',
        'rpc_address',
        'schema_version',
        'tokens',
      ],
    );
    const rows = decode(table);
    assert.deepEqual(
      rows.map((r) => [r.peer, r.rpc_address, r.host_id, r.rack, r.data_center]),
      [
        ['10.0.0.1', '10.0.0.1', nameUuid('10.0.0.1'), 'rack0', 'dc1'],
        ['10.0.0.3', '10.0.0.3', nameUuid('10.0.0.3'), 'rack0', 'dc1'],
      ],
    );
  });

  test('one instance: no peers', () => {
    const table = virtualTable({
      table: 'peers',
      source,
      hosts: virtualHosts(['127.0.0.1'], 8),
      self: 0,
      port: 9042,
      columns: '*',
      version: 4,
    });
    assert.deepEqual(decode(table), []);
  });

  test('a projection returns just those columns, in the order asked', () => {
    const rows = decode(
      virtualTable({
        table: 'peers',
        source,
        hosts,
        self: 0,
        port: 1,
        columns: ['schema_version', 'peer'],
        version: 4,
      }),
    );
    assert.deepEqual(rows[0], { schema_version: '07070707-0707-0707-0707-070707070707', peer: '10.0.0.2' });
  });

  test('an unknown column is an error, as Cassandra would say', () => {
    const table = virtualTable({
      table: 'local',
      source,
      hosts,
      self: 0,
      port: 1,
      columns: ['nope'],
      version: 4,
    });
    assert.deepEqual(table, { kind: 'error', message: 'Undefined column name nope in table system.local' });
  });
});
