import { CodecError } from '../codec-error.js';
import { Opcode } from '../frame/frame-header.js';
import type { ProtocolVersion } from '../protocol-version.js';
import { type AuthToken, decodeAuthToken, encodeAuthToken } from './auth.js';
import { type BatchRequest, decodeBatch, encodeBatch } from './batch.js';
import { decodeExecute, type ExecuteRequest, encodeExecute } from './execute.js';
import { decodePrepare, encodePrepare, type PrepareRequest } from './prepare.js';
import { decodeQuery, encodeQuery, type QueryRequest } from './query.js';
import { decodeRegister, encodeRegister, type RegisterRequest } from './register.js';
import { decodeStartup, encodeEmpty, encodeStartup, type StartupRequest } from './startup.js';

/** A decoded request body, tagged with its opcode. */
export type Request =
  | { readonly opcode: typeof Opcode.STARTUP; readonly message: StartupRequest }
  | { readonly opcode: typeof Opcode.AUTH_RESPONSE; readonly message: AuthToken }
  | { readonly opcode: typeof Opcode.OPTIONS; readonly message: null }
  | { readonly opcode: typeof Opcode.QUERY; readonly message: QueryRequest }
  | { readonly opcode: typeof Opcode.PREPARE; readonly message: PrepareRequest }
  | { readonly opcode: typeof Opcode.EXECUTE; readonly message: ExecuteRequest }
  | { readonly opcode: typeof Opcode.BATCH; readonly message: BatchRequest }
  | { readonly opcode: typeof Opcode.REGISTER; readonly message: RegisterRequest };

/** Decodes a request message (the body after any envelope fields, decompressed). */
export function decodeRequest(opcode: number, body: Buffer, version: ProtocolVersion): Request {
  switch (opcode) {
    case Opcode.STARTUP:
      return { opcode, message: decodeStartup(body) };
    case Opcode.AUTH_RESPONSE:
      return { opcode, message: decodeAuthToken(body) };
    case Opcode.OPTIONS:
      return { opcode, message: null };
    case Opcode.QUERY:
      return { opcode, message: decodeQuery(body, version) };
    case Opcode.PREPARE:
      return { opcode, message: decodePrepare(body, version) };
    case Opcode.EXECUTE:
      return { opcode, message: decodeExecute(body, version) };
    case Opcode.BATCH:
      return { opcode, message: decodeBatch(body, version) };
    case Opcode.REGISTER:
      return { opcode, message: decodeRegister(body) };
    default:
      throw new CodecError(`opcode 0x${opcode.toString(16)} is not a request`, { field: 'opcode' });
  }
}

export function encodeRequest(request: Request, version: ProtocolVersion): Buffer {
  switch (request.opcode) {
    case Opcode.STARTUP:
      return encodeStartup(request.message);
    case Opcode.AUTH_RESPONSE:
      return encodeAuthToken(request.message);
    case Opcode.OPTIONS:
      return encodeEmpty();
    case Opcode.QUERY:
      return encodeQuery(request.message, version);
    case Opcode.PREPARE:
      return encodePrepare(request.message, version);
    case Opcode.EXECUTE:
      return encodeExecute(request.message, version);
    case Opcode.BATCH:
      return encodeBatch(request.message, version);
    case Opcode.REGISTER:
      return encodeRegister(request.message);
  }
}
