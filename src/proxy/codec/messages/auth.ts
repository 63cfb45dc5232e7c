import { decoding } from '../codec-error.js';
import { Reader } from '../primitives/reader.js';
import { Writer } from '../primitives/writer.js';

/**
 * The SASL family: AUTHENTICATE carries the authenticator class name (spec v4 §4.2.3);
 * AUTH_RESPONSE, AUTH_CHALLENGE and AUTH_SUCCESS carry one [bytes] token (§4.1.2, §4.2.7, §4.2.8).
 */
export interface AuthenticateResponse {
  readonly authenticator: string;
}

/** Body of AUTH_RESPONSE, AUTH_CHALLENGE or AUTH_SUCCESS. */
export interface AuthToken {
  readonly token: Buffer | null;
}

export function decodeAuthenticate(body: Buffer): AuthenticateResponse {
  return decoding('AUTHENTICATE', () => ({ authenticator: new Reader(body).readString('authenticator') }));
}

export function encodeAuthenticate(message: AuthenticateResponse): Buffer {
  return new Writer(64).writeString(message.authenticator, 'authenticator').toBuffer();
}

export function decodeAuthToken(body: Buffer): AuthToken {
  return decoding('auth token', () => ({ token: new Reader(body).readBytes('token') }));
}

export function encodeAuthToken(message: AuthToken): Buffer {
  return new Writer(64).writeBytes(message.token, 'token').toBuffer();
}

/** The PLAIN SASL token `\0user\0password` used by PasswordAuthenticator. */
export function plainSaslToken(username: string, password: string): Buffer {
  return Buffer.from(`\0${username}\0${password}`, 'utf8');
}
