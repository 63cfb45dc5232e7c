import { CodecError, decoding } from '../codec-error.js';
import { FrameFlag, Opcode } from '../frame/frame-header.js';
import { QueryFlag } from '../messages/query-parameters.js';
import { Reader } from '../primitives/reader.js';
import type { ProtocolVersion } from '../protocol-version.js';

/**
 * Where the fields the proxy rewrites sit in a QUERY, EXECUTE or BATCH body, found by skipping
 * over everything else without decoding it (no strings or values are materialised).
 */
export interface RequestLayout {
  /** Offset of the <flags> field. */
  readonly flagsOffset: number;
  /** [byte] up to v4, [int] from v5. */
  readonly flagsWidth: 1 | 4;
  readonly flags: number;
  /** Offset of <timestamp> when the flag is set, or where it must be inserted. */
  readonly timestampOffset: number;
  /** Offsets of the [short bytes] prepared ids (at their length prefix): EXECUTE's, or BATCH children's. */
  readonly preparedIdOffsets: readonly number[];
  /** Offset of a v5 EXECUTE's [short bytes] <result_metadata_id> (at its length prefix); null otherwise. */
  readonly resultMetadataIdOffset: number | null;
  /** Offsets of the [long string] statement texts (at their length prefix): QUERY's, or BATCH query children's. */
  readonly queryOffsets: readonly number[];
}

/** Scans a request body; `frameFlags` tells whether a custom payload precedes the message (v4+). */
export function scanRequest(
  body: Buffer,
  opcode: number,
  version: ProtocolVersion,
  frameFlags = 0,
): RequestLayout {
  return decoding('request layout', () => {
    const reader = new Reader(body);
    if (version >= 4 && frameFlags & FrameFlag.CUSTOM_PAYLOAD) reader.readBytesMap('custom payload');
    const ids = {
      preparedIdOffsets: [] as number[],
      queryOffsets: [] as number[],
      resultMetadataIdOffset: null as number | null,
    };
    switch (opcode) {
      case Opcode.QUERY:
        ids.queryOffsets.push(reader.offset);
        skipLongString(reader);
        return scanParameters(reader, version, ids, false);
      case Opcode.EXECUTE:
        ids.preparedIdOffsets.push(reader.offset);
        reader.skip(reader.readShort('prepared id'), 'prepared id');
        if (version >= 5) {
          ids.resultMetadataIdOffset = reader.offset;
          reader.skip(reader.readShort('result metadata id'), 'result metadata id');
        }
        return scanParameters(reader, version, ids, false);
      case Opcode.BATCH: {
        reader.skip(1, 'batch type');
        const count = reader.readShort('child count');
        for (let i = 0; i < count; i++) {
          const kind = reader.readByte('child kind');
          if (kind === 1) {
            ids.preparedIdOffsets.push(reader.offset);
            reader.skip(reader.readShort('prepared id'), 'prepared id');
          } else if (kind === 0) {
            ids.queryOffsets.push(reader.offset);
            skipLongString(reader);
          } else {
            throw new CodecError(`bad batch child kind ${kind}`, {
              field: 'child kind',
              offset: reader.offset - 1,
            });
          }
          const values = reader.readShort('value count');
          for (let j = 0; j < values; j++) skipValue(reader);
        }
        return scanParameters(reader, version, ids, true);
      }
      default:
        throw new CodecError(`opcode 0x${opcode.toString(16)} has no query parameters`, { field: 'opcode' });
    }
  });
}

/** Skips <consistency><flags>... up to the timestamp position (spec v4 §4.1.4, §4.1.7). */
function scanParameters(
  reader: Reader,
  version: ProtocolVersion,
  ids: Pick<RequestLayout, 'preparedIdOffsets' | 'queryOffsets' | 'resultMetadataIdOffset'>,
  batch: boolean,
): RequestLayout {
  reader.skip(2, 'consistency');
  const flagsOffset = reader.offset;
  const flagsWidth = version >= 5 ? 4 : 1;
  const flags = flagsWidth === 4 ? reader.readInt('flags') : reader.readByte('flags');
  if (!batch) {
    if (flags & QueryFlag.VALUES) {
      const n = reader.readShort('value count');
      for (let i = 0; i < n; i++) {
        if (flags & QueryFlag.WITH_NAMES_FOR_VALUES)
          reader.skip(reader.readShort('value name'), 'value name');
        skipValue(reader);
      }
    }
    if (flags & QueryFlag.PAGE_SIZE) reader.skip(4, 'page size');
    if (flags & QueryFlag.WITH_PAGING_STATE) skipValue(reader);
  }
  if (flags & QueryFlag.WITH_SERIAL_CONSISTENCY) reader.skip(2, 'serial consistency');
  const timestampOffset = reader.offset;
  if (flags & QueryFlag.WITH_DEFAULT_TIMESTAMP) reader.skip(8, 'default timestamp');
  return { flagsOffset, flagsWidth, flags, timestampOffset, ...ids };
}

function skipLongString(reader: Reader): void {
  const at = reader.offset;
  const n = reader.readInt('query string');
  if (n < 0) throw new CodecError(`negative length ${n}`, { field: 'query string', offset: at });
  reader.skip(n, 'query string');
}

/** Skips a [value]/[bytes]: negative lengths carry no bytes. */
function skipValue(reader: Reader): void {
  const n = reader.readInt('value');
  if (n > 0) reader.skip(n, 'value');
}
