import { CodecError } from '../codec-error.js';
import type { ProtocolVersion } from '../protocol-version.js';
import { parseInetAddress } from './inet-address.js';
import { parseUuid } from './uuid.js';
import { type Inet, UNSET, type Value } from './value.js';

const INT_MIN = -0x8000_0000;
const INT_MAX = 0x7fff_ffff;
const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;

/** Writes the primitive notations of spec v4 §3 into a growing buffer. */
export class Writer {
  #buf: Buffer;
  #length = 0;

  constructor(initialSize = 256) {
    this.#buf = Buffer.allocUnsafe(initialSize);
  }

  get length(): number {
    return this.#length;
  }

  /** The bytes written so far (a view of the internal buffer, valid until the next write). */
  toBuffer(): Buffer {
    return this.#buf.subarray(0, this.#length);
  }

  /** Grows the buffer if needed; call it before reading `this.#buf`, which it may replace. */
  #reserve(n: number): number {
    const at = this.#length;
    if (at + n > this.#buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, at + n));
      this.#buf.copy(grown, 0, 0, at);
      this.#buf = grown;
    }
    this.#length += n;
    return at;
  }

  writeRaw(bytes: Uint8Array): this {
    const at = this.#reserve(bytes.length);
    this.#buf.set(bytes, at);
    return this;
  }

  writeByte(n: number, field = 'byte'): this {
    checkRange(n, 0, 0xff, field);
    const at = this.#reserve(1);
    this.#buf.writeUInt8(n, at);
    return this;
  }

  writeShort(n: number, field = 'short'): this {
    checkRange(n, 0, 0xffff, field);
    const at = this.#reserve(2);
    this.#buf.writeUInt16BE(n, at);
    return this;
  }

  writeInt(n: number, field = 'int'): this {
    checkRange(n, INT_MIN, INT_MAX, field);
    const at = this.#reserve(4);
    this.#buf.writeInt32BE(n, at);
    return this;
  }

  writeLong(n: bigint, field = 'long'): this {
    if (n < LONG_MIN || n > LONG_MAX) throw new CodecError(`${n} out of range`, { field });
    const at = this.#reserve(8);
    this.#buf.writeBigInt64BE(n, at);
    return this;
  }

  writeString(s: string, field = 'string'): this {
    const bytes = Buffer.from(s, 'utf8');
    return this.writeShort(bytes.length, field).writeRaw(bytes);
  }

  writeLongString(s: string, field = 'long string'): this {
    const bytes = Buffer.from(s, 'utf8');
    return this.writeInt(bytes.length, field).writeRaw(bytes);
  }

  writeUuid(uuid: string): this {
    return this.writeRaw(parseUuid(uuid));
  }

  writeStringList(list: readonly string[], field = 'string list'): this {
    this.writeShort(list.length, field);
    for (const s of list) this.writeString(s, field);
    return this;
  }

  writeBytes(bytes: Uint8Array | null, field = 'bytes'): this {
    if (bytes === null) return this.writeInt(-1, field);
    return this.writeInt(bytes.length, field).writeRaw(bytes);
  }

  writeShortBytes(bytes: Uint8Array, field = 'short bytes'): this {
    return this.writeShort(bytes.length, field).writeRaw(bytes);
  }

  /** [value]; unset (-2) exists only from v4 (spec v4 §3). */
  writeValue(value: Value, version: ProtocolVersion, field = 'value'): this {
    if (value === UNSET) {
      if (version < 4) throw new CodecError('unset values need protocol v4 or later', { field });
      return this.writeInt(-2, field);
    }
    return this.writeBytes(value, field);
  }

  writeInetAddress(address: string): this {
    const bytes = parseInetAddress(address);
    return this.writeByte(bytes.length).writeRaw(bytes);
  }

  writeInet(inet: Inet): this {
    return this.writeInetAddress(inet.address).writeInt(inet.port, 'inet port');
  }

  writeConsistency(consistency: number): this {
    return this.writeShort(consistency, 'consistency');
  }

  writeStringMap(map: ReadonlyMap<string, string>, field = 'string map'): this {
    this.writeShort(map.size, field);
    for (const [key, value] of map) this.writeString(key, field).writeString(value, field);
    return this;
  }

  writeStringMultimap(map: ReadonlyMap<string, readonly string[]>, field = 'string multimap'): this {
    this.writeShort(map.size, field);
    for (const [key, values] of map) this.writeString(key, field).writeStringList(values, field);
    return this;
  }

  writeBytesMap(map: ReadonlyMap<string, Uint8Array | null>, field = 'bytes map'): this {
    this.writeShort(map.size, field);
    for (const [key, value] of map) this.writeString(key, field).writeBytes(value, field);
    return this;
  }
}

function checkRange(n: number, min: number, max: number, field: string): void {
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new CodecError(`${n} out of range [${min}, ${max}]`, { field });
  }
}
