import { decoding } from '../codec-error.js';
import { Reader } from '../primitives/reader.js';
import { Writer } from '../primitives/writer.js';
import type { ProtocolVersion } from '../protocol-version.js';
import { FrameFlag } from './frame-header.js';

/**
 * What the header flags put in front of the message in a body (spec v4 §2.2): a tracing id
 * (responses only), warnings (responses, v4+) and a custom payload (v4+).
 */
export interface Envelope {
  readonly tracingId: string | null;
  readonly warnings: readonly string[] | null;
  readonly customPayload: ReadonlyMap<string, Buffer | null> | null;
}

export interface OpenedBody extends Envelope {
  /** The message itself: a view of the body after the envelope fields. */
  readonly message: Buffer;
}

export const EMPTY_ENVELOPE: Envelope = { tracingId: null, warnings: null, customPayload: null };

/** Splits a (decompressed) body into envelope fields and the message. */
export function openBody(
  body: Buffer,
  flags: number,
  isResponse: boolean,
  version: ProtocolVersion,
): OpenedBody {
  return decoding('frame envelope', () => {
    const reader = new Reader(body);
    const tracingId = isResponse && flags & FrameFlag.TRACING ? reader.readUuid('tracing id') : null;
    const warnings =
      isResponse && version >= 4 && flags & FrameFlag.WARNING ? reader.readStringList('warnings') : null;
    const customPayload =
      version >= 4 && flags & FrameFlag.CUSTOM_PAYLOAD ? reader.readBytesMap('custom payload') : null;
    return { tracingId, warnings, customPayload, message: body.subarray(reader.offset) };
  });
}

/** Offset of the message inside a body, skipping the envelope fields the flags announce. */
export function messageOffset(
  body: Buffer,
  flags: number,
  isResponse: boolean,
  version: ProtocolVersion,
): number {
  if ((flags & (FrameFlag.TRACING | FrameFlag.WARNING | FrameFlag.CUSTOM_PAYLOAD)) === 0) return 0;
  return body.length - openBody(body, flags, isResponse, version).message.length;
}

/** Prefixes a message with envelope fields; returns the body and the flags to set in the header. */
export function closeBody(
  message: Buffer,
  envelope: Envelope,
  isResponse: boolean,
  version: ProtocolVersion,
): { body: Buffer; flags: number } {
  const writer = new Writer(64);
  let flags = 0;
  if (isResponse && envelope.tracingId !== null) {
    writer.writeUuid(envelope.tracingId);
    flags |= FrameFlag.TRACING;
  }
  if (isResponse && version >= 4 && envelope.warnings !== null) {
    writer.writeStringList(envelope.warnings, 'warnings');
    flags |= FrameFlag.WARNING;
  }
  if (version >= 4 && envelope.customPayload !== null) {
    writer.writeBytesMap(envelope.customPayload, 'custom payload');
    flags |= FrameFlag.CUSTOM_PAYLOAD;
  }
  if (writer.length === 0) return { body: message, flags };
  return { body: Buffer.concat([writer.toBuffer(), message]), flags };
}
