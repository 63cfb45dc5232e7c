import { decoding } from '../codec-error.js';
import { Reader } from '../primitives/reader.js';
import { Writer } from '../primitives/writer.js';

/**
 * The handshake family without authentication: STARTUP (a [string map] of options, spec v4
 * §4.1.1), OPTIONS (empty, §4.1.3), SUPPORTED (a [string multimap], §4.2.4), READY (empty, §4.2.2).
 */
export interface StartupRequest {
  /** E.g. CQL_VERSION → 3.0.0, COMPRESSION → lz4, DRIVER_NAME, DRIVER_VERSION. */
  readonly options: ReadonlyMap<string, string>;
}

export interface SupportedResponse {
  /** E.g. CQL_VERSION, COMPRESSION, PROTOCOL_VERSIONS ("3/v3", "4/v4", "5/v5"). */
  readonly options: ReadonlyMap<string, readonly string[]>;
}

export const StartupOption = {
  CQL_VERSION: 'CQL_VERSION',
  COMPRESSION: 'COMPRESSION',
  DRIVER_NAME: 'DRIVER_NAME',
  DRIVER_VERSION: 'DRIVER_VERSION',
  PROTOCOL_VERSIONS: 'PROTOCOL_VERSIONS',
} as const;

export function decodeStartup(body: Buffer): StartupRequest {
  return decoding('STARTUP', () => ({ options: new Reader(body).readStringMap('options') }));
}

export function encodeStartup(message: StartupRequest): Buffer {
  return new Writer(128).writeStringMap(message.options, 'options').toBuffer();
}

export function decodeSupported(body: Buffer): SupportedResponse {
  return decoding('SUPPORTED', () => ({ options: new Reader(body).readStringMultimap('options') }));
}

export function encodeSupported(message: SupportedResponse): Buffer {
  return new Writer(128).writeStringMultimap(message.options, 'options').toBuffer();
}

/** READY and OPTIONS have empty bodies; extra bytes are ignored as the spec allows (§1). */
export function encodeEmpty(): Buffer {
  return Buffer.alloc(0);
}
