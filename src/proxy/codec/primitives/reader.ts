import { CodecError } from '../codec-error.js';
import type { ProtocolVersion } from '../protocol-version.js';
import { formatInetAddress } from './inet-address.js';
import { formatUuid } from './uuid.js';
import { type Inet, UNSET, type Value } from './value.js';

/**
 * Reads the primitive notations of spec v4 §3 from a buffer, big-endian, with a bounds check
 * on every read. Byte results ([bytes], [short bytes], [value]) are subarrays of the input,
 * not copies: copy them if they must outlive the frame buffer.
 */
export class Reader {
  readonly #buf: Buffer;
  readonly end: number;
  offset: number;

  constructor(buf: Buffer, offset = 0, end = buf.length) {
    this.#buf = buf;
    this.offset = offset;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  /** Reserves `n` bytes and returns their start, or throws if fewer remain. */
  #take(n: number, field: string): number {
    if (n > this.end - this.offset) {
      throw new CodecError(`need ${n} bytes, ${this.end - this.offset} left`, { field, offset: this.offset });
    }
    const at = this.offset;
    this.offset += n;
    return at;
  }

  skip(n: number, field = 'bytes'): void {
    this.#take(n, field);
  }

  readRaw(n: number, field = 'bytes'): Buffer {
    const at = this.#take(n, field);
    return this.#buf.subarray(at, at + n);
  }

  readByte(field = 'byte'): number {
    return this.#buf.readUInt8(this.#take(1, field));
  }

  /** [short]: 2 bytes, unsigned. */
  readShort(field = 'short'): number {
    return this.#buf.readUInt16BE(this.#take(2, field));
  }

  /** A signed 2-byte integer (stream ids, not a protocol notation). */
  readSignedShort(field = 'short'): number {
    return this.#buf.readInt16BE(this.#take(2, field));
  }

  /** [int]: 4 bytes, signed. */
  readInt(field = 'int'): number {
    return this.#buf.readInt32BE(this.#take(4, field));
  }

  /** [long]: 8 bytes, signed. */
  readLong(field = 'long'): bigint {
    return this.#buf.readBigInt64BE(this.#take(8, field));
  }

  /**
   * An [int] element count, checked against what is left so that a corrupt count cannot drive a
   * long loop: each element needs at least `minBytesEach` bytes.
   */
  readCount(field: string, minBytesEach: number): number {
    const at = this.offset;
    const n = this.readInt(field);
    if (n < 0 || n * minBytesEach > this.remaining) {
      throw new CodecError(`bad count ${n}`, { field, offset: at });
    }
    return n;
  }

  /** [string]: a [short] length and UTF-8 bytes. */
  readString(field = 'string'): string {
    const n = this.readShort(field);
    const at = this.#take(n, field);
    return this.#buf.toString('utf8', at, at + n);
  }

  /** [long string]: an [int] length and UTF-8 bytes. */
  readLongString(field = 'long string'): string {
    const n = this.#length(field);
    const at = this.#take(n, field);
    return this.#buf.toString('utf8', at, at + n);
  }

  readUuid(field = 'uuid'): string {
    return formatUuid(this.readRaw(16, field));
  }

  readStringList(field = 'string list'): string[] {
    const n = this.readShort(field);
    const list: string[] = [];
    for (let i = 0; i < n; i++) list.push(this.readString(field));
    return list;
  }

  /** [bytes]: an [int] length, `null` when negative. */
  readBytes(field = 'bytes'): Buffer | null {
    const n = this.readInt(field);
    return n < 0 ? null : this.readRaw(n, field);
  }

  readShortBytes(field = 'short bytes'): Buffer {
    return this.readRaw(this.readShort(field), field);
  }

  /**
   * [value]: from v4, -1 is null, -2 is unset and lower is an error (spec v4 §3); in v3 values
   * are [bytes], so any negative length is null (spec v3 §4.1.4).
   */
  readValue(version: ProtocolVersion, field = 'value'): Value {
    const at = this.offset;
    const n = this.readInt(field);
    if (n >= 0) return this.readRaw(n, field);
    if (version === 3 || n === -1) return null;
    if (n === -2) return UNSET;
    throw new CodecError(`bad value length ${n}`, { field, offset: at });
  }

  /** [inetaddr]: a [byte] size (4 or 16) and the address bytes. */
  readInetAddress(field = 'inetaddr'): string {
    const at = this.offset;
    const n = this.readByte(field);
    if (n !== 4 && n !== 16) throw new CodecError(`bad address size ${n}`, { field, offset: at });
    return formatInetAddress(this.readRaw(n, field));
  }

  /** [inet]: an [inetaddr] and an [int] port. */
  readInet(field = 'inet'): Inet {
    const address = this.readInetAddress(field);
    return { address, port: this.readInt(field) };
  }

  readConsistency(field = 'consistency'): number {
    return this.readShort(field);
  }

  readStringMap(field = 'string map'): Map<string, string> {
    const n = this.readShort(field);
    const map = new Map<string, string>();
    for (let i = 0; i < n; i++) map.set(this.readString(field), this.readString(field));
    return map;
  }

  readStringMultimap(field = 'string multimap'): Map<string, string[]> {
    const n = this.readShort(field);
    const map = new Map<string, string[]>();
    for (let i = 0; i < n; i++) map.set(this.readString(field), this.readStringList(field));
    return map;
  }

  readBytesMap(field = 'bytes map'): Map<string, Buffer | null> {
    const n = this.readShort(field);
    const map = new Map<string, Buffer | null>();
    for (let i = 0; i < n; i++) map.set(this.readString(field), this.readBytes(field));
    return map;
  }

  #length(field: string): number {
    const at = this.offset;
    const n = this.readInt(field);
    if (n < 0) throw new CodecError(`negative length ${n}`, { field, offset: at });
    return n;
  }
}
