import { CodecError } from '../codec-error.js';

/**
 * Replaces length-prefixed fields of a body ([short bytes] with a 2-byte prefix, [long string]
 * with a 4-byte one) at `offsets` (each at its length prefix, in increasing order), copying the
 * rest in slices. `replace` gets each field's bytes and its position, and returns the new bytes
 * or null to keep them. Returns the input buffer itself when nothing is replaced.
 */
export function spliceFields(
  body: Buffer,
  offsets: readonly number[],
  prefixBytes: 2 | 4,
  field: string,
  replace: (bytes: Buffer, index: number) => Buffer | null,
): Buffer {
  const max = prefixBytes === 2 ? 0xffff : 0x7fffffff;
  const parts: Buffer[] = [];
  let from = 0;
  offsets.forEach((at, index) => {
    const length = prefixBytes === 2 ? body.readUInt16BE(at) : body.readInt32BE(at);
    const bytes = replace(body.subarray(at + prefixBytes, at + prefixBytes + length), index);
    if (bytes === null) return;
    if (bytes.length > max) throw new CodecError(`${field} of ${bytes.length} bytes`, { field });
    const prefix = Buffer.allocUnsafe(prefixBytes);
    if (prefixBytes === 2) prefix.writeUInt16BE(bytes.length);
    else prefix.writeInt32BE(bytes.length);
    parts.push(body.subarray(from, at), prefix, bytes);
    from = at + prefixBytes + length;
  });
  if (parts.length === 0) return body;
  parts.push(body.subarray(from));
  return Buffer.concat(parts);
}
