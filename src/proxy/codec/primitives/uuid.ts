import { CodecError } from '../codec-error.js';

/** Formats 16 bytes as the canonical lower-case `8-4-4-4-12` UUID text. */
export function formatUuid(bytes: Buffer): string {
  if (bytes.length !== 16)
    throw new CodecError(`uuid must have 16 bytes, got ${bytes.length}`, { field: 'uuid' });
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Parses UUID text (with or without dashes) to its 16 bytes. */
export function parseUuid(text: string): Buffer {
  const hex = text.replaceAll('-', '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) {
    throw new CodecError(`not a UUID: ${JSON.stringify(text)}`, { field: 'uuid' });
  }
  return Buffer.from(hex, 'hex');
}
