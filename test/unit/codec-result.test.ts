import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CodecError,
  cqlType,
  type DataType,
  decodeResult,
  encodeResult,
  type ProtocolVersion,
  peekResultKind,
  type Result,
  ResultKind,
} from '../../src/proxy/codec/index.js';

const hex = (...fields: string[]): Buffer => Buffer.from(fields.join(''), 'hex');
const utf8 = (s: string): string => Buffer.from(s, 'utf8').toString('hex');

describe('RESULT Rows (spec v4 §4.2.5.2)', () => {
  test('global table spec, two columns, two rows with a null cell', () => {
    const body = hex(
      '00000002', // kind Rows
      '00000001', // flags: Global_tables_spec
      '00000002', // columns_count 2
      '0006', // global keyspace "system"
      utf8('system'),
      '0005', // global table "local"
      utf8('local'),
      '0003', // column 1 name "key"
      utf8('key'),
      '000d', // type varchar
      '0004', // column 2 name "port"
      utf8('port'),
      '0009', // type int
      '00000002', // rows_count 2
      '00000005', // row 1 cell 1: 5 bytes
      utf8('local'),
      '00000004', // row 1 cell 2: 4 bytes
      '00002352', // 9042
      'ffffffff', // row 2 cell 1: null
      'ffffffff', // row 2 cell 2: null
    );
    const result = decodeResult(body, 4);
    assert.equal(result.kind, 'rows');
    if (result.kind !== 'rows') return;
    assert.deepEqual(result.metadata.columns, [
      { keyspace: 'system', table: 'local', name: 'key', type: { kind: 'varchar' } },
      { keyspace: 'system', table: 'local', name: 'port', type: { kind: 'int' } },
    ]);
    assert.deepEqual(result.rows, [
      [Buffer.from('local'), hex('00002352')],
      [null, null],
    ]);
    assert.deepEqual(encodeResult(result, 4), body);
    assert.equal(peekResultKind(body), ResultKind.ROWS);
  });

  test('per-column table specs, paging state', () => {
    const body = hex(
      '00000002', // kind Rows
      '00000002', // flags: Has_more_pages
      '00000002', // columns_count 2
      '00000002', // paging state [bytes], 2 bytes
      'cafe',
      '0002', // column 1 keyspace "k1"
      utf8('k1'),
      '0001', // table "a"
      utf8('a'),
      '0001', // name "x"
      utf8('x'),
      '0004', // type boolean
      '0002', // column 2 keyspace "k2"
      utf8('k2'),
      '0001', // table "b"
      utf8('b'),
      '0001', // name "y"
      utf8('y'),
      '0003', // type blob
      '00000000', // rows_count 0
    );
    const result = decodeResult(body, 4);
    assert.ok(result.kind === 'rows');
    assert.deepEqual(result.metadata.pagingState, hex('cafe'));
    assert.equal(result.metadata.columns?.[1]?.keyspace, 'k2');
    assert.deepEqual(encodeResult(result, 4), body);
  });

  test('no_metadata: only flags, count and paging state', () => {
    const body = hex(
      '00000002', // kind Rows
      '00000004', // flags: No_metadata
      '00000001', // columns_count 1
      '00000001', // rows_count 1
      '00000000', // empty cell
    );
    const result = decodeResult(body, 4);
    assert.deepEqual(result, {
      kind: 'rows',
      metadata: { columnCount: 1, columns: null, pagingState: null, newMetadataId: null },
      rows: [[Buffer.alloc(0)]],
    });
    assert.deepEqual(encodeResult(result, 4), body);
  });

  test('v5 metadata_changed carries a new metadata id', () => {
    const body = hex(
      '00000002', // kind Rows
      '0000000c', // flags: No_metadata 0x4 | Metadata_changed 0x8
      '00000000', // columns_count 0
      '0001', // new_metadata_id [short bytes]
      '99',
      '00000000', // rows_count 0
    );
    const result = decodeResult(body, 5);
    assert.ok(result.kind === 'rows');
    assert.deepEqual(result.metadata.newMetadataId, hex('99'));
    assert.deepEqual(encodeResult(result, 5), body);
    assert.throws(() => encodeResult(result, 4), CodecError);
  });

  test('column types: custom, list, set, map, udt, tuple', () => {
    const typeBytes = hex(
      '0000', // custom
      '0004', // class name "a.Bc"
      utf8('a.Bc'),
      '0020', // list<
      '000c', //   uuid>
      '0022', // set<
      '0010', //   inet>
      '0021', // map<
      '000d', //   varchar,
      '0002', //   bigint>
      '0030', // udt
      '0002', //   keyspace "ks"
      utf8('ks'),
      '0004', //   name "addr"
      utf8('addr'),
      '0002', //   2 fields
      '0004', //   field "city"
      utf8('city'),
      '000d', //   varchar
      '0003', //   field "zip"
      utf8('zip'),
      '0009', //   int
      '0031', // tuple<
      '0002', //   2 elements
      '0011', //   date,
      '0015', //   duration>
    );
    const types: DataType[] = [
      cqlType.custom('a.Bc'),
      cqlType.list(cqlType.uuid),
      cqlType.set(cqlType.inet),
      cqlType.map(cqlType.varchar, cqlType.bigint),
      {
        kind: 'udt',
        keyspace: 'ks',
        name: 'addr',
        fields: [
          { name: 'city', type: cqlType.varchar },
          { name: 'zip', type: cqlType.int },
        ],
      },
      cqlType.tuple(cqlType.date, cqlType.duration),
    ];
    const columns = types.map((type, i) => ({ keyspace: 'ks', table: 't', name: `c${i}`, type }));
    const result: Result = {
      kind: 'rows',
      metadata: { columnCount: columns.length, columns, pagingState: null, newMetadataId: null },
      rows: [],
    };
    const body = encodeResult(result, 4);
    assert.deepEqual(decodeResult(body, 4), result);
    // The type options appear in order after each column name.
    let typesOnly = Buffer.alloc(0);
    let offset = 4 + 4 + 4 + 2 + 2 + 2 + 1; // kind, flags, count, "ks", "t"
    for (let i = 0; i < types.length; i++) {
      offset += 2 + `c${i}`.length;
      const end = offset + encodedTypeLength(types[i]!);
      typesOnly = Buffer.concat([typesOnly, body.subarray(offset, end)]);
      offset = end;
    }
    assert.deepEqual(typesOnly, typeBytes);
  });

  test('unknown type id is a CodecError', () => {
    const body = hex(
      '00000002',
      '00000001',
      '00000001',
      '0000',
      '0000',
      '0001',
      utf8('c'),
      '00ff',
      '00000000',
    );
    assert.throws(() => decodeResult(body, 4), CodecError);
  });
});

