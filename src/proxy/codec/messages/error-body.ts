/** ERROR codes (spec v4 §9; CDC_WRITE_FAILURE and CAS_WRITE_UNKNOWN are v5). */
export const ErrorCode = {
  SERVER_ERROR: 0x0000,
  PROTOCOL_ERROR: 0x000a,
  BAD_CREDENTIALS: 0x0100,
  UNAVAILABLE: 0x1000,
  OVERLOADED: 0x1001,
  IS_BOOTSTRAPPING: 0x1002,
  TRUNCATE_ERROR: 0x1003,
  WRITE_TIMEOUT: 0x1100,
  READ_TIMEOUT: 0x1200,
  READ_FAILURE: 0x1300,
  FUNCTION_FAILURE: 0x1400,
  WRITE_FAILURE: 0x1500,
  CDC_WRITE_FAILURE: 0x1600,
  CAS_WRITE_UNKNOWN: 0x1700,
  SYNTAX_ERROR: 0x2000,
  UNAUTHORIZED: 0x2100,
  INVALID: 0x2200,
  CONFIG_ERROR: 0x2300,
  ALREADY_EXISTS: 0x2400,
  UNPREPARED: 0x2500,
} as const;

/** One entry of a v5 <reasonmap>: a replica and its failure code. */
export interface FailureReason {
  readonly endpoint: string;
  readonly failureCode: number;
}

interface ErrorBase {
  readonly code: number;
  readonly message: string;
}

/** An error whose body is just code and message. */
export interface SimpleError extends ErrorBase {
  readonly kind: 'simple';
}
export interface UnavailableError extends ErrorBase {
  readonly kind: 'unavailable';
  readonly consistency: number;
  readonly required: number;
  readonly alive: number;
}
export interface WriteTimeoutError extends ErrorBase {
  readonly kind: 'write_timeout';
  readonly consistency: number;
  readonly received: number;
  readonly blockFor: number;
  readonly writeType: string;
  /** v5, when writeType is CAS. */
  readonly contentions: number | null;
}
export interface ReadTimeoutError extends ErrorBase {
  readonly kind: 'read_timeout';
  readonly consistency: number;
  readonly received: number;
  readonly blockFor: number;
  readonly dataPresent: boolean;
}
export interface FailureBase extends ErrorBase {
  readonly consistency: number;
  readonly received: number;
  readonly blockFor: number;
  /** Up to v4 sent as <numfailures>; from v5 the length of `reasons`. */
  readonly numFailures: number;
  /** v5 <reasonmap>; null before v5. */
  readonly reasons: readonly FailureReason[] | null;
}
export interface ReadFailureError extends FailureBase {
  readonly kind: 'read_failure';
  readonly dataPresent: boolean;
}
export interface WriteFailureError extends FailureBase {
  readonly kind: 'write_failure';
  readonly writeType: string;
}
export interface FunctionFailureError extends ErrorBase {
  readonly kind: 'function_failure';
  readonly keyspace: string;
  readonly functionName: string;
  readonly argTypes: readonly string[];
}
export interface CasWriteUnknownError extends ErrorBase {
  readonly kind: 'cas_write_unknown';
  readonly consistency: number;
  readonly received: number;
  readonly blockFor: number;
}
export interface AlreadyExistsError extends ErrorBase {
  readonly kind: 'already_exists';
  readonly keyspace: string;
  /** Empty when a keyspace already exists. */
  readonly table: string;
}
export interface UnpreparedError extends ErrorBase {
  readonly kind: 'unprepared';
  readonly id: Buffer;
}

/** ERROR body (spec v4 §4.2.1 and §9), discriminated by `kind`. */
export type ErrorBody =
  | SimpleError
  | UnavailableError
  | WriteTimeoutError
  | ReadTimeoutError
  | ReadFailureError
  | WriteFailureError
  | FunctionFailureError
  | CasWriteUnknownError
  | AlreadyExistsError
  | UnpreparedError;

export function simpleError(code: number, message: string): SimpleError {
  return { kind: 'simple', code, message };
}

/** The answer to an unsupported version: drivers match this text and retry lower (see REFERENCE §1). */
export function unsupportedVersionError(version: number): SimpleError {
  return simpleError(ErrorCode.PROTOCOL_ERROR, `Invalid or unsupported protocol version (${version})`);
}
