import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Consistency,
  closeBody,
  type DataType,
  decodeError,
  EMPTY_ENVELOPE,
  ErrorCode,
  encodeError,
  encodeExecute,
  encodeFrame,
  encodeQuery,
  encodeResult,
  FrameFlag,
  Framer,
  FrameTooLargeError,
  Opcode,
  queryParameters,
  type RawFrame,
  simpleError,
} from '../../src/proxy/codec/index.js';
import {
  bindsCounter,
  errorFrame,
  executeId,
  frameTooLargeError,
  isUnprepared,
  preparedIdOf,
  preparedStatement,
  requestConsistency,
  statementText,
  withUnpreparedId,
} from '../../src/proxy/frame-reading.js';
import { timeoutError, unavailableError } from '../../src/proxy/proxy-errors.js';
import { classifyStatement, wantsDefaultTimestamp } from '../../src/proxy/statement.js';

/** One frame through the real framer, as the session receives it. */
function frame(
  opcode: number,
  body: Buffer,
  options: { response?: boolean; flags?: number; stream?: number } = {},
): RawFrame {
  const raw = encodeFrame(
    {
      version: 4,
      isResponse: options.response ?? false,
      flags: options.flags ?? 0,
      streamId: options.stream ?? 5,
      opcode,
    },
    body,
  );
  const { frames } = new Framer({ supportedVersions: [4] }).push(raw);
  return frames[0]!;
}

const hex = (...fields: string[]) => Buffer.from(fields.join(''), 'hex');

describe('reading single fields of raw frames', () => {
  test('statement text of a QUERY, also behind a custom payload', () => {
    const query = encodeQuery({ query: 'SELECT * FROM ks.t', params: queryParameters(Consistency.ONE) }, 4);
    assert.equal(statementText(frame(Opcode.QUERY, query), 4), 'SELECT * FROM ks.t');
    const { body, flags } = closeBody(
      query,
      { ...EMPTY_ENVELOPE, customPayload: new Map([['k', Buffer.from('v')]]) },
      false,
      4,
    );
    assert.equal(statementText(frame(Opcode.QUERY, body, { flags }), 4), 'SELECT * FROM ks.t');
  });

  test("an EXECUTE's prepared id and consistency", () => {
    const body = encodeExecute(
      {
        id: Buffer.from([1, 2, 3]),
        resultMetadataId: null,
        params: queryParameters(Consistency.LOCAL_QUORUM, { values: [Buffer.from([9])] }),
      },
      4,
    );
    const execute = frame(Opcode.EXECUTE, body);
    assert.deepEqual(executeId(execute, 4), Buffer.from([1, 2, 3]));
    assert.equal(requestConsistency(execute, 4), Consistency.LOCAL_QUORUM);
  });

  test('the id of a PREPARED result, null for other results', () => {
    const prepared = hex(
      '00000004', // kind PREPARED
      '0002',
      'abcd', // id
      '00000000',
      '00000000',
      '00000000', // prepared metadata: flags, 0 columns, 0 pk indexes
      '00000004',
      '00000000', // result metadata: flags NO_METADATA, 0 columns
    );
    assert.deepEqual(
      preparedIdOf(frame(Opcode.RESULT, prepared, { response: true }), 4),
      Buffer.from('abcd', 'hex'),
    );
    assert.equal(preparedIdOf(frame(Opcode.RESULT, hex('00000001'), { response: true }), 4), null);
  });

  test("Target's UNPREPARED is rewritten to name the id the client knows", () => {
    const unprepared = encodeError(
      { kind: 'unprepared', code: ErrorCode.UNPREPARED, message: 'unknown', id: Buffer.from('7777', 'hex') },
      4,
    );
    const fromTarget = frame(Opcode.ERROR, unprepared, { response: true, stream: 9 });
    assert.equal(isUnprepared(fromTarget), true);
    const rewritten = new Framer({ supportedVersions: [4] }).push(
      withUnpreparedId(fromTarget, 4, Buffer.from('0101', 'hex')),
    ).frames[0]!;
    assert.equal(rewritten.header.streamId, 9);
    assert.deepEqual(decodeError(rewritten.body, 4), {
      kind: 'unprepared',
      code: ErrorCode.UNPREPARED,
      message: 'unknown',
      id: Buffer.from('0101', 'hex'),
    });
    assert.equal(
      isUnprepared(
        frame(Opcode.ERROR, encodeError(simpleError(ErrorCode.INVALID, 'x'), 4), { response: true }),
      ),
      false,
    );
  });

  test("the proxy's own errors: timeouts per request kind, unavailability", () => {
    const read = timeoutError('target', 100, { read: true, consistency: Consistency.ONE, batch: false });
    assert.equal(read.kind, 'read_timeout');
    assert.match(read.message, /^zdm-proxy: Target did not answer within 100 ms/);
    const write = timeoutError('origin', 100, { read: false, consistency: Consistency.QUORUM, batch: true });
    assert.deepEqual(
      write.kind === 'write_timeout' && [write.writeType, write.consistency, write.received, write.blockFor],
      ['BATCH', Consistency.QUORUM, 0, 1],
    );
    assert.equal(
      timeoutError('origin', 100, { read: false, consistency: null, batch: false }).code,
      ErrorCode.SERVER_ERROR,
    );
    assert.equal(unavailableError('target', 'down', true).code, ErrorCode.OVERLOADED);
    const bytes = errorFrame(4, 3, unavailableError('target', 'down', false));
    assert.deepEqual(bytes.subarray(0, 5), Buffer.from([0x84, 0, 0, 3, Opcode.ERROR]));
    assert.equal(FrameFlag.COMPRESSION & bytes[1]!, 0);
  });
});