/** Length of an encoded [option] for the types of the test above. */
function encodedTypeLength(type: DataType): number {
  switch (type.kind) {
    case 'custom':
      return 4 + Buffer.byteLength(type.className);
    case 'list':
    case 'set':
      return 2 + encodedTypeLength(type.element);
    case 'map':
      return 2 + encodedTypeLength(type.key) + encodedTypeLength(type.value);
    case 'udt':
      return (
        2 +
        2 +
        type.keyspace.length +
        2 +
        type.name.length +
        2 +
        type.fields.reduce((sum, f) => sum + 2 + f.name.length + encodedTypeLength(f.type), 0)
      );
    case 'tuple':
      return 4 + type.elements.reduce((sum, e) => sum + encodedTypeLength(e), 0);
    default:
      return 2;
  }
}

describe('RESULT Prepared (spec v4 §4.2.5.4)', () => {
  const v4 = hex(
    '00000004', // kind Prepared
    '0002', // id [short bytes]
    'abcd',
    '00000001', // metadata flags: Global_tables_spec
    '00000002', // columns_count 2
    '00000001', // pk_count 1
    '0001', // pk_index: bind marker 1
    '0002', // keyspace "ks"
    utf8('ks'),
    '0001', // table "t"
    utf8('t'),
    '0001', // column "v"
    utf8('v'),
    '000d', // varchar
    '0001', // column "k"
    utf8('k'),
    '0009', // int
    '00000004', // result metadata flags: No_metadata
    '00000000', // columns_count 0
  );
  const message: Result = {
    kind: 'prepared',
    id: hex('abcd'),
    resultMetadataId: null,
    metadata: {
      pkIndexes: [1],
      columns: [
        { keyspace: 'ks', table: 't', name: 'v', type: cqlType.varchar },
        { keyspace: 'ks', table: 't', name: 'k', type: cqlType.int },
      ],
    },
    resultMetadata: { columnCount: 0, columns: null, pagingState: null, newMetadataId: null },
  };

  test('v4 with pk indexes', () => {
    assert.deepEqual(decodeResult(v4, 4), message);
    assert.deepEqual(encodeResult(message, 4), v4);
  });

  test('v3 has no pk indexes', () => {
    const v3 = Buffer.concat([v4.subarray(0, 4 + 4 + 8), v4.subarray(4 + 4 + 8 + 6)]); // drop pk_count and index
    const decoded = decodeResult(v3, 3);
    assert.ok(decoded.kind === 'prepared');
    assert.deepEqual(decoded.metadata.pkIndexes, []);
    assert.deepEqual(encodeResult(decoded, 3), v3);
  });

  test('v5 has the result metadata id after the id', () => {
    const v5 = Buffer.concat([
      v4.subarray(0, 8), // kind, id
      hex('0001', '77'), // result_metadata_id [short bytes]
      v4.subarray(8),
    ]);
    const decoded = decodeResult(v5, 5);
    assert.deepEqual(decoded, { ...message, resultMetadataId: hex('77') });
    assert.deepEqual(encodeResult(decoded, 5), v5);
  });
});

