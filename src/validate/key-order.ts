import type { Compare as ValueCompare } from '../schema/cql-value/order.js';
import { compareBytes, orderOf } from '../schema/cql-value/order.js';
import { serializerOf } from '../schema/cql-value/serialize.js';
import type { ColumnSchema, UserTypeSchema } from '../schema/table-schema.js';

/**
 * Cassandra's sort order of rows, so that the diff can merge two clusters' range scans like a sorted
 * merge join. Rows come back in partitioner order (token, then the partition key's serialized bytes,
 * unsigned) and, within a partition, in clustering order: each clustering column sorted by its
 * type's comparator (the value model's order), reversed for DESC.
 *
 * A comparator that disagreed with Cassandra would turn equal rows into "missing" plus "extra"; the
 * merge therefore checks that each stream is strictly increasing under this order and fails the
 * range, rather than reporting, when it is not.
 */

export type Compare<T> = (a: T, b: T) => number;

/** Clustering order of a table: each column's comparator, reversed for DESC. */
export function clusteringComparator(
  clustering: readonly ColumnSchema[],
  userTypes: ReadonlyMap<string, UserTypeSchema>,
): Compare<readonly unknown[]> {
  const columns: ValueCompare[] = clustering.map((c) => {
    const compare = orderOf(c.type, userTypes);
    return c.clusteringOrder === 'DESC' ? (a, b) => compare(b, a) : compare;
  });
  return (a, b) => {
    for (let i = 0; i < columns.length; i++) {
      const c = columns[i]!(a[i], b[i]);
      if (c !== 0) return c;
    }
    return 0;
  };
}

/**
 * Order of partitions that share a token: the partition key's serialized bytes, unsigned; a composite
 * key is serialized as CompositeType (2-byte length, bytes, 0 per component).
 */
export function partitionKeyComparator(
  partitionKey: readonly ColumnSchema[],
  userTypes: ReadonlyMap<string, UserTypeSchema>,
): Compare<readonly unknown[]> {
  const serializers = partitionKey.map((c) => serializerOf(c.type, userTypes));
  const encode = (values: readonly unknown[]): Buffer => {
    if (serializers.length === 1) return serializers[0]!(values[0]);
    const parts: Buffer[] = [];
    serializers.forEach((serialize, i) => {
      const bytes = serialize(values[i]);
      const length = Buffer.alloc(2);
      length.writeUInt16BE(bytes.length);
      parts.push(length, bytes, Buffer.from([0]));
    });
    return Buffer.concat(parts);
  };
  return (a, b) => compareBytes(encode(a), encode(b));
}
