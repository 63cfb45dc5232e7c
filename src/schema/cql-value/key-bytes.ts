import type { CqlType } from '../cql-type.js';
import type { UserTypeSchema } from '../table-schema.js';
import { serializerOf } from './serialize.js';

/**
 * A string that is equal exactly when every value serializes to the same bytes (Cassandra's
 * equality), for grouping rows by a key of several columns. Each value is length-prefixed, so
 * `("ab","c")` and `("a","bc")` never meet.
 */
export function keyBytesOf(
  types: readonly CqlType[],
  userTypes: ReadonlyMap<string, UserTypeSchema>,
): (values: readonly unknown[]) => string {
  const serializers = types.map((t) => serializerOf(t, userTypes));
  return (values) =>
    serializers
      .map((serialize, i) => {
        const value = values[i];
        if (value === null || value === undefined) return '-';
        const bytes = serialize(value);
        return `${bytes.length}:${bytes.toString('hex')}`;
      })
      .join('|');
}
