import type { CqlType } from '../cql-type.js';
import type { UserTypeSchema } from '../table-schema.js';
import { canonicalEntries, canonicalItems } from './canonical.js';
import {
  bytesOf,
  entriesOf,
  isNull,
  itemsOf,
  textOf,
  tupleItemsOf,
  udtObjectOf,
  vectorItemsOf,
} from './driver-values.js';
import { FIXED_SIZES, NATIVE_BYTES } from './native-bytes.js';
import { orderOf } from './order.js';
import { unsignedVInt } from './serialize.js';
import { userTypeFields } from './user-type-fields.js';

/**
 * The serialized size of a value in bytes (what serialize.ts would produce), for sizing batches
 * against Cassandra's limits without building the bytes. Text and blobs, the large values, are
 * measured directly; small natives by their fixed width or their encoding.
 */

export type Size = (value: unknown) => number;

const LENGTH = 4;

const NATIVE_SIZE: Readonly<Record<string, Size>> = {
  ...Object.fromEntries(Object.entries(FIXED_SIZES).map(([name, n]) => [name, () => n])),
  ascii: (v) => Buffer.byteLength(textOf(v, 'ascii'), 'utf8'),
  text: (v) => Buffer.byteLength(textOf(v, 'text'), 'utf8'),
  blob: (v) => bytesOf(v, 'blob').length,
  counter: () => 8,
  smallint: () => 2,
  tinyint: () => 1,
  date: () => 4,
  time: () => 8,
};

/** Sum of `[int length][bytes]` for each element, null elements taking the length only. */
function lengthsAndBytes(items: readonly unknown[], sizes: (i: number) => Size): number {
  let total = 0;
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    total += LENGTH + (isNull(item) ? 0 : sizes(i)(item));
  }
  return total;
}

function nonNullSize(type: CqlType, userTypes: ReadonlyMap<string, UserTypeSchema>): Size {
  switch (type.kind) {
    case 'native': {
      const size = NATIVE_SIZE[type.name];
      if (size !== undefined) return size;
      const serialize = NATIVE_BYTES[type.name];
      if (serialize === undefined) throw new TypeError(`no size for CQL type ${type.name}`);
      return (v) => serialize(v).length;
    }
    case 'list': {
      const element = sizeOf(type.element, userTypes);
      return (v) => LENGTH + lengthsAndBytes(itemsOf(v, 'list'), () => element);
    }
    case 'set': {
      // Duplicates (possible in a value a client built) are serialized once.
      const element = sizeOf(type.element, userTypes);
      const order = orderOf(type.element, userTypes);
      return (v) => LENGTH + lengthsAndBytes(canonicalItems(itemsOf(v, 'set'), order), () => element);
    }
    case 'map': {
      const key = sizeOf(type.key, userTypes);
      const value = sizeOf(type.value, userTypes);
      const order = orderOf(type.key, userTypes);
      return (v) =>
        LENGTH +
        lengthsAndBytes(canonicalEntries(entriesOf(v), order).flat(), (i) => (i % 2 === 0 ? key : value));
    }
    case 'tuple': {
      const elements = type.elements.map((e) => sizeOf(e, userTypes));
      return (v) => {
        const items = tupleItemsOf(v);
        return lengthsAndBytes(
          elements.map((_, i) => items[i]),
          (i) => elements[i]!,
        );
      };
    }
    case 'udt': {
      const fields = userTypeFields(type.name, userTypes);
      const sizes = fields.map((f) => sizeOf(f.type, userTypes));
      return (v) => {
        const object = udtObjectOf(v, type.name);
        return lengthsAndBytes(
          fields.map((f) => object[f.name]),
          (i) => sizes[i]!,
        );
      };
    }
    case 'vector': {
      const element = sizeOf(type.element, userTypes);
      const fixed = type.element.kind === 'native' && FIXED_SIZES[type.element.name] !== undefined;
      return (v) =>
        vectorItemsOf(v).reduce<number>((total, x) => {
          const n = element(x);
          return total + n + (fixed ? 0 : unsignedVInt(n).length);
        }, 0);
    }
    case 'custom':
      return (v) => bytesOf(v, type.className).length;
  }
}

/** The serialized size of one CQL type's values; 0 for null. */
export function sizeOf(type: CqlType, userTypes: ReadonlyMap<string, UserTypeSchema>): Size {
  const size = nonNullSize(type, userTypes);
  return (v) => (isNull(v) ? 0 : size(v));
}
