import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CodecError,
  Consistency,
  decodeExecute,
  encodeExecute,
  encodeResult,
  executeResultMetadataId,
  FrameFlag,
  newResultMetadataId,
  queryParameters,
  withResultMetadataId,
} from '../../src/proxy/codec/index.js';

const hex = (...fields: string[]): Buffer => Buffer.from(fields.join(''), 'hex');

/** A v5 EXECUTE of prepared id 0xaabb, the given result metadata id, one value, page size 100. */
const executeV5 = (...resultMetadataId: string[]): Buffer =>
  hex(
    '0002', // prepared id: 2 bytes
    'aabb',
    ...resultMetadataId,
    '0001', // consistency ONE
    '00000005', // flags [int]: values | page size
    '0001', // 1 value
    '00000001', // 1 byte
    '07',
    '00000064', // page size 100
  );

const EXECUTE_V5 = executeV5('0002', '0102'); // result metadata id: 2 bytes

describe('executeResultMetadataId / withResultMetadataId (spec v5 §4.1.6)', () => {
  test('reads the id after the prepared id', () => {
    assert.deepEqual(executeResultMetadataId(EXECUTE_V5, 5), hex('0102'));
  });

  test('replaces it with an id of another length, the rest of the body untouched', () => {
    const after = executeV5('0003', 'cafe01'); // result metadata id: 3 bytes
    assert.deepEqual(withResultMetadataId(EXECUTE_V5, 5, hex('cafe01')), after);
  });

  test('returns the input itself when the id is already that one', () => {
    assert.equal(withResultMetadataId(EXECUTE_V5, 5, hex('0102')), EXECUTE_V5);
  });

  test('a custom payload before the message is skipped', () => {
    const payload = hex(
      '0001', // 1 entry
      '0001', // key "k"
      Buffer.from('k').toString('hex'),
      '00000001', // value: 1 byte
      '09',
    );
    const body = Buffer.concat([payload, EXECUTE_V5]);
    assert.deepEqual(executeResultMetadataId(body, 5, FrameFlag.CUSTOM_PAYLOAD), hex('0102'));
    const out = withResultMetadataId(body, 5, hex('ff'), FrameFlag.CUSTOM_PAYLOAD);
    assert.deepEqual(out.subarray(0, payload.length), payload);
    assert.deepEqual(decodeExecute(out.subarray(payload.length), 5).resultMetadataId, hex('ff'));
  });

  test('round-trips through the EXECUTE codec', () => {
    const body = encodeExecute(
      { id: hex('01'), resultMetadataId: hex('02'), params: queryParameters(Consistency.QUORUM) },
      5,
    );
    const out = withResultMetadataId(body, 5, hex('0303'));
    assert.deepEqual(decodeExecute(out, 5), {
      id: hex('01'),
      resultMetadataId: hex('0303'),
      params: queryParameters(Consistency.QUORUM),
    });
  });

  test('v4 has no such field: reading gives null, setting one is refused', () => {
    const v4 = encodeExecute(
      { id: hex('01'), resultMetadataId: null, params: queryParameters(Consistency.ONE) },
      4,
    );
    assert.equal(executeResultMetadataId(v4, 4), null);
    assert.throws(() => withResultMetadataId(v4, 4, hex('02')), CodecError);
  });
});

describe('newResultMetadataId (spec v5 §4.2.5.2 Metadata_changed)', () => {
  test('ROWS with Metadata_changed and paging state: the id after the paging state', () => {
    const message = hex(
      '00000002', // kind ROWS
      '0000000a', // flags: has more pages | metadata changed
      '00000000', // 0 columns
      '00000002', // paging state: 2 bytes
      'beef',
      '0002', // new metadata id: 2 bytes
      '0a0b',
      '00000000', // 0 rows
    );
    assert.deepEqual(newResultMetadataId(message, 5), hex('0a0b'));
  });

  const rows = (newMetadataId: Buffer | null) =>
    encodeResult(
      {
        kind: 'rows',
        metadata: { columnCount: 0, columns: [], pagingState: null, newMetadataId },
        rows: [],
      },
      5,
    );

  const cases: readonly [string, Buffer, number, Buffer | null][] = [
    ['ROWS with the flag (codec-encoded)', rows(hex('77')), 5, hex('77')],
    ['ROWS without the flag', rows(null), 5, null],
    ['VOID', encodeResult({ kind: 'void' }, 5), 5, null],
    ['anything in v4 (no such flag)', rows(null), 4, null],
  ];
  for (const [name, message, version, expected] of cases) {
    test(name, () => {
      assert.deepEqual(newResultMetadataId(message, version as 4 | 5), expected);
    });
  }

  test('a truncated id is a codec error', () => {
    assert.throws(
      () => newResultMetadataId(hex('00000002', '00000008', '00000000', '0005', '01'), 5),
      CodecError,
    );
  });
});
