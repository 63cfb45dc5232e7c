import { CodecError } from '../codec-error.js';
import { Opcode } from '../frame/frame-header.js';
import type { ProtocolVersion } from '../protocol-version.js';
import {
  type AuthenticateResponse,
  type AuthToken,
  decodeAuthenticate,
  decodeAuthToken,
  encodeAuthenticate,
  encodeAuthToken,
} from './auth.js';
import { decodeError, encodeError } from './error.js';
import type { ErrorBody } from './error-body.js';
import { decodeEvent, type Event, encodeEvent } from './event.js';
import { decodeResult, encodeResult, type Result } from './result.js';
import { decodeSupported, encodeEmpty, encodeSupported, type SupportedResponse } from './startup.js';

/** A decoded response body, tagged with its opcode. */
export type Response =
  | { readonly opcode: typeof Opcode.ERROR; readonly message: ErrorBody }
  | { readonly opcode: typeof Opcode.READY; readonly message: null }
  | { readonly opcode: typeof Opcode.AUTHENTICATE; readonly message: AuthenticateResponse }
  | { readonly opcode: typeof Opcode.SUPPORTED; readonly message: SupportedResponse }
  | { readonly opcode: typeof Opcode.RESULT; readonly message: Result }
  | { readonly opcode: typeof Opcode.EVENT; readonly message: Event }
  | { readonly opcode: typeof Opcode.AUTH_CHALLENGE; readonly message: AuthToken }
  | { readonly opcode: typeof Opcode.AUTH_SUCCESS; readonly message: AuthToken };

/** Decodes a response message (the body after any envelope fields, decompressed). */
export function decodeResponse(opcode: number, body: Buffer, version: ProtocolVersion): Response {
  switch (opcode) {
    case Opcode.ERROR:
      return { opcode, message: decodeError(body, version) };
    case Opcode.READY:
      return { opcode, message: null };
    case Opcode.AUTHENTICATE:
      return { opcode, message: decodeAuthenticate(body) };
    case Opcode.SUPPORTED:
      return { opcode, message: decodeSupported(body) };
    case Opcode.RESULT:
      return { opcode, message: decodeResult(body, version) };
    case Opcode.EVENT:
      return { opcode, message: decodeEvent(body) };
    case Opcode.AUTH_CHALLENGE:
    case Opcode.AUTH_SUCCESS:
      return { opcode, message: decodeAuthToken(body) };
    default:
      throw new CodecError(`opcode 0x${opcode.toString(16)} is not a response`, { field: 'opcode' });
  }
}

export function encodeResponse(response: Response, version: ProtocolVersion): Buffer {
  switch (response.opcode) {
    case Opcode.ERROR:
      return encodeError(response.message, version);
    case Opcode.READY:
      return encodeEmpty();
    case Opcode.AUTHENTICATE:
      return encodeAuthenticate(response.message);
    case Opcode.SUPPORTED:
      return encodeSupported(response.message);
    case Opcode.RESULT:
      return encodeResult(response.message, version);
    case Opcode.EVENT:
      return encodeEvent(response.message);
    case Opcode.AUTH_CHALLENGE:
    case Opcode.AUTH_SUCCESS:
      return encodeAuthToken(response.message);
  }
}
