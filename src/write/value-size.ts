/**
 * Bytes a decoded value takes in a mutation, estimated. Batching decisions only need an upper
 * estimate of the same order as Cassandra's `dataSize()`: numbers count their widest encoding.
 *
 * value model: replace with `cqlValueModel(type, userTypes).estimateSize(value)` once the shared
 * CQL value model is available; callers go through this one function.
 */
export function estimateValueBytes(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (Buffer.isBuffer(value)) return value.length;
  if (typeof value === 'boolean') return 1;
  if (typeof value === 'number' || typeof value === 'bigint') return 8;
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + 4 + estimateValueBytes(v), 4);
  if (value instanceof Map)
    return [...value].reduce((n, [k, v]) => n + 8 + estimateValueBytes(k) + estimateValueBytes(v), 4);
  if (value instanceof Set) return [...value].reduce((n: number, v) => n + 4 + estimateValueBytes(v), 4);
  if (value instanceof Date) return 8;
  const buffer = (value as { buffer?: unknown }).buffer;
  if (Buffer.isBuffer(buffer)) return buffer.length; // Uuid, TimeUuid, InetAddress
  if (typeof value === 'object') {
    // Tuples expose `elements`; UDTs are plain objects; the rest (LocalDate, Duration...) are small.
    const elements = (value as { elements?: unknown }).elements;
    if (Array.isArray(elements)) return estimateValueBytes(elements);
    if (value.constructor === Object) return estimateValueBytes(Object.values(value));
  }
  return 16;
}
