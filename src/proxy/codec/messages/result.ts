import { CodecError, decoding } from '../codec-error.js';
import { Reader } from '../primitives/reader.js';
import { Writer } from '../primitives/writer.js';
import type { ProtocolVersion } from '../protocol-version.js';
import {
  type PreparedMetadata,
  type RowsMetadata,
  readPreparedMetadata,
  readRowsMetadata,
  writePreparedMetadata,
  writeRowsMetadata,
} from './rows-metadata.js';
import { readSchemaChange, type SchemaChange, writeSchemaChange } from './schema-change.js';

/** RESULT <kind> (spec v4 §4.2.5). */
export const ResultKind = {
  VOID: 0x0001,
  ROWS: 0x0002,
  SET_KEYSPACE: 0x0003,
  PREPARED: 0x0004,
  SCHEMA_CHANGE: 0x0005,
} as const;

/** One row: a cell per column, as raw [bytes] (null for a null cell). */
export type RawRow = readonly (Buffer | null)[];

export interface VoidResult {
  readonly kind: 'void';
}
export interface RowsResult {
  readonly kind: 'rows';
  readonly metadata: RowsMetadata;
  readonly rows: readonly RawRow[];
}
export interface SetKeyspaceResult {
  readonly kind: 'set_keyspace';
  readonly keyspace: string;
}
export interface PreparedResult {
  readonly kind: 'prepared';
  readonly id: Buffer;
  /** v5 only. */
  readonly resultMetadataId: Buffer | null;
  readonly metadata: PreparedMetadata;
  readonly resultMetadata: RowsMetadata;
}
export interface SchemaChangeResult {
  readonly kind: 'schema_change';
  readonly change: SchemaChange;
}

export type Result = VoidResult | RowsResult | SetKeyspaceResult | PreparedResult | SchemaChangeResult;

/** Rows with zero columns take no bytes, so their count is bounded separately. */
const MAX_EMPTY_ROWS = 0xffff;

/** The <kind> of a RESULT body, without decoding the rest. */
export function peekResultKind(body: Buffer): number {
  return decoding('RESULT', () => new Reader(body).readInt('result kind'));
}

export function decodeResult(body: Buffer, version: ProtocolVersion): Result {
  return decoding('RESULT', (): Result => {
    const reader = new Reader(body);
    const at = reader.offset;
    const kind = reader.readInt('result kind');
    switch (kind) {
      case ResultKind.VOID:
        return { kind: 'void' };
      case ResultKind.ROWS:
        return readRows(reader, version);
      case ResultKind.SET_KEYSPACE:
        return { kind: 'set_keyspace', keyspace: reader.readString('keyspace') };
      case ResultKind.PREPARED: {
        const id = reader.readShortBytes('prepared id');
        const resultMetadataId = version >= 5 ? reader.readShortBytes('result metadata id') : null;
        const metadata = readPreparedMetadata(reader, version);
        return {
          kind: 'prepared',
          id,
          resultMetadataId,
          metadata,
          resultMetadata: readRowsMetadata(reader, version),
        };
      }
      case ResultKind.SCHEMA_CHANGE:
        return { kind: 'schema_change', change: readSchemaChange(reader) };
      default:
        throw new CodecError(`unknown result kind ${kind}`, { field: 'result kind', offset: at });
    }
  });
}

function readRows(reader: Reader, version: ProtocolVersion): RowsResult {
  const metadata = readRowsMetadata(reader, version);
  const columns = metadata.columnCount;
  const at = reader.offset;
  const rowCount = reader.readInt('row count');
  const fits = columns === 0 ? rowCount <= MAX_EMPTY_ROWS : rowCount * columns * 4 <= reader.remaining;
  if (rowCount < 0 || !fits)
    throw new CodecError(`bad row count ${rowCount}`, { field: 'row count', offset: at });
  const rows: RawRow[] = [];
  for (let i = 0; i < rowCount; i++) {
    const row: (Buffer | null)[] = [];
    for (let j = 0; j < columns; j++) row.push(reader.readBytes('cell'));
    rows.push(row);
  }
  return { kind: 'rows', metadata, rows };
}

export function encodeResult(result: Result, version: ProtocolVersion): Buffer {
  const writer = new Writer(256);
  switch (result.kind) {
    case 'void':
      writer.writeInt(ResultKind.VOID);
      break;
    case 'rows':
      writer.writeInt(ResultKind.ROWS);
      writeRows(writer, result, version);
      break;
    case 'set_keyspace':
      writer.writeInt(ResultKind.SET_KEYSPACE).writeString(result.keyspace, 'keyspace');
      break;
    case 'prepared':
      writer.writeInt(ResultKind.PREPARED).writeShortBytes(result.id, 'prepared id');
      if (version >= 5) {
        if (result.resultMetadataId === null) {
          throw new CodecError('a prepared result needs a result metadata id in v5', {
            field: 'result metadata id',
          });
        }
        writer.writeShortBytes(result.resultMetadataId, 'result metadata id');
      }
      writePreparedMetadata(writer, result.metadata, version);
      writeRowsMetadata(writer, result.resultMetadata, version);
      break;
    case 'schema_change':
      writer.writeInt(ResultKind.SCHEMA_CHANGE);
      writeSchemaChange(writer, result.change);
      break;
  }
  return writer.toBuffer();
}

function writeRows(writer: Writer, result: RowsResult, version: ProtocolVersion): void {
  writeRowsMetadata(writer, result.metadata, version);
  writer.writeInt(result.rows.length, 'row count');
  for (const row of result.rows) {
    if (row.length !== result.metadata.columnCount) {
      throw new CodecError(`row has ${row.length} cells, expected ${result.metadata.columnCount}`, {
        field: 'row',
      });
    }
    for (const cell of row) writer.writeBytes(cell, 'cell');
  }
}
