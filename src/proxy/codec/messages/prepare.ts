import { CodecError, decoding } from '../codec-error.js';
import { Reader } from '../primitives/reader.js';
import { Writer } from '../primitives/writer.js';
import type { ProtocolVersion } from '../protocol-version.js';

/** PREPARE flag (v5 only): a keyspace follows. */
const PREPARE_WITH_KEYSPACE = 0x01;

/** PREPARE: <query> (spec v4 §4.1.5); v5 adds <flags>[<keyspace>]. */
export interface PrepareRequest {
  readonly query: string;
  /** v5 only. */
  readonly keyspace: string | null;
}

export function decodePrepare(body: Buffer, version: ProtocolVersion): PrepareRequest {
  return decoding('PREPARE', () => {
    const reader = new Reader(body);
    const query = reader.readLongString('query string');
    if (version < 5) return { query, keyspace: null };
    const flags = reader.readInt('flags');
    return { query, keyspace: flags & PREPARE_WITH_KEYSPACE ? reader.readString('keyspace') : null };
  });
}

export function encodePrepare(message: PrepareRequest, version: ProtocolVersion): Buffer {
  const writer = new Writer(16 + message.query.length);
  writer.writeLongString(message.query, 'query string');
  if (version >= 5) {
    writer.writeInt(message.keyspace === null ? 0 : PREPARE_WITH_KEYSPACE, 'flags');
    if (message.keyspace !== null) writer.writeString(message.keyspace, 'keyspace');
  } else if (message.keyspace !== null) {
    throw new CodecError('PREPARE with a keyspace needs protocol v5', { field: 'keyspace' });
  }
  return writer.toBuffer();
}
