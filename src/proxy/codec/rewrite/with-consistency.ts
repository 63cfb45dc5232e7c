import type { ConsistencyLevel } from '../primitives/consistency.js';
import type { ProtocolVersion } from '../protocol-version.js';
import { scanRequest } from './request-layout.js';

/**
 * Gives a QUERY, EXECUTE or BATCH body another <consistency>. In all three the [short]
 * consistency sits just before <flags> (spec v4 §4.1.4, §4.1.6, §4.1.7; v5 likewise, its flags
 * widened to an [int]), so the layout's flags offset finds it whatever the version. The serial
 * consistency is left as the client sent it. Returns the input buffer itself when it already
 * carries that consistency.
 */
export function withConsistency(
  body: Buffer,
  opcode: number,
  version: ProtocolVersion,
  consistency: ConsistencyLevel,
  frameFlags = 0,
): Buffer {
  const at = scanRequest(body, opcode, version, frameFlags).flagsOffset - 2;
  if (body.readUInt16BE(at) === consistency) return body;
  const out = Buffer.from(body);
  out.writeUInt16BE(consistency, at);
  return out;
}
