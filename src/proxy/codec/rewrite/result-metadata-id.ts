import { CodecError, decoding } from '../codec-error.js';
import { Opcode } from '../frame/frame-header.js';
import { ResultKind } from '../messages/result.js';
import { RowsFlag } from '../messages/rows-metadata.js';
import { Reader } from '../primitives/reader.js';
import type { ProtocolVersion } from '../protocol-version.js';
import { scanRequest } from './request-layout.js';
import { spliceFields } from './splice-fields.js';

/**
 * The v5 result metadata id (spec v5 §4.1.6, §4.2.5.2, §4.2.5.4): a PREPARED answer gives one, an
 * EXECUTE carries it back, and a ROWS answer whose columns differ from it sets Metadata_changed
 * (0x0008) and carries the new one with the full metadata.
 */

/** The <result_metadata_id> of a v5 EXECUTE body; null before v5 (the field does not exist). */
export function executeResultMetadataId(
  body: Buffer,
  version: ProtocolVersion,
  frameFlags = 0,
): Buffer | null {
  const at = scanRequest(body, Opcode.EXECUTE, version, frameFlags).resultMetadataIdOffset;
  return at === null ? null : body.subarray(at + 2, at + 2 + body.readUInt16BE(at));
}

/**
 * A v5 EXECUTE body with another <result_metadata_id>; the input buffer itself when the id is
 * already `id`. Before v5 there is no such field: asking to set one is a caller's mistake.
 */
export function withResultMetadataId(
  body: Buffer,
  version: ProtocolVersion,
  id: Buffer,
  frameFlags = 0,
): Buffer {
  const at = scanRequest(body, Opcode.EXECUTE, version, frameFlags).resultMetadataIdOffset;
  if (at === null) {
    throw new CodecError(`an EXECUTE has no result metadata id in v${version}`, {
      field: 'result metadata id',
    });
  }
  return spliceFields(body, [at], 2, 'result metadata id', (old) => (old.equals(id) ? null : id));
}

/**
 * The <new_metadata_id> of a RESULT message (after its envelope) of kind ROWS with Metadata_changed
 * set; null for any other result, for a ROWS answer without the flag, and before v5.
 */
export function newResultMetadataId(message: Buffer, version: ProtocolVersion): Buffer | null {
  if (version < 5) return null;
  return decoding('RESULT', () => {
    const reader = new Reader(message);
    if (reader.readInt('result kind') !== ResultKind.ROWS) return null;
    const flags = reader.readInt('metadata flags');
    if ((flags & RowsFlag.METADATA_CHANGED) === 0) return null;
    reader.readInt('column count');
    if (flags & RowsFlag.HAS_MORE_PAGES) reader.readBytes('paging state');
    return Buffer.from(reader.readShortBytes('new metadata id'));
  });
}
