import { decoding } from '../codec-error.js';
import { Reader } from '../primitives/reader.js';
import { Writer } from '../primitives/writer.js';
import type { ProtocolVersion } from '../protocol-version.js';

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
interface FailureBase extends ErrorBase {
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

export function decodeError(body: Buffer, version: ProtocolVersion): ErrorBody {
  return decoding('ERROR', () => {
    const r = new Reader(body);
    const code = r.readInt('error code');
    const message = r.readString('error message');
    switch (code) {
      case ErrorCode.UNAVAILABLE:
        return {
          kind: 'unavailable',
          code,
          message,
          consistency: r.readConsistency(),
          required: r.readInt('required'),
          alive: r.readInt('alive'),
        };
      case ErrorCode.WRITE_TIMEOUT: {
        const consistency = r.readConsistency();
        const received = r.readInt('received');
        const blockFor = r.readInt('blockfor');
        const writeType = r.readString('write type');
        const contentions =
          version >= 5 && writeType === 'CAS' && r.remaining >= 2 ? r.readShort('contentions') : null;
        return {
          kind: 'write_timeout',
          code,
          message,
          consistency,
          received,
          blockFor,
          writeType,
          contentions,
        };
      }
      case ErrorCode.READ_TIMEOUT: {
        const consistency = r.readConsistency();
        const received = r.readInt('received');
        const blockFor = r.readInt('blockfor');
        return {
          kind: 'read_timeout',
          code,
          message,
          consistency,
          received,
          blockFor,
          dataPresent: r.readByte('data present') !== 0,
        };
      }
      case ErrorCode.READ_FAILURE: {
        const consistency = r.readConsistency();
        const received = r.readInt('received');
        const blockFor = r.readInt('blockfor');
        const { numFailures, reasons } = readFailures(r, version);
        const dataPresent = r.readByte('data present') !== 0;
        return {
          kind: 'read_failure',
          code,
          message,
          consistency,
          received,
          blockFor,
          numFailures,
          reasons,
          dataPresent,
        };
      }
      case ErrorCode.WRITE_FAILURE: {
        const consistency = r.readConsistency();
        const received = r.readInt('received');
        const blockFor = r.readInt('blockfor');
        const { numFailures, reasons } = readFailures(r, version);
        const writeType = r.readString('write type');
        return {
          kind: 'write_failure',
          code,
          message,
          consistency,
          received,
          blockFor,
          numFailures,
          reasons,
          writeType,
        };
      }
      case ErrorCode.FUNCTION_FAILURE:
        return {
          kind: 'function_failure',
          code,
          message,
          keyspace: r.readString('keyspace'),
          functionName: r.readString('function'),
          argTypes: r.readStringList('arg types'),
        };
      case ErrorCode.CAS_WRITE_UNKNOWN:
        return {
          kind: 'cas_write_unknown',
          code,
          message,
          consistency: r.readConsistency(),
          received: r.readInt('received'),
          blockFor: r.readInt('blockfor'),
        };
      case ErrorCode.ALREADY_EXISTS:
        return {
          kind: 'already_exists',
          code,
          message,
          keyspace: r.readString('keyspace'),
          table: r.readString('table'),
        };
      case ErrorCode.UNPREPARED:
        return { kind: 'unprepared', code, message, id: r.readShortBytes('unprepared id') };
      default:
        return { kind: 'simple', code, message };
    }
  });
}

function readFailures(
  r: Reader,
  version: ProtocolVersion,
): { numFailures: number; reasons: FailureReason[] | null } {
  if (version < 5) return { numFailures: r.readInt('num failures'), reasons: null };
  // <reasonmap>: an [int] n, then n pairs of <endpoint: inetaddr><failurecode: short> (spec v5 §9).
  const n = r.readCount('reason map', 7);
  const reasons: FailureReason[] = [];
  for (let i = 0; i < n; i++) {
    reasons.push({
      endpoint: r.readInetAddress('reason endpoint'),
      failureCode: r.readShort('failure code'),
    });
  }
  return { numFailures: n, reasons };
}

export function encodeError(error: ErrorBody, version: ProtocolVersion): Buffer {
  const w = new Writer(64 + error.message.length);
  w.writeInt(error.code, 'error code').writeString(error.message, 'error message');
  switch (error.kind) {
    case 'simple':
      break;
    case 'unavailable':
      w.writeConsistency(error.consistency)
        .writeInt(error.required, 'required')
        .writeInt(error.alive, 'alive');
      break;
    case 'write_timeout':
      w.writeConsistency(error.consistency).writeInt(error.received).writeInt(error.blockFor);
      w.writeString(error.writeType, 'write type');
      if (version >= 5 && error.contentions !== null) w.writeShort(error.contentions, 'contentions');
      break;
    case 'read_timeout':
      w.writeConsistency(error.consistency).writeInt(error.received).writeInt(error.blockFor);
      w.writeByte(error.dataPresent ? 1 : 0);
      break;
    case 'read_failure':
      w.writeConsistency(error.consistency).writeInt(error.received).writeInt(error.blockFor);
      writeFailures(w, error, version);
      w.writeByte(error.dataPresent ? 1 : 0);
      break;
    case 'write_failure':
      w.writeConsistency(error.consistency).writeInt(error.received).writeInt(error.blockFor);
      writeFailures(w, error, version);
      w.writeString(error.writeType, 'write type');
      break;
    case 'function_failure':
      w.writeString(error.keyspace).writeString(error.functionName).writeStringList(error.argTypes);
      break;
    case 'cas_write_unknown':
      w.writeConsistency(error.consistency).writeInt(error.received).writeInt(error.blockFor);
      break;
    case 'already_exists':
      w.writeString(error.keyspace).writeString(error.table);
      break;
    case 'unprepared':
      w.writeShortBytes(error.id, 'unprepared id');
      break;
  }
  return w.toBuffer();
}

function writeFailures(w: Writer, error: FailureBase, version: ProtocolVersion): void {
  if (version < 5) {
    w.writeInt(error.numFailures, 'num failures');
    return;
  }
  const reasons = error.reasons ?? [];
  w.writeInt(reasons.length, 'reason map');
  for (const reason of reasons)
    w.writeInetAddress(reason.endpoint).writeShort(reason.failureCode, 'failure code');
}
