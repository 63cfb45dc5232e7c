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
 * Sends a last frame and closes `stream` so the peer can read it: a half-close first, then the
 * peer's further input is read and discarded until it closes its side or `lingerMs` pass. An
 * immediate destroy while the peer is still sending (say, the rest of an oversized body) makes
 * the kernel answer with a reset, and the peer loses the frame that explained why.
 */
export function endWithFrame(stream: Duplex, frame: Buffer, lingerMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    if (stream.destroyed) return resolve();
    const timer = setTimeout(() => stream.destroy(), lingerMs);
    timer.unref();
    stream.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    stream.on('data', () => undefined);
    stream.on('end', () => stream.destroy());
    stream.on('error', () => stream.destroy());
    stream.end(frame);
  });
}

/**
 * Answers the first request on `stream` with `error`, then closes it (see `endWithFrame`). Only
 * the 9-byte header is read (spec v4 §2: version and stream id); the answer uses the client's
 * version when it is one the proxy speaks (3, 4, 5), else v4. Resolves once the stream is
 * closed, at the latest about `timeoutMs` after its first request (or after the call if none comes).
 */
export function refuseConnection(stream: Duplex, error: ErrorBody, options: RefusalOptions): Promise<void> {
  return new Promise<void>((resolve) => {
    let header = Buffer.alloc(0);
    const timer = setTimeout(() => stream.destroy(), options.timeoutMs);
    timer.unref();
    const onClose = () => {
      clearTimeout(timer);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      header = Buffer.concat([header, chunk.subarray(0, HEADER_LENGTH - header.length)]);
      if (header.length < HEADER_LENGTH) return;
      clearTimeout(timer);
      stream.off('data', onData);
      stream.off('close', onClose);
      const clientVersion = header.readUInt8(0) & 0x7f;
      const version = isProtocolVersion(clientVersion) ? clientVersion : 4;
      void endWithFrame(stream, errorFrame(version, header.readInt16BE(2), error), options.timeoutMs).then(
        resolve,
      );
    };
    stream.on('data', onData);
    stream.on('error', () => stream.destroy());
    stream.on('end', () => stream.destroy());
    stream.once('close', onClose);
  });
}
