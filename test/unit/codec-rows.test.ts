import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  buildRowsResult,
  type CellValue,
  CodecError,
  type ColumnSpec,
  cqlType,
  type DataType,
  decodeCell,
  decodeResult,
  encodeCell,
} from '../../src/proxy/codec/index.js';

const hex = (...fields: string[]): Buffer => Buffer.from(fields.join(''), 'hex');
const utf8 = (s: string): string => Buffer.from(s, 'utf8').toString('hex');

describe('cells (spec v4 §6)', () => {
  const cases: [DataType, CellValue, Buffer][] = [
    [cqlType.varchar, 'héllo', hex(utf8('héllo'))], // UTF-8 bytes
    [cqlType.ascii, 'abc', hex('616263')],
    [cqlType.uuid, '00112233-4455-6677-8899-aabbccddeeff', hex('00112233445566778899aabbccddeeff')],
    [cqlType.timeuuid, '8f2c7a60-0f1e-11ee-8000-000000000001', hex('8f2c7a600f1e11ee8000000000000001')],
    [cqlType.inet, '10.0.0.1', hex('0a000001')], // 4 bytes, no size prefix in a cell
    [cqlType.inet, '::1', hex('00000000000000000000000000000001')],
    [cqlType.int, -1, hex('ffffffff')],
    [cqlType.bigint, 2n ** 40n, hex('0000010000000000')],
    [cqlType.boolean, true, hex('01')],
    [cqlType.boolean, false, hex('00')],
    [
      cqlType.set(cqlType.varchar),
      ['a', 'bc'],
      hex(
        '00000002', // 2 elements
        '00000001', // element 1: 1 byte
        utf8('a'),
        '00000002', // element 2: 2 bytes
        utf8('bc'),
      ),
    ],
    [
      cqlType.map(cqlType.varchar, cqlType.varchar),
      new Map([['k', 'v']]),
      hex(
        '00000001', // 1 entry
        '00000001', // key: 1 byte
        utf8('k'),
        '00000001', // value: 1 byte
        utf8('v'),
      ),
    ],
    [cqlType.list(cqlType.int), [], hex('00000000')], // empty list
  ];

  test('encode and decode vectors', () => {
    for (const [type, value, bytes] of cases) {
      assert.deepEqual(encodeCell(type, value, 4), bytes, `${type.kind} ${String(value)}`);
      assert.deepEqual(decodeCell(type, bytes, 4), value, `${type.kind} ${String(value)}`);
    }
  });

  test('null, raw buffers, and mismatched values', () => {
    assert.equal(encodeCell(cqlType.int, null, 4), null);
    assert.equal(decodeCell(cqlType.int, null, 4), null);
    assert.deepEqual(encodeCell(cqlType.decimal, hex('00'), 4), hex('00'));
    assert.deepEqual(decodeCell(cqlType.decimal, hex('00'), 4), hex('00'));
    assert.throws(() => encodeCell(cqlType.int, 'x', 4), CodecError);
    assert.throws(() => encodeCell(cqlType.int, 2 ** 31, 4), CodecError);
    assert.throws(() => encodeCell(cqlType.bigint, 1, 4), CodecError);
    assert.throws(() => encodeCell(cqlType.decimal, 1, 4), CodecError);
    assert.throws(() => encodeCell(cqlType.uuid, 'nope', 4), CodecError);
    assert.throws(() => encodeCell(cqlType.ascii, 'é', 4), CodecError);
    assert.deepEqual(encodeCell(cqlType.text, 'é', 4), Buffer.from('é'));
    assert.throws(() => decodeCell(cqlType.int, hex('00'), 4), CodecError);
    assert.throws(() => decodeCell(cqlType.set(cqlType.varchar), hex('7fffffff'), 4), CodecError);
    assert.throws(() => decodeCell(cqlType.uuid, hex('00'), 4), CodecError);
  });
});

describe('buildRowsResult', () => {
  const column = (name: string, type: DataType): ColumnSpec => ({
    keyspace: 'system',
    table: 'local',
    name,
    type,
  });
  const columns = [
    column('key', cqlType.varchar),
    column('host_id', cqlType.uuid),
    column('rpc_address', cqlType.inet),
    column('tokens', cqlType.set(cqlType.varchar)),
  ];

  test('a system.local style answer, byte for byte', () => {
    const body = buildRowsResult(
      columns,
      [['local', '00000000-0000-0000-0000-000000000001', '127.0.0.1', ['-9223372036854775808']]],
      4,
    );
    const expected = hex(
      '00000002', // kind Rows
      '00000001', // flags: Global_tables_spec
      '00000004', // 4 columns
      '0006', // "system"
      utf8('system'),
      '0005', // "local"
      utf8('local'),
      '0003', // "key" varchar
      utf8('key'),
      '000d',
      '0007', // "host_id" uuid
      utf8('host_id'),
      '000c',
      '000b', // "rpc_address" inet
      utf8('rpc_address'),
      '0010',
      '0006', // "tokens" set<varchar>
      utf8('tokens'),
      '0022',
      '000d',
      '00000001', // 1 row
      '00000005', // key: 5 bytes
      utf8('local'),
      '00000010', // host_id: 16 bytes
      '00000000000000000000000000000001',
      '00000004', // rpc_address: 4 bytes
      '7f000001',
      '0000001c', // tokens: 28 bytes
      '00000001', // 1 element
      '00000014', // 20 bytes
      utf8('-9223372036854775808'),
    );
    assert.deepEqual(body, expected);
  });

  test('decodes back, with null cells and paging state', () => {
    const body = buildRowsResult(columns, [['a', null, null, []]], 5, { pagingState: hex('01') });
    const result = decodeResult(body, 5);
    assert.ok(result.kind === 'rows');
    assert.deepEqual(result.metadata.pagingState, hex('01'));
    assert.deepEqual(result.rows, [[hex(utf8('a')), null, null, hex('00000000')]]);
  });

  test('a row with the wrong number of cells is a CodecError', () => {
    assert.throws(() => buildRowsResult(columns, [['a']], 4), CodecError);
  });
});
