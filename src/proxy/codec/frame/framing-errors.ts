import { CodecError } from '../codec-error.js';
import type { FrameHeader } from './frame-header.js';

/**
 * The peer speaks a protocol version this side does not accept. The proxy answers with a
 * PROTOCOL_ERROR "Invalid or unsupported protocol version (N)" on stream 0, which makes drivers
 * retry with a lower version.
 */
export class UnsupportedVersionError extends CodecError {
  override readonly name = 'UnsupportedVersionError';
  constructor(
    /** The version byte without the direction bit. */
    readonly version: number,
    offset: number,
  ) {
    super(`Invalid or unsupported protocol version (${version})`, { field: 'frame version', offset });
  }
}

/** The header announces a body longer than the framer's limit (see FramerOptions.maxBodyLength). */
export class FrameTooLargeError extends CodecError {
  override readonly name = 'FrameTooLargeError';
  constructor(
    readonly header: FrameHeader,
    readonly maxBodyLength: number,
    offset: number,
  ) {
    super(`frame body of ${header.length} bytes exceeds the maximum of ${maxBodyLength}`, {
      field: 'frame length',
      offset,
    });
  }
}

/** The header announces a negative body length. */
export class NegativeFrameLengthError extends CodecError {
  override readonly name = 'NegativeFrameLengthError';
  constructor(
    readonly header: FrameHeader,
    offset: number,
  ) {
    super(`negative frame body length ${header.length}`, { field: 'frame length', offset });
  }
}

export type FramingError = UnsupportedVersionError | FrameTooLargeError | NegativeFrameLengthError;
