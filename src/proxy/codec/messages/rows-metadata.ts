import { CodecError } from '../codec-error.js';
import type { Reader } from '../primitives/reader.js';
import type { Writer } from '../primitives/writer.js';
import type { ProtocolVersion } from '../protocol-version.js';
import { type DataType, readDataType, writeDataType } from './data-type.js';

/** <flags> of rows metadata (spec v4 §4.2.5.2; METADATA_CHANGED is v5). */
export const RowsFlag = {
  GLOBAL_TABLES_SPEC: 0x0001,
  HAS_MORE_PAGES: 0x0002,
  NO_METADATA: 0x0004,
  METADATA_CHANGED: 0x0008,
} as const;

export interface ColumnSpec {
  readonly keyspace: string;
  readonly table: string;
  readonly name: string;
  readonly type: DataType;
}

/** <metadata> of a Rows result, and the <result_metadata> of a Prepared result. */
export interface RowsMetadata {
  readonly columnCount: number;
  /** null when the No_metadata flag is set. */
  readonly columns: readonly ColumnSpec[] | null;
  /** Present exactly when Has_more_pages is set. */
  readonly pagingState: Buffer | null;
  /** v5: present when Metadata_changed is set. */
  readonly newMetadataId: Buffer | null;
}

/** <metadata> of a Prepared result: the bind markers (spec v4 §4.2.5.4). */
export interface PreparedMetadata {
  /** Bind marker index of each partition key column, in key order (v4+; empty in v3). */
  readonly pkIndexes: readonly number[];
  readonly columns: readonly ColumnSpec[];
}

/** Minimal size of a column spec (name [string] + type [option]), to bound column counts. */
const MIN_COLUMN_SPEC_BYTES = 4;

export function readRowsMetadata(reader: Reader, version: ProtocolVersion): RowsMetadata {
  const flags = reader.readInt('metadata flags');
  const columnCount = reader.readInt('column count');
  if (columnCount < 0) throw new CodecError(`bad column count ${columnCount}`, { field: 'column count' });
  const pagingState = flags & RowsFlag.HAS_MORE_PAGES ? reader.readBytes('paging state') : null;
  const newMetadataId =
    version >= 5 && flags & RowsFlag.METADATA_CHANGED ? reader.readShortBytes('new metadata id') : null;
  if (flags & RowsFlag.NO_METADATA) return { columnCount, columns: null, pagingState, newMetadataId };
  return { columnCount, columns: readColumns(reader, flags, columnCount), pagingState, newMetadataId };
}

export function writeRowsMetadata(writer: Writer, metadata: RowsMetadata, version: ProtocolVersion): void {
  const { columns, pagingState, newMetadataId } = metadata;
  if (columns !== null && columns.length !== metadata.columnCount) {
    throw new CodecError('columnCount must equal the number of columns', { field: 'column count' });
  }
  if (newMetadataId !== null && version < 5) {
    throw new CodecError('a new metadata id needs protocol v5', { field: 'new metadata id' });
  }
  const global = columns !== null && sharesOneTable(columns);
  let flags = 0;
  if (global) flags |= RowsFlag.GLOBAL_TABLES_SPEC;
  if (pagingState !== null) flags |= RowsFlag.HAS_MORE_PAGES;
  if (columns === null) flags |= RowsFlag.NO_METADATA;
  if (newMetadataId !== null) flags |= RowsFlag.METADATA_CHANGED;
  writer.writeInt(flags, 'metadata flags').writeInt(metadata.columnCount, 'column count');
  if (pagingState !== null) writer.writeBytes(pagingState, 'paging state');
  if (newMetadataId !== null) writer.writeShortBytes(newMetadataId, 'new metadata id');
  if (columns !== null) writeColumns(writer, columns, global);
}

export function readPreparedMetadata(reader: Reader, version: ProtocolVersion): PreparedMetadata {
  const flags = reader.readInt('metadata flags');
  const columnCount = reader.readCount('column count', MIN_COLUMN_SPEC_BYTES);
  const pkIndexes: number[] = [];
  if (version >= 4) {
    const pkCount = reader.readCount('pk count', 2);
    for (let i = 0; i < pkCount; i++) pkIndexes.push(reader.readShort('pk index'));
  }
  return { pkIndexes, columns: readColumns(reader, flags, columnCount) };
}

export function writePreparedMetadata(
  writer: Writer,
  metadata: PreparedMetadata,
  version: ProtocolVersion,
): void {
  const global = sharesOneTable(metadata.columns);
  writer.writeInt(global ? RowsFlag.GLOBAL_TABLES_SPEC : 0, 'metadata flags');
  writer.writeInt(metadata.columns.length, 'column count');
  if (version >= 4) {
    writer.writeInt(metadata.pkIndexes.length, 'pk count');
    for (const index of metadata.pkIndexes) writer.writeShort(index, 'pk index');
  }
  writeColumns(writer, metadata.columns, global);
}

function readColumns(reader: Reader, flags: number, columnCount: number): ColumnSpec[] {
  if (columnCount * MIN_COLUMN_SPEC_BYTES > reader.remaining) {
    throw new CodecError(`bad column count ${columnCount}`, { field: 'column count', offset: reader.offset });
  }
  const global = (flags & RowsFlag.GLOBAL_TABLES_SPEC) !== 0;
  const globalKeyspace = global ? reader.readString('global keyspace') : '';
  const globalTable = global ? reader.readString('global table') : '';
  const columns: ColumnSpec[] = [];
  for (let i = 0; i < columnCount; i++) {
    const keyspace = global ? globalKeyspace : reader.readString('column keyspace');
    const table = global ? globalTable : reader.readString('column table');
    const name = reader.readString('column name');
    columns.push({ keyspace, table, name, type: readDataType(reader) });
  }
  return columns;
}

function writeColumns(writer: Writer, columns: readonly ColumnSpec[], global: boolean): void {
  if (global) writer.writeString(columns[0]!.keyspace).writeString(columns[0]!.table);
  for (const column of columns) {
    if (!global) writer.writeString(column.keyspace).writeString(column.table);
    writer.writeString(column.name, 'column name');
    writeDataType(writer, column.type);
  }
}

/** The Global_tables_spec form is used whenever all columns come from one table. */
function sharesOneTable(columns: readonly ColumnSpec[]): boolean {
  const first = columns[0];
  return (
    first !== undefined && columns.every((c) => c.keyspace === first.keyspace && c.table === first.table)
  );
}
