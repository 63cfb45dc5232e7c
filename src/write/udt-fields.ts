/** A field of a non-frozen UDT cell that holds a value, with its own writetime and TTL as read. */
export interface UdtFieldCell {
  readonly name: string;
  readonly value: unknown;
  /** As read (null when Cassandra gave none). */
  readonly writetime: unknown;
  readonly ttl: unknown;
}

const isNull = (v: unknown): boolean => v === null || v === undefined;
const listOf = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/**
 * The fields of a non-frozen UDT cell that hold a value, each with its writetime and TTL. Cassandra
 * 5.0 answers `WRITETIME()`/`TTL()` of such a column with one list entry per field of the type (null
 * for a field without a cell); should a version list only the fields that hold a cell, the entries
 * are matched to those. Read once here for migrate's writes and diff's comparison alike.
 */
export function udtFieldCells(
  fields: readonly { readonly name: string }[],
  value: unknown,
  writetimes: unknown,
  ttls: unknown,
): UdtFieldCell[] {
  if (isNull(value)) return [];
  const object = value as Record<string, unknown>;
  const wts = listOf(writetimes);
  const tls = listOf(ttls);
  const present = fields.filter((f) => !isNull(object[f.name]));
  const perField = wts.length === fields.length;
  const out: UdtFieldCell[] = [];
  (perField ? fields : present).forEach((f, i) => {
    if (isNull(object[f.name])) return;
    out.push({ name: f.name, value: object[f.name], writetime: wts[i] ?? null, ttl: tls[i] ?? null });
  });
  return out;
}
