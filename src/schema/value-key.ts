/**
 * A string that is equal for equal CQL values as the driver decodes them, for grouping rows by
 * partition and for matching keys. Not a display format.
 */
export function valueKey(value: unknown): string {
  if (value === null || value === undefined) return '∅';
  if (typeof value === 'string') return `s${value}`;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean')
    return `n${String(value)}`;
  if (Buffer.isBuffer(value)) return `b${value.toString('hex')}`;
  if (value instanceof Date) return `d${value.getTime()}`;
  if (Array.isArray(value)) return `[${value.map(valueKey).join(',')}]`;
  if (value instanceof Set) return `{${[...value].map(valueKey).join(',')}}`;
  if (value instanceof Map)
    return `{${[...value].map(([k, v]) => `${valueKey(k)}:${valueKey(v)}`).join(',')}}`;
  if (ArrayBuffer.isView(value)) return `v${Array.from(value as unknown as ArrayLike<number>).join(',')}`;
  // Driver types (Uuid, InetAddress, LocalDate, LocalTime, Duration, Tuple, BigDecimal) print exactly.
  const text = (value as { toString(): string }).toString();
  if (text !== '[object Object]') return `o${text}`;
  return `{${Object.entries(value as Record<string, unknown>)
    .map(([k, v]) => `${k}:${valueKey(v)}`)
    .join(',')}}`;
}
