import {
  Consistency,
  type ErrorBody,
  ErrorCode,
  encodeQuery,
  encodeResult,
  Opcode,
  type ProtocolVersion,
  queryParameters,
  type RawFrame,
  simpleError,
} from './codec/index.js';
import { decodeRowsFrame } from './frame-reading.js';
import { unavailableError } from './proxy-errors.js';
import type { Statement } from './statement.js';
import { type SourceCell, type VirtualHost, virtualTable } from './virtual-tables.js';

/** How the proxy answers a query of a virtual system table. */
export type VirtualAnswer =
  | { readonly kind: 'result'; readonly body: Buffer }
  | { readonly kind: 'error'; readonly error: ErrorBody }
  /** Origin's own error, relayed as it is. */
  | { readonly kind: 'relay'; readonly frame: RawFrame };

export interface VirtualTopology {
  readonly hosts: readonly VirtualHost[];
  readonly self: number;
  readonly port: number;
}

/** The internal request the answer is built from: Origin's own system.local row. */
export function originLocalQuery(version: ProtocolVersion): Buffer {
  return encodeQuery(
    { query: 'SELECT * FROM system.local', params: queryParameters(Consistency.ONE) },
    version,
  );
}

/**
 * system.local / system.peers from Origin's system.local (`origin`, the answer to originLocalQuery)
 * with the virtual hosts' addresses and tokens; system.peers_v2 is refused so drivers fall back
 * to system.peers, as with Cassandra before 4.0.
 */
export function virtualAnswer(
  table: 'local' | 'peers' | 'peers_v2',
  statement: Statement | null,
  origin: RawFrame | Error | null,
  topology: VirtualTopology,
  version: ProtocolVersion,
): VirtualAnswer {
  if (table === 'peers_v2')
    return { kind: 'error', error: simpleError(ErrorCode.INVALID, 'unconfigured table peers_v2') };
  if (origin === null || origin instanceof Error) {
    return { kind: 'error', error: unavailableError('origin', origin?.message ?? 'no answer', false) };
  }
  if (origin.header.opcode === Opcode.ERROR) return { kind: 'relay', frame: origin };
  const rows = decodeRowsFrame(origin, version);
  const source = new Map<string, SourceCell>();
  for (const [i, column] of (rows.metadata.columns ?? []).entries()) {
    source.set(column.name, { type: column.type, cell: rows.rows[0]?.[i] ?? null });
  }
  const columns = statement?.kind === 'select' ? statement.columns : '*';
  const answer = virtualTable({ table, source, ...topology, columns, version });
  if (answer.kind === 'error')
    return { kind: 'error', error: simpleError(ErrorCode.INVALID, answer.message) };
  const metadata = {
    columnCount: answer.columns.length,
    columns: answer.columns,
    pagingState: null,
    newMetadataId: null,
  };
  return { kind: 'result', body: encodeResult({ kind: 'rows', metadata, rows: answer.rows }, version) };
}
