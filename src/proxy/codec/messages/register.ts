import { decoding } from '../codec-error.js';
import { Reader } from '../primitives/reader.js';
import { Writer } from '../primitives/writer.js';

/** REGISTER: a [string list] of event types (spec v4 §4.1.8). */
export interface RegisterRequest {
  readonly eventTypes: readonly string[];
}

export function decodeRegister(body: Buffer): RegisterRequest {
  return decoding('REGISTER', () => ({ eventTypes: new Reader(body).readStringList('event types') }));
}

export function encodeRegister(message: RegisterRequest): Buffer {
  return new Writer(64).writeStringList(message.eventTypes, 'event types').toBuffer();
}
