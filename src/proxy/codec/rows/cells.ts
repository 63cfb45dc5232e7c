import { CodecError, decoding } from '../codec-error.js';
import type { DataType } from '../messages/data-type.js';
import { formatInetAddress, parseInetAddress } from '../primitives/inet-address.js';
import { Reader } from '../primitives/reader.js';
import { formatUuid, parseUuid } from '../primitives/uuid.js';
import { Writer } from '../primitives/writer.js';
import type { ProtocolVersion } from '../protocol-version.js';

/**
 * JavaScript values for the handful of CQL types the proxy's own system.local / system.peers
 * answers need (spec v4 §6): text/ascii → string, uuid/timeuuid → UUID text, inet → address text,
 * int → number, bigint/counter → bigint, boolean, blob → Buffer, list/set → array, map → Map.
 */
export type CellValue =
  | string
  | number
  | bigint
  | boolean
  | Buffer
  | readonly CellValue[]
  | ReadonlyMap<CellValue, CellValue>
  | null;

/** Serialises one cell; a Buffer is taken as already serialised, null stays null. */
export function encodeCell(type: DataType, value: CellValue, version: ProtocolVersion): Buffer | null {
  if (value === null) return null;
  if (Buffer.isBuffer(value)) return value;
  const mismatch = (): CodecError =>
    new CodecError(`cannot encode ${typeof value} as ${type.kind}`, { field: `${type.kind} cell` });
  switch (type.kind) {
    case 'ascii':
    case 'varchar': {
      if (typeof value !== 'string') throw mismatch();
      const bytes = Buffer.from(value, 'utf8');
      // ascii is limited to [0, 127] (spec v4 §6.1): any other character takes more than one byte.
      if (type.kind === 'ascii' && bytes.length !== value.length) throw mismatch();
      return bytes;
    }
    case 'uuid':
    case 'timeuuid':
      if (typeof value !== 'string') throw mismatch();
      return parseUuid(value);
    case 'inet':
      if (typeof value !== 'string') throw mismatch();
      return parseInetAddress(value);
    case 'int': {
      if (typeof value !== 'number') throw mismatch();
      return new Writer(4).writeInt(value, 'int cell').toBuffer();
    }
    case 'bigint':
    case 'counter': {
      if (typeof value !== 'bigint') throw mismatch();
      return new Writer(8).writeLong(value, 'bigint cell').toBuffer();
    }
    case 'boolean':
      if (typeof value !== 'boolean') throw mismatch();
      return Buffer.from([value ? 1 : 0]);
    case 'list':
    case 'set': {
      if (!Array.isArray(value)) throw mismatch();
      const elements = value as readonly CellValue[];
      // Collections since v3: an [int] count, then each element as [bytes] (spec v4 §6.10, §6.12).
      const writer = new Writer(64).writeInt(elements.length, 'collection size');
      for (const element of elements) writer.writeBytes(encodeCell(type.element, element, version));
      return writer.toBuffer();
    }
    case 'map': {
      if (!(value instanceof Map)) throw mismatch();
      const writer = new Writer(64).writeInt(value.size, 'map size');
      for (const [key, item] of value) {
        writer
          .writeBytes(encodeCell(type.key, key, version))
          .writeBytes(encodeCell(type.value, item, version));
      }
      return writer.toBuffer();
    }
    default:
      throw new CodecError(`no cell encoder for ${type.kind}; pass serialised bytes`, { field: 'cell type' });
  }
}

/** The inverse of encodeCell for the same types; other types come back as their raw Buffer. */
export function decodeCell(type: DataType, bytes: Buffer | null, version: ProtocolVersion): CellValue {
  if (bytes === null) return null;
  return decoding(`${type.kind} cell`, () => decodeCellBytes(type, bytes, version));
}

function decodeCellBytes(type: DataType, bytes: Buffer, version: ProtocolVersion): CellValue {
  const reader = new Reader(bytes);
  switch (type.kind) {
    case 'ascii':
      return bytes.toString('latin1');
    case 'varchar':
      return bytes.toString('utf8');
    case 'uuid':
    case 'timeuuid':
      return formatUuid(bytes);
    case 'inet':
      return formatInetAddress(bytes);
    case 'int':
      return reader.readInt('int cell');
    case 'bigint':
    case 'counter':
      return reader.readLong('bigint cell');
    case 'boolean':
      return reader.readByte('boolean cell') !== 0;
    case 'list':
    case 'set': {
      const n = reader.readCount('collection size', 4);
      const elements: CellValue[] = [];
      for (let i = 0; i < n; i++)
        elements.push(decodeCell(type.element, reader.readBytes('element'), version));
      return elements;
    }
    case 'map': {
      const n = reader.readCount('map size', 8);
      const map = new Map<CellValue, CellValue>();
      for (let i = 0; i < n; i++) {
        const key = decodeCell(type.key, reader.readBytes('map key'), version);
        map.set(key, decodeCell(type.value, reader.readBytes('map value'), version));
      }
      return map;
    }
    default:
      return bytes;
  }
}
