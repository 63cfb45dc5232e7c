import { messageOffset } from '../frame/envelope.js';
import { Opcode } from '../frame/frame-header.js';
import type { ProtocolVersion } from '../protocol-version.js';
import { scanRequest } from './request-layout.js';
import { spliceFields } from './splice-fields.js';

/**
 * Rewrites the statement texts of a QUERY or PREPARE (their one [long string], spec v4 §4.1.4,
 * §4.1.5) or of a BATCH's query children (§4.1.7), copying the rest of the body in slices. `replace` receives each text
 * with its position among the body's texts and returns the new text, or null to keep it. Returns
 * the input buffer itself when no text changes.
 */
export function withQueryText(
  body: Buffer,
  opcode: number,
  version: ProtocolVersion,
  replace: (text: string, index: number) => string | null,
  frameFlags = 0,
): Buffer {
  const offsets =
    opcode === Opcode.PREPARE
      ? [messageOffset(body, frameFlags, false, version)]
      : scanRequest(body, opcode, version, frameFlags).queryOffsets;
  return spliceFields(body, offsets, 4, 'query string', (bytes, index) => {
    const text = replace(bytes.toString('utf8'), index);
    return text === null ? null : Buffer.from(text, 'utf8');
  });
}
