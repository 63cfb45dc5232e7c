import { CodecError } from '../codec-error.js';
import type {
  FrameTooLargeError,
  NegativeFrameLengthError,
  UnsupportedVersionError,
} from '../frame/framing-errors.js';

/** A segment header or payload whose checksum does not match: the stream is corrupt (spec v5 §2). */
export class SegmentChecksumError extends CodecError {
  override readonly name = 'SegmentChecksumError';
  constructor(
    readonly part: 'header' | 'payload',
    readonly expected: number,
    readonly actual: number,
    offset: number,
  ) {
    super(
      `segment ${part} checksum mismatch: received ${hex(expected)}, computed ${hex(actual)}; ` +
        'the connection is corrupt and must be closed',
      { field: `segment ${part}`, offset },
    );
  }
}

/**
 * A segment whose content breaks the framing rules: a payload that does not decompress, a
 * self-contained segment cut inside a frame, a frame part where a whole frame was due, or the reverse.
 */
export class MalformedSegmentError extends CodecError {
  override readonly name = 'MalformedSegmentError';
  constructor(reason: string, offset: number, cause?: unknown) {
    super(reason, { field: 'segment payload', offset, cause });
  }
}

/** Everything that stops a segment framer; after it the stream cannot be resynchronised. */
export type SegmentFramingError =
  | SegmentChecksumError
  | MalformedSegmentError
  | UnsupportedVersionError
  | FrameTooLargeError
  | NegativeFrameLengthError;

function hex(value: number): string {
  return `0x${value.toString(16)}`;
}
