import {
  CodecError,
  decodeBatch,
  decodeExecute,
  decodeQuery,
  decodeResult,
  messageOffset,
  Opcode,
  openBody,
  type ProtocolVersion,
  type RawFrame,
  type Value,
} from './codec/index.js';
import type { DivergenceEntry } from './divergence-journal.js';
import { decodeErrorFrame } from './frame-reading.js';
import { boundKey, type PreparedKey, preparedKeyOf, writtenPartitionOf } from './partition-key-of.js';

/** A write request as the proxy received it, and what it takes to tell the tables it writes. */
export interface WriteRequest {
  readonly frame: RawFrame;
  readonly version: ProtocolVersion;
  /** The session's keyspace, for unqualified statements. */
  readonly keyspace: string | null;
  /** The partition key of a prepared statement by its (Origin) id, as remembered at PREPARE time. */
  readonly preparedKey: (id: Buffer) => PreparedKey | null | undefined;
  /** The text of a prepared statement by its id, for a line without a key. */
  readonly preparedText: (id: Buffer) => string | undefined;
}

/** What the journal needs to know of the request whose write diverged. */
export interface DivergedWrite extends WriteRequest {
  readonly failed: 'origin' | 'target';
  /** The failed cluster's answer: its ERROR frame, or the proxy's own failure (timeout, connection down). */
  readonly failure: RawFrame | Error | undefined;
}

/** The key of an Origin PREPARED answer (spec v4 §4.2.5.4); null when it names none or cannot be read. */
export function preparedKeyOfResult(frame: RawFrame, version: ProtocolVersion): PreparedKey | null {
  try {
    const result = decodeResult(openBody(frame.body, frame.header.flags, true, version).message, version);
    return result.kind === 'prepared' ? preparedKeyOf(result.metadata) : null;
  } catch (error) {
    if (error instanceof CodecError) return null;
    throw error;
  }
}

/** The journal lines of one diverged write: one per statement (a BATCH's children each get theirs). */
export function divergenceEntries(write: DivergedWrite, time: Date): DivergenceEntry[] {
  const base = {
    time: time.toISOString(),
    failed: write.failed,
    error: errorText(write),
  };
  return writtenStatements(write).map((statement) => ({ ...base, ...statement }));
}

/**
 * Where each statement of a write request goes (a BATCH's children each): its table and, as far
 * as the request tells, its partition key.
 */
export function writtenStatements(write: WriteRequest): (Located & Pick<DivergenceEntry, 'request'>)[] {
  const { frame, version } = write;
  const body = frame.body.subarray(messageOffset(frame.body, frame.header.flags, false, version));
  try {
    switch (frame.header.opcode) {
      case Opcode.QUERY:
        return [{ request: 'QUERY', ...fromText(decodeQuery(body, version).query, write.keyspace) }];
      case Opcode.EXECUTE: {
        const execute = decodeExecute(body, version);
        const named = execute.params.names !== null;
        return [{ request: 'EXECUTE', ...fromPrepared(write, execute.id, execute.params.values, named) }];
      }
      case Opcode.BATCH:
        return decodeBatch(body, version).children.map((child) => ({
          request: 'BATCH' as const,
          ...(child.kind === 'query'
            ? fromText(child.query, write.keyspace)
            : fromPrepared(write, child.id, child.values, false)),
        }));
      default:
        return [];
    }
  } catch (error) {
    if (!(error instanceof CodecError)) throw error;
    // The cluster that succeeded read it, so this is unlikely; the operator still learns of the write.
    return [{ request: 'QUERY', table: null, statement: `(request not readable: ${error.message})` }];
  }
}

type Located = Pick<DivergenceEntry, 'table' | 'key' | 'literals' | 'statement'>;

function fromText(text: string, sessionKeyspace: string | null): Located {
  const written = writtenPartitionOf(text);
  const keyspace = written?.keyspace ?? sessionKeyspace;
  if (written === null || keyspace === null) return { table: null, statement: text };
  const table = `${keyspace}.${written.table}`;
  // The text's literals name the key only if the reader finds every key column among them; the
  // statement is kept alongside so a line the reader cannot place still tells the operator what ran.
  return Object.keys(written.literals).length > 0
    ? { table, literals: written.literals, statement: text }
    : { table, statement: text };
}

function fromPrepared(
  write: WriteRequest,
  id: Buffer,
  values: readonly Value[] | null,
  named: boolean,
): Located {
  const key = write.preparedKey(id);
  const text = write.preparedText(id) ?? `(prepared statement 0x${id.toString('hex')})`;
  if (key === null || key === undefined) {
    const written = writtenPartitionOf(text);
    const keyspace = written?.keyspace ?? write.keyspace;
    return { table: written && keyspace !== null ? `${keyspace}.${written.table}` : null, statement: text };
  }
  const table = `${key.keyspace}.${key.table}`;
  const bound = boundKey(key, values, named);
  return bound === null ? { table, statement: text } : { table, key: bound };
}

function errorText(write: DivergedWrite): string {
  const { failure, version } = write;
  if (failure === undefined) return 'no answer';
  if (failure instanceof Error) return failure.message;
  try {
    return decodeErrorFrame(failure, version).message;
  } catch {
    return `an answer the proxy could not read (opcode 0x${failure.header.opcode.toString(16)})`;
  }
}
