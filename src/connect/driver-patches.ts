import cassandra from 'cassandra-driver';

/**
 * cassandra-driver 4.10 decodes list and set elements assuming none is null. Cassandra 5.0 returns
 * lists WITH null elements for `TTL(c)` of a multi-cell column (one entry per element or UDT field,
 * null where that cell has no TTL), and the driver then reads from a wrong offset and throws. This
 * patch decodes lists and sets element by element, with a negative length meaning null, and leaves
 * every other type to the driver. Applied once, when the connector module loads.
 */
const Encoder = (cassandra as unknown as { Encoder: { prototype: EncoderLike } }).Encoder;

interface ColumnInfo {
  readonly code: number;
  readonly info?: unknown;
}
interface EncoderLike {
  decode(buffer: Buffer | null, type: ColumnInfo): unknown;
  encodingOptions: { set?: SetConstructor };
  collectionLengthSize?: number;
  decodeCollectionLength(bytes: Buffer, offset: number): number;
}

const { dataTypes } = cassandra.types;
const PATCHED = Symbol.for('zdm.driver.nullableListElements');
const proto = Encoder.prototype as EncoderLike & { [PATCHED]?: true };

if (!proto[PATCHED]) {
  const original = proto.decode;
  proto.decode = function decode(this: EncoderLike, buffer: Buffer | null, type: ColumnInfo): unknown {
    if (
      buffer === null ||
      buffer.length === 0 ||
      (type.code !== dataTypes.list && type.code !== dataTypes.set)
    ) {
      return original.call(this, buffer, type);
    }
    const sizeBytes = this.collectionLengthSize ?? 4;
    const count = this.decodeCollectionLength(buffer, 0);
    let offset = sizeBytes;
    const items: unknown[] = new Array(count);
    for (let i = 0; i < count; i++) {
      const length = this.decodeCollectionLength(buffer, offset);
      offset += sizeBytes;
      if (length < 0) {
        items[i] = null;
        continue;
      }
      items[i] = this.decode(buffer.subarray(offset, offset + length), type.info as ColumnInfo);
      offset += length;
    }
    if (type.code === dataTypes.set && this.encodingOptions.set) return new this.encodingOptions.set(items);
    return items;
  };
  proto[PATCHED] = true;
}
