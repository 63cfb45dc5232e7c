import type { CqlType } from '../cql-type.js';
import type { UserTypeSchema } from '../table-schema.js';
import { canonicalEntries, canonicalItems } from './canonical.js';
import {
  bytesOf,
  entriesOf,
  isNull,
  itemsOf,
  tupleItemsOf,
  udtObjectOf,
  vectorItemsOf,
} from './driver-values.js';
import { FIXED_SIZES, NATIVE_BYTES } from './native-bytes.js';
import { orderOf } from './order.js';
import { userTypeFields } from './user-type-fields.js';

/**
 * Serialization of any CQL value to the bytes Cassandra stores (native protocol v4 spec §6; v3+
 * collection lengths are ints): two values are equal exactly when these bytes are. Sets and maps
 * are serialized in Cassandra's element order whatever order the value was built in, as Cassandra
 * sorts them on write.
 */

export type Serialize = (value: unknown) => Buffer;

/** `[int n]` then n × `[int length][bytes]`, length -1 for a null element (§6.4, §6.14). */
function withLengths(parts: readonly (Buffer | undefined)[], count: number | undefined): Buffer {
  const chunks: Buffer[] = [];
  if (count !== undefined) chunks.push(int32(count));
  for (const p of parts) {
    chunks.push(int32(p === undefined ? -1 : p.length));
    if (p !== undefined) chunks.push(p);
  }
  return Buffer.concat(chunks);
}

function int32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeInt32BE(n);
  return b;
}

/** Cassandra's unsigned vint (VIntCoding): the count of extra bytes in the first byte's leading ones. */
export function unsignedVInt(n: number): Buffer {
  let value = BigInt(n);
  let extra = 0;
  while (extra < 8 && value >= 1n << BigInt(7 * (extra + 1))) extra++;
  const out = Buffer.alloc(extra + 1);
  for (let i = extra; i > 0; i--) {
    out[i] = Number(value & 0xffn);
    value >>= 8n;
  }
  out[0] = ((0xff << (8 - extra)) & 0xff) | Number(value);
  return out;
}

const nullable =
  (serialize: Serialize) =>
  (v: unknown): Buffer | undefined =>
    isNull(v) ? undefined : serialize(v);

/** The serializer of one CQL type, for non-null values. */
export function serializerOf(type: CqlType, userTypes: ReadonlyMap<string, UserTypeSchema>): Serialize {
  switch (type.kind) {
    case 'native': {
      const serialize = NATIVE_BYTES[type.name];
      if (serialize === undefined) throw new TypeError(`no serialization for CQL type ${type.name}`);
      return serialize;
    }
    case 'list': {
      const element = nullable(serializerOf(type.element, userTypes));
      return (v) => {
        const items = itemsOf(v, 'list');
        return withLengths(items.map(element), items.length);
      };
    }
    case 'set': {
      const element = nullable(serializerOf(type.element, userTypes));
      const order = orderOf(type.element, userTypes);
      return (v) => {
        const items = canonicalItems(itemsOf(v, 'set'), order);
        return withLengths(items.map(element), items.length);
      };
    }
    case 'map': {
      const key = nullable(serializerOf(type.key, userTypes));
      const value = nullable(serializerOf(type.value, userTypes));
      const order = orderOf(type.key, userTypes);
      return (v) => {
        const entries = canonicalEntries(entriesOf(v), order);
        return withLengths(
          entries.flatMap(([k, x]) => [key(k), value(x)]),
          entries.length,
        );
      };
    }
    case 'tuple': {
      const elements = type.elements.map((e) => nullable(serializerOf(e, userTypes)));
      return (v) => {
        const items = tupleItemsOf(v);
        return withLengths(
          elements.map((serialize, i) => serialize(items[i])),
          undefined,
        );
      };
    }
    case 'udt': {
      const fields = userTypeFields(type.name, userTypes).map((f) => ({
        name: f.name,
        serialize: nullable(serializerOf(f.type, userTypes)),
      }));
      return (v) => {
        const object = udtObjectOf(v, type.name);
        return withLengths(
          fields.map((f) => f.serialize(object[f.name])),
          undefined,
        );
      };
    }
    case 'vector': {
      // Fixed-size elements are laid end to end; others each get an unsigned vint length.
      const element = serializerOf(type.element, userTypes);
      const fixed = type.element.kind === 'native' && FIXED_SIZES[type.element.name] !== undefined;
      return (v) =>
        Buffer.concat(
          vectorItemsOf(v).flatMap((x) => {
            const bytes = element(x);
            return fixed ? [bytes] : [unsignedVInt(bytes.length), bytes];
          }),
        );
    }
    case 'custom':
      return (v) => bytesOf(v, type.className);
  }
}
