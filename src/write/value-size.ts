/**
 * Bytes a decoded value of unknown CQL type takes in a mutation, estimated (numbers count their
 * widest encoding). Only for the parameters of statements written as they are (a repair's deletes),
 * whose types are not tracked; planned writes are sized by the value model (write-sizes.ts).
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
