import { decoding } from '../codec-error.js';
import { Reader } from '../primitives/reader.js';
import { Writer } from '../primitives/writer.js';
import type { ProtocolVersion } from '../protocol-version.js';
import { type ErrorBody, ErrorCode, type FailureBase, type FailureReason } from './error-body.js';

/** ERROR: <code><message> then per-code fields (spec v4 §4.2.1, §9; v5 reason maps and CAS contentions). */
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
