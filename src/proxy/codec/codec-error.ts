/** Where in the input a decoding or encoding problem was found. */
export interface CodecErrorContext {
  /** What was being read or written, e.g. `query string` or `QUERY.flags`. */
  readonly field?: string;
  /** Byte offset in the buffer being decoded. */
  readonly offset?: number;
  /** The lower-level error, if any. */
  readonly cause?: unknown;
}

/**
 * The only error type the codec throws: malformed input (truncated bodies, bad lengths,
 * unknown type ids) or a value that cannot be encoded.
 */
export class CodecError extends Error {
  override readonly name: string = 'CodecError';
  readonly field: string | undefined;
  readonly offset: number | undefined;
  /** The message without the field and offset suffix. */
  readonly reason: string;

  constructor(message: string, context: CodecErrorContext = {}) {
    super(
      formatMessage(message, context),
      context.cause === undefined ? undefined : { cause: context.cause },
    );
    this.reason = message;
    this.field = context.field;
    this.offset = context.offset;
  }
}

function formatMessage(message: string, { field, offset }: CodecErrorContext): string {
  if (field === undefined && offset === undefined) return message;
  const where = [
    field === undefined ? '' : `reading ${field}`,
    offset === undefined ? '' : `at offset ${offset}`,
  ]
    .filter((part) => part !== '')
    .join(' ');
  return `${message} (${where})`;
}

/**
 * Runs a decoder and guarantees that only CodecError escapes: any other exception (a bug or a
 * Buffer RangeError) is wrapped, and a CodecError gets the message name as a prefix.
 */
export function decoding<T>(what: string, decode: () => T): T {
  try {
    return decode();
  } catch (error) {
    if (error instanceof CodecError) {
      throw new CodecError(`${what}: ${error.reason}`, {
        field: error.field,
        offset: error.offset,
        cause: error,
      });
    }
    throw new CodecError(`${what}: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
}
