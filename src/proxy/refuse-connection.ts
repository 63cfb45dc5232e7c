import type { Duplex } from 'node:stream';
import { type ErrorBody, ErrorCode, HEADER_LENGTH, isProtocolVersion, simpleError } from './codec/index.js';
import { errorFrame } from './frame-reading.js';

/**
 * A connection the proxy will not serve (too many clients) is told why: its first request gets an
 * ERROR frame on its own stream id, then the connection is closed. A silent close would leave the
 * client guessing (drivers report "connection reset"); an error names the limit to raise.
 */

export interface RefusalOptions {
  /** How long the client has to send its first request (and then to close) before it is dropped. */
  readonly timeoutMs: number;
}

/** The error a client over the connection limit gets. */
export function tooManyConnectionsError(limit: number, setting: string): ErrorBody {
  return simpleError(
    ErrorCode.OVERLOADED,
    `zdm-proxy: too many client connections (the limit is ${limit}, set by ${setting}); ` +
      'connect to another proxy instance, retry later, or raise the limit',
  );
}

/**
 * Answers the first request on `stream` with `error`, then closes it. Only the 9-byte header is
 * read (spec v4 §2: version and stream id); the rest of what the client sends is discarded, and
 * the answer uses the client's version when it is one the proxy speaks (3, 4, 5), else v4.
 * Resolves once the stream is closed, at the latest `timeoutMs` after the call.
 */
export function refuseConnection(stream: Duplex, error: ErrorBody, options: RefusalOptions): Promise<void> {
  return new Promise<void>((resolve) => {
    let header = Buffer.alloc(0);
    let answered = false;
    const timer = setTimeout(() => stream.destroy(), options.timeoutMs);
    timer.unref();
    stream.on('data', (chunk: Buffer) => {
      if (answered) return; // discarded: closing with unread input would reset the connection
      header = Buffer.concat([header, chunk.subarray(0, HEADER_LENGTH - header.length)]);
      if (header.length < HEADER_LENGTH) return;
      answered = true;
      const clientVersion = header.readUInt8(0) & 0x7f;
      const version = isProtocolVersion(clientVersion) ? clientVersion : 4;
      // Half-close after the answer: the client reads it, then closes its side (or the timer does).
      stream.end(errorFrame(version, header.readInt16BE(2), error));
    });
    stream.on('end', () => stream.destroy());
    stream.on('error', () => stream.destroy());
    stream.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
