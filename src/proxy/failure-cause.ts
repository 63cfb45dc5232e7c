import { CodecError, ErrorCode, Opcode, type ProtocolVersion, type RawFrame } from './codec/index.js';
import { decodeErrorFrame } from './frame-reading.js';
import { RequestTimeoutError, StreamIdsExhaustedError } from './stream-ids.js';

/**
 * Why a request to a node failed: the `error` label of `origin_requests_failed_total`,
 * `target_requests_failed_total` and `async_requests_failed_total`. The first nine are the
 * original proxy's values; the last two name the proxy's own failures it folds into `other`.
 */
export const FAILURE_CAUSES = [
  'client_timeout',
  'read_timeout',
  'read_failure',
  'write_timeout',
  'write_failure',
  'overloaded',
  'unavailable',
  'unprepared',
  'other',
  'stream_ids_exhausted',
  'connection_closed',
] as const;

export type FailureCause = (typeof FAILURE_CAUSES)[number];

/** ERROR codes with a cause of their own (spec v4 §9); every other code is `other`. */
const CAUSE_OF_CODE: ReadonlyMap<number, FailureCause> = new Map([
  [ErrorCode.READ_TIMEOUT, 'read_timeout'],
  [ErrorCode.READ_FAILURE, 'read_failure'],
  [ErrorCode.WRITE_TIMEOUT, 'write_timeout'],
  [ErrorCode.WRITE_FAILURE, 'write_failure'],
  [ErrorCode.OVERLOADED, 'overloaded'],
  [ErrorCode.UNAVAILABLE, 'unavailable'],
  [ErrorCode.UNPREPARED, 'unprepared'],
]);

/**
 * The cause of a node's answer: null for anything but an ERROR frame; for the proxy's own
 * failures, `client_timeout` (no answer before the deadline), `stream_ids_exhausted` (the
 * connection was saturated) or `connection_closed`.
 */
export function failureCause(result: RawFrame | Error, version: ProtocolVersion): FailureCause | null {
  if (result instanceof RequestTimeoutError) return 'client_timeout';
  if (result instanceof StreamIdsExhaustedError) return 'stream_ids_exhausted';
  if (result instanceof Error) return 'connection_closed';
  if (result.header.opcode !== Opcode.ERROR) return null;
  try {
    return CAUSE_OF_CODE.get(decodeErrorFrame(result, version).code) ?? 'other';
  } catch (error) {
    if (error instanceof CodecError) return 'other';
    throw error;
  }
}
