import { CodecError, decoding } from '../codec-error.js';
import { Reader } from '../primitives/reader.js';
import type { Value } from '../primitives/value.js';
import { Writer } from '../primitives/writer.js';
import type { ProtocolVersion } from '../protocol-version.js';
import { QueryFlag, readQueryFlags, writeQueryFlags } from './query-parameters.js';

/** <type> of a BATCH (spec v4 §4.1.7). */
export const BatchType = { LOGGED: 0, UNLOGGED: 1, COUNTER: 2 } as const;

/** <kind> of a batch child: a query string or a prepared id. */
export const BatchChildKind = { QUERY: 0, PREPARED: 1 } as const;

export type BatchChild =
  | { readonly kind: 'query'; readonly query: string; readonly values: readonly Value[] }
  | { readonly kind: 'prepared'; readonly id: Buffer; readonly values: readonly Value[] };

/**
 * BATCH: <type><n><query_1>...<query_n><consistency><flags>[<serial_consistency>][<timestamp>]
 * (spec v4 §4.1.7); v5 widens flags to [int] and adds [<keyspace>][<now_in_seconds>].
 * Flag 0x40 (names for values) is refused: the spec says it cannot work (CASSANDRA-10246).
 */
export interface BatchRequest {
  readonly type: number;
  readonly children: readonly BatchChild[];
  readonly consistency: number;
  readonly serialConsistency: number | null;
  readonly defaultTimestamp: bigint | null;
  /** v5 only. */
  readonly keyspace: string | null;
  /** v5 only. */
  readonly nowInSeconds: number | null;
}

export function decodeBatch(body: Buffer, version: ProtocolVersion): BatchRequest {
  return decoding('BATCH', () => {
    const reader = new Reader(body);
    const type = reader.readByte('batch type');
    const count = reader.readShort('child count');
    const children: BatchChild[] = [];
    for (let i = 0; i < count; i++) children.push(readChild(reader, version));
    const consistency = reader.readConsistency();
    const flags = readQueryFlags(reader, version);
    if (flags & QueryFlag.WITH_NAMES_FOR_VALUES) {
      throw new CodecError('named values are not supported in BATCH', { field: 'flags' });
    }
    const v5 = version >= 5;
    return {
      type,
      children,
      consistency,
      serialConsistency:
        flags & QueryFlag.WITH_SERIAL_CONSISTENCY ? reader.readConsistency('serial consistency') : null,
      defaultTimestamp:
        flags & QueryFlag.WITH_DEFAULT_TIMESTAMP ? reader.readLong('default timestamp') : null,
      keyspace: v5 && flags & QueryFlag.WITH_KEYSPACE ? reader.readString('keyspace') : null,
      nowInSeconds: v5 && flags & QueryFlag.WITH_NOW_IN_SECONDS ? reader.readInt('now in seconds') : null,
    };
  });
}

function readChild(reader: Reader, version: ProtocolVersion): BatchChild {
  const at = reader.offset;
  const kind = reader.readByte('child kind');
  if (kind === BatchChildKind.QUERY) {
    const query = reader.readLongString('query string');
    return { kind: 'query', query, values: readValues(reader, version) };
  }
  if (kind === BatchChildKind.PREPARED) {
    const id = reader.readShortBytes('prepared id');
    return { kind: 'prepared', id, values: readValues(reader, version) };
  }
  throw new CodecError(`bad batch child kind ${kind}`, { field: 'child kind', offset: at });
}

function readValues(reader: Reader, version: ProtocolVersion): Value[] {
  const n = reader.readShort('value count');
  const values: Value[] = [];
  for (let i = 0; i < n; i++) values.push(reader.readValue(version));
  return values;
}

export function encodeBatch(message: BatchRequest, version: ProtocolVersion): Buffer {
  if (version < 5 && (message.keyspace !== null || message.nowInSeconds !== null)) {
    throw new CodecError('keyspace and now_in_seconds need protocol v5', { field: 'flags' });
  }
  const writer = new Writer(256);
  writer.writeByte(message.type, 'batch type');
  writer.writeShort(message.children.length, 'child count');
  for (const child of message.children) {
    if (child.kind === 'query') {
      writer.writeByte(BatchChildKind.QUERY).writeLongString(child.query, 'query string');
    } else {
      writer.writeByte(BatchChildKind.PREPARED).writeShortBytes(child.id, 'prepared id');
    }
    writer.writeShort(child.values.length, 'value count');
    for (const value of child.values) writer.writeValue(value, version);
  }
  writer.writeConsistency(message.consistency);
  let flags = 0;
  if (message.serialConsistency !== null) flags |= QueryFlag.WITH_SERIAL_CONSISTENCY;
  if (message.defaultTimestamp !== null) flags |= QueryFlag.WITH_DEFAULT_TIMESTAMP;
  if (message.keyspace !== null) flags |= QueryFlag.WITH_KEYSPACE;
  if (message.nowInSeconds !== null) flags |= QueryFlag.WITH_NOW_IN_SECONDS;
  writeQueryFlags(writer, flags, version);
  if (message.serialConsistency !== null) writer.writeConsistency(message.serialConsistency);
  if (message.defaultTimestamp !== null) writer.writeLong(message.defaultTimestamp, 'default timestamp');
  if (message.keyspace !== null) writer.writeString(message.keyspace, 'keyspace');
  if (message.nowInSeconds !== null) writer.writeInt(message.nowInSeconds, 'now in seconds');
  return writer.toBuffer();
}
