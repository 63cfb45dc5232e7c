import { CodecError, decoding } from '../codec-error.js';
import { Reader } from '../primitives/reader.js';
import { Writer } from '../primitives/writer.js';
import type { ProtocolVersion } from '../protocol-version.js';
import { type QueryParameters, readQueryParameters, writeQueryParameters } from './query-parameters.js';

/** EXECUTE: <id><query_parameters> (spec v4 §4.1.6); v5 puts <result_metadata_id> after the id. */
export interface ExecuteRequest {
  readonly id: Buffer;
  /** v5 only (required there). */
  readonly resultMetadataId: Buffer | null;
  readonly params: QueryParameters;
}

export function decodeExecute(body: Buffer, version: ProtocolVersion): ExecuteRequest {
  return decoding('EXECUTE', () => {
    const reader = new Reader(body);
    const id = reader.readShortBytes('prepared id');
    const resultMetadataId = version >= 5 ? reader.readShortBytes('result metadata id') : null;
    return { id, resultMetadataId, params: readQueryParameters(reader, version) };
  });
}

export function encodeExecute(message: ExecuteRequest, version: ProtocolVersion): Buffer {
  const writer = new Writer(64 + message.id.length);
  writer.writeShortBytes(message.id, 'prepared id');
  if (version >= 5) {
    if (message.resultMetadataId === null) {
      throw new CodecError('EXECUTE needs a result metadata id in v5', { field: 'result metadata id' });
    }
    writer.writeShortBytes(message.resultMetadataId, 'result metadata id');
  }
  writeQueryParameters(writer, message.params, version);
  return writer.toBuffer();
}