describe('what a PREPARED answer settles', () => {
  const prepared = (types: DataType[]) =>
    frame(
      Opcode.RESULT,
      encodeResult(
        {
          kind: 'prepared',
          id: Buffer.from('ab', 'hex'),
          resultMetadataId: null,
          metadata: {
            pkIndexes: [],
            columns: types.map((type, i) => ({ keyspace: 'ks', table: 't', name: `c${i}`, type })),
          },
          resultMetadata: { columnCount: 0, columns: null, pagingState: null, newMetadataId: null },
        },
        4,
      ),
      { response: true },
    );
  const appendOrCounter = classifyStatement('UPDATE t SET x = x + ? WHERE k = ?');

  test('x = x + ? on a counter column stays a counter update', () => {
    const answer = prepared([{ kind: 'counter' }, { kind: 'int' }]);
    assert.equal(bindsCounter(answer, 4), true);
    assert.equal(wantsDefaultTimestamp(preparedStatement(appendOrCounter, answer, 4)), false);
  });

  test('x = x + ? on a list, set or map column is an append: it gets the shared timestamp', () => {
    for (const type of [
      { kind: 'list', element: { kind: 'int' } },
      { kind: 'set', element: { kind: 'varchar' } },
      { kind: 'map', key: { kind: 'varchar' }, value: { kind: 'int' } },
    ] as DataType[]) {
      const answer = prepared([type, { kind: 'int' }]);
      assert.equal(bindsCounter(answer, 4), false, type.kind);
      assert.equal(wantsDefaultTimestamp(preparedStatement(appendOrCounter, answer, 4)), true, type.kind);
    }
  });

  test('other statements are returned as they are, and an unreadable answer counts as a counter', () => {
    const insert = classifyStatement('INSERT INTO t (k) VALUES (?)');
    assert.equal(preparedStatement(insert, frame(Opcode.RESULT, hex('0004'), { response: true }), 4), insert);
    assert.equal(bindsCounter(frame(Opcode.RESULT, hex('0004'), { response: true }), 4), true);
    assert.equal(bindsCounter(frame(Opcode.RESULT, hex('00000001'), { response: true }), 4), true);
  });
});

describe('the error for an oversized frame', () => {
  test('a PROTOCOL_ERROR naming the size, the limit and the setting', () => {
    const framed = new Framer({ supportedVersions: [4], maxBodyLength: 16 * 1024 * 1024 }).push(
      hex('04', '00', '0009', '07', '0ee6b280'), // stream 9, QUERY, 250,000,000 bytes
    );
    assert.ok(framed.error instanceof FrameTooLargeError);
    const error = frameTooLargeError(framed.error, 'ZDM_PROXY_MAX_FRAME_SIZE_BYTES');
    assert.equal(error.code, ErrorCode.PROTOCOL_ERROR);
    assert.equal(
      error.message,
      'zdm-proxy: frame body of 250000000 bytes exceeds the limit of 16777216 bytes ' +
        '(ZDM_PROXY_MAX_FRAME_SIZE_BYTES); the connection is closed. ' +
        'Send smaller requests, or raise ZDM_PROXY_MAX_FRAME_SIZE_BYTES if they are expected.',
    );
  });
});
