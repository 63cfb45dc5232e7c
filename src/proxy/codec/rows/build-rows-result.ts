import { CodecError } from '../codec-error.js';
import { encodeResult } from '../messages/result.js';
import type { ColumnSpec } from '../messages/rows-metadata.js';
import type { ProtocolVersion } from '../protocol-version.js';
import { type CellValue, encodeCell } from './cells.js';

export interface BuildRowsOptions {
  /** Sets Has_more_pages with this paging state. */
  readonly pagingState?: Buffer;
}

/**
 * The body of a RESULT of kind Rows built from JavaScript values, for results the proxy answers
 * itself (system.local, system.peers). Cells are encoded with encodeCell.
 */
export function buildRowsResult(
  columns: readonly ColumnSpec[],
  rows: readonly (readonly CellValue[])[],
  version: ProtocolVersion,
  options: BuildRowsOptions = {},
): Buffer {
  const rawRows = rows.map((row, r) => {
    if (row.length !== columns.length) {
      throw new CodecError(`row ${r} has ${row.length} cells, expected ${columns.length}`, { field: 'row' });
    }
    return row.map((value, c) => encodeCell(columns[c]!.type, value, version));
  });
  return encodeResult(
    {
      kind: 'rows',
      metadata: {
        columnCount: columns.length,
        columns,
        pagingState: options.pagingState ?? null,
        newMetadataId: null,
      },
      rows: rawRows,
    },
    version,
  );
}