describe('RESULT Void, Set_keyspace, Schema_change', () => {
  test('vectors', () => {
    assert.deepEqual(decodeResult(hex('00000001'), 4), { kind: 'void' }); // kind Void
    const setKeyspace = hex(
      '00000003', // kind Set_keyspace
      '0002', // "ks"
      utf8('ks'),
    );
    assert.deepEqual(decodeResult(setKeyspace, 4), { kind: 'set_keyspace', keyspace: 'ks' });
    const schema = hex(
      '00000005', // kind Schema_change
      '0007', // "UPDATED"
      utf8('UPDATED'),
      '0004', // "TYPE"
      utf8('TYPE'),
      '0002', // keyspace "ks"
      utf8('ks'),
      '0001', // type "u"
      utf8('u'),
    );
    const decoded = decodeResult(schema, 4);
    assert.deepEqual(decoded, {
      kind: 'schema_change',
      change: { changeType: 'UPDATED', target: 'TYPE', keyspace: 'ks', name: 'u', argTypes: null },
    });
    assert.deepEqual(encodeResult(decoded, 4), schema);
  });

  test('unknown kind is a CodecError', () => {
    assert.throws(() => decodeResult(hex('00000009'), 4), CodecError);
  });

  for (const version of [3, 4, 5] as ProtocolVersion[]) {
    test(`round trip v${version}`, () => {
      const results: Result[] = [
        { kind: 'void' },
        { kind: 'set_keyspace', keyspace: 'x' },
        {
          kind: 'schema_change',
          change: { changeType: 'CREATED', target: 'AGGREGATE', keyspace: 'ks', name: 'a', argTypes: [] },
        },
        {
          kind: 'rows',
          metadata: {
            columnCount: 1,
            columns: [{ keyspace: 'ks', table: 't', name: 'c', type: cqlType.list(cqlType.timeuuid) }],
            pagingState: hex('01'),
            newMetadataId: null,
          },
          rows: [[hex('00')], [null]],
        },
      ];
      for (const result of results)
        assert.deepEqual(decodeResult(encodeResult(result, version), version), result);
    });
  }
});
