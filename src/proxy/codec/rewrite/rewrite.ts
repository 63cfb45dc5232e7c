import { CodecError } from '../codec-error.js';
import { QueryFlag } from '../messages/query-parameters.js';
import type { ProtocolVersion } from '../protocol-version.js';
import { scanRequest } from './request-layout.js';
import { spliceFields } from './splice-fields.js';

export interface DefaultTimestampOptions {
  /** Header flags of the frame, to skip a custom payload (v4+). */
  readonly frameFlags?: number;
  /** Replace a timestamp the client already sent; by default the client's is kept. */
  readonly replace?: boolean;
}

/**
 * Gives a QUERY, EXECUTE or BATCH body a default timestamp (microseconds), so that both clusters
 * apply a write with the same timestamp. One copy of the body; nothing else is decoded.
 * Returns the input buffer itself when the client's own timestamp is kept.
 */
export function withDefaultTimestamp(
  body: Buffer,
  opcode: number,
  version: ProtocolVersion,
  timestamp: bigint,
  options: DefaultTimestampOptions = {},
): Buffer {
  if (timestamp < 0n || timestamp >= 2n ** 63n) {
    throw new CodecError(`bad default timestamp ${timestamp}`, { field: 'default timestamp' });
  }
  const layout = scanRequest(body, opcode, version, options.frameFlags ?? 0);
  if (layout.flags & QueryFlag.WITH_DEFAULT_TIMESTAMP) {
    if (options.replace !== true) return body;
    const out = Buffer.from(body);
    out.writeBigInt64BE(timestamp, layout.timestampOffset);
    return out;
  }
  const at = layout.timestampOffset;
  const out = Buffer.allocUnsafe(body.length + 8);
  body.copy(out, 0, 0, at);
  out.writeBigInt64BE(timestamp, at);
  body.copy(out, at + 8, at);
  const flags = layout.flags | QueryFlag.WITH_DEFAULT_TIMESTAMP;
  if (layout.flagsWidth === 4) out.writeInt32BE(flags, layout.flagsOffset);
  else out.writeUInt8(flags, layout.flagsOffset);
  return out;
}

/** The prepared ids an EXECUTE (one) or BATCH (one per prepared child) refers to, in order. */
export function preparedIds(
  body: Buffer,
  opcode: number,
  version: ProtocolVersion,
  frameFlags = 0,
): Buffer[] {
  const layout = scanRequest(body, opcode, version, frameFlags);
  return layout.preparedIdOffsets.map((at) => body.subarray(at + 2, at + 2 + body.readUInt16BE(at)));
}

/**
 * Rewrites the prepared ids of an EXECUTE or BATCH body (e.g. origin id → target id), copying
 * the rest of the body in slices. `replace` receives each id and returns the new one.
 */
export function withPreparedId(
  body: Buffer,
  opcode: number,
  version: ProtocolVersion,
  replace: (id: Buffer) => Buffer,
  frameFlags = 0,
): Buffer {
  const layout = scanRequest(body, opcode, version, frameFlags);
  return spliceFields(body, layout.preparedIdOffsets, 2, 'prepared id', (id) => replace(id));
}
