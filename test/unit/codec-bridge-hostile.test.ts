import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  CodecError,
  Consistency,
  ErrorCode,
  encodeBatch,
  encodeError,
  encodeExecute,
  encodePrepare,
  encodeQuery,
  encodeResult,
  FrameFlag,
  Opcode,
  queryParameters,
  requestV4ToV5,
  requestV5ToV4,
  responseV4ToV5,
  responseV5ToV4,
  v5OnlyFields,
} from '../../src/proxy/codec/index.js';

/**
 * The bridge's translations (v4 ↔ v5 bodies) on hostile input: any bytes a client or a cluster
 * could send, and valid bodies cut short at every offset, end in a translated body or a
 * CodecError (which the session answers as a protocol error), never in another exception.
 */

const REQUEST_OPCODES = [Opcode.QUERY, Opcode.PREPARE, Opcode.EXECUTE, Opcode.BATCH, Opcode.REGISTER];
const RESPONSE_OPCODES = [Opcode.RESULT, Opcode.ERROR, Opcode.EVENT, Opcode.READY];
const FLAGS = [0, FrameFlag.CUSTOM_PAYLOAD, FrameFlag.WARNING, FrameFlag.TRACING | FrameFlag.WARNING];
const noId = () => Buffer.alloc(0);

const translations: readonly [
  string,
  (opcode: number, body: Buffer, flags: number) => unknown,
  readonly number[],
][] = [
  ['requestV5ToV4', requestV5ToV4, REQUEST_OPCODES],
  ['v5OnlyFields', v5OnlyFields, REQUEST_OPCODES],
  ['requestV4ToV5', (o, b, f) => requestV4ToV5(o, b, f, noId), REQUEST_OPCODES],
  [
    'responseV4ToV5',
    (o, b, f) => responseV4ToV5(o, b, f, { resultMetadataId: Buffer.of(1), skipMetadata: true }),
    RESPONSE_OPCODES,
  ],
  ['responseV5ToV4', responseV5ToV4, RESPONSE_OPCODES],
];

function translatesOrCodecError(translate: () => unknown): void {
  try {
    translate();
  } catch (error) {
    assert.ok(error instanceof CodecError, `not a CodecError: ${(error as Error).stack}`);
  }
}

const columns = [{ keyspace: 'ks', table: 't', name: 'k', type: { kind: 'int' } }] as const;
const metadata = { columnCount: 1, columns, pagingState: Buffer.of(1, 2), newMetadataId: null };
const params = queryParameters(Consistency.ONE, {
  values: [Buffer.of(1), null],
  pageSize: 10,
  defaultTimestamp: 5n,
  keyspace: 'ks',
  nowInSeconds: 3,
});
/** Valid bodies of each version, to cut short. */
const VALID: readonly [number, Buffer][] = [
  [Opcode.QUERY, encodeQuery({ query: 'SELECT * FROM t', params }, 5)],
  [Opcode.EXECUTE, encodeExecute({ id: Buffer.of(9), resultMetadataId: Buffer.of(7), params }, 5)],
  [Opcode.PREPARE, encodePrepare({ query: 'Q', keyspace: 'ks' }, 5)],
  [
    Opcode.BATCH,
    encodeBatch(
      {
        type: 0,
        children: [{ kind: 'query', query: 'INSERT INTO t (k) VALUES (1)', values: [] }],
        consistency: Consistency.ONE,
        serialConsistency: null,
        defaultTimestamp: 1n,
        keyspace: 'ks',
        nowInSeconds: 2,
      },
      5,
    ),
  ],
  [Opcode.RESULT, encodeResult({ kind: 'rows', metadata, rows: [[Buffer.of(0, 0, 0, 1)]] }, 4)],
  [
    Opcode.RESULT,
    encodeResult(
      {
        kind: 'prepared',
        id: Buffer.of(1),
        resultMetadataId: null,
        metadata: { pkIndexes: [0], columns },
        resultMetadata: metadata,
      },
      4,
    ),
  ],
  [
    Opcode.ERROR,
    encodeError(
      {
        kind: 'read_failure',
        code: ErrorCode.READ_FAILURE,
        message: 'm',
        consistency: 1,
        received: 0,
        blockFor: 1,
        numFailures: 3,
        reasons: null,
        dataPresent: false,
      },
      4,
    ),
  ],
];

describe('bridge translations on hostile input', () => {
  for (const [name, translate, opcodes] of translations) {
    test(`${name}: random bytes translate or fail with a CodecError`, () => {
      fc.assert(
        fc.property(
          fc.constantFrom(...opcodes),
          fc.constantFrom(...FLAGS),
          fc.uint8Array({ maxLength: 64 }),
          (opcode, flags, bytes) =>
            translatesOrCodecError(() => translate(opcode, Buffer.from(bytes), flags)),
        ),
        { numRuns: 2000 },
      );
    });
  }

  test('valid bodies cut at every offset translate or fail with a CodecError', () => {
    for (const [opcode, body] of VALID) {
      for (let cut = 0; cut < body.length; cut++) {
        const short = body.subarray(0, cut);
        for (const [, translate, opcodes] of translations) {
          if (!opcodes.includes(opcode)) continue;
          translatesOrCodecError(() => translate(opcode, short, 0));
        }
      }
    }
  });
});
