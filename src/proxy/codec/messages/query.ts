import { decoding } from '../codec-error.js';
import { Reader } from '../primitives/reader.js';
import { Writer } from '../primitives/writer.js';
import type { ProtocolVersion } from '../protocol-version.js';
import { type QueryParameters, readQueryParameters, writeQueryParameters } from './query-parameters.js';

/** QUERY: <query><query_parameters> (spec v4 §4.1.4). */
export interface QueryRequest {
  readonly query: string;
  readonly params: QueryParameters;
}

export function decodeQuery(body: Buffer, version: ProtocolVersion): QueryRequest {
  return decoding('QUERY', () => {
    const reader = new Reader(body);
    const query = reader.readLongString('query string');
    return { query, params: readQueryParameters(reader, version) };
  });
}

export function encodeQuery(message: QueryRequest, version: ProtocolVersion): Buffer {
  const writer = new Writer(64 + message.query.length);
  writer.writeLongString(message.query, 'query string');
  writeQueryParameters(writer, message.params, version);
  return writer.toBuffer();
}
