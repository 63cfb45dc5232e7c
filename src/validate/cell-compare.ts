import { isCounter, isMultiCell } from '../schema/cql-type.js';
import type { UserTypeSchema } from '../schema/table-schema.js';
import { valueKey } from '../schema/value-key.js';
import { udtFieldCells } from '../write/udt-fields.js';
import type { CellValue, ComparedColumn } from './diff-entry.js';

/** What differs in one column: its value, its writetime(s), its TTL(s). */
export type Aspect = 'value' | 'writetime' | 'ttl';

export interface CellDifference {
  readonly column: ComparedColumn;
  readonly aspects: readonly Aspect[];
  readonly origin: CellValue;
  readonly target: CellValue;
}

export interface CompareOptions {
  readonly writetime: boolean;
  readonly ttl: boolean;
  /** Seconds by which two remaining TTLs may differ (they are read at slightly different times). */
  readonly ttlToleranceS: number;
  readonly writetimeMin: bigint | undefined;
  readonly writetimeMax: bigint | undefined;
  readonly userTypes: ReadonlyMap<string, UserTypeSchema>;
}

const isNull = (v: unknown): boolean => v === null || v === undefined;
const asBig = (v: unknown): bigint | undefined =>
  isNull(v) ? undefined : typeof v === 'bigint' ? v : BigInt(String(v));
const asNumber = (v: unknown): number | undefined => (isNull(v) ? undefined : Number(v));

function ttlDiffers(a: unknown, b: unknown, tolerance: number): boolean {
  const x = asNumber(a);
  const y = asNumber(b);
  if (x === undefined || y === undefined) return x !== y;
  return Math.abs(x - y) > tolerance;
}

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : isNull(v) ? [] : [v]);

interface Element {
  readonly value: unknown;
  readonly writetime: unknown;
  readonly ttl: unknown;
}

/**
 * The cells of a multi-cell column by element: sets by element, maps by key, lists by position,
 * UDTs by field name. Cassandra 5.0 returns WRITETIME()/TTL() of such a column as one list entry
 * per element (per field for UDTs), in the value's own order.
 */
export function elementsOf(
  column: ComparedColumn,
  cell: CellValue,
  userTypes: ReadonlyMap<string, UserTypeSchema>,
): Map<string, Element> {
  const type = column.origin.type;
  const wts = list(cell.writetime);
  const ttls = list(cell.ttl);
  const out = new Map<string, Element>();
  if (isNull(cell.value)) return out;
  if (type.kind === 'udt') {
    const fields = userTypes.get(type.name)?.fields ?? [];
    for (const f of udtFieldCells(fields, cell.value, cell.writetime, cell.ttl)) out.set(f.name, f);
    return out;
  }
  if (type.kind === 'map') {
    const entries = cell.value instanceof Map ? [...cell.value] : Object.entries(cell.value as object);
    entries.forEach(([k, v], i) => {
      out.set(valueKey(k), { value: v, writetime: wts[i] ?? null, ttl: ttls[i] ?? null });
    });
    return out;
  }
  const items = cell.value instanceof Set ? [...cell.value] : list(cell.value);
  items.forEach((v, i) => {
    const key = type.kind === 'set' ? valueKey(v) : String(i);
    out.set(key, { value: v, writetime: wts[i] ?? null, ttl: ttls[i] ?? null });
  });
  return out;
}

/** The newest writetime of a cell or of any element of a multi-cell column. */
export function newestWritetime(cell: CellValue): bigint | undefined {
  let newest: bigint | undefined;
  for (const w of list(cell.writetime)) {
    const t = asBig(w);
    if (t !== undefined && (newest === undefined || t > newest)) newest = t;
  }
  return newest;
}

function inWindow(cell: CellValue, options: CompareOptions): boolean {
  if (options.writetimeMin === undefined && options.writetimeMax === undefined) return true;
  const wt = newestWritetime(cell);
  if (wt === undefined) return isNull(cell.value);
  return (
    (options.writetimeMin === undefined || wt >= options.writetimeMin) &&
    (options.writetimeMax === undefined || wt <= options.writetimeMax)
  );
}

/** Counters compare by value; an absent counter cell counts as 0. */
const counterValue = (v: unknown): bigint => asBig(v) ?? 0n;

/** Equal decoded values, without building keys for primitives, buffers and collections. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    // Different primitives (or null against a value), except numbers/bigints of equal value.
    return typeof a === typeof b ? false : valueKey(a) === valueKey(b);
  }
  if (Buffer.isBuffer(a)) return Buffer.isBuffer(b) && a.equals(b);
  if (Array.isArray(a)) return Array.isArray(b) && sameSequence(a, b);
  // Sets and maps come back in Cassandra's order, so equal ones iterate alike.
  if (a instanceof Set) return b instanceof Set && a.size === b.size && sameSequence([...a], [...b]);
  if (a instanceof Map) {
    return (
      b instanceof Map &&
      a.size === b.size &&
      sameSequence([...a.keys()], [...b.keys()]) &&
      sameSequence([...a.values()], [...b.values()])
    );
  }
  return valueKey(a) === valueKey(b);
}

function sameSequence(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!sameValue(a[i], b[i])) return false;
  return true;
}

const sameTimestamp = (a: unknown, b: unknown): boolean => a === b || asBig(a) === asBig(b);

/** Per-element writetimes and TTLs of two equal multi-cell values line up index by index. */
function sameElementMeta(
  o: CellValue,
  t: CellValue,
  options: CompareOptions,
): { writetime: boolean; ttl: boolean } {
  const ow = list(o.writetime);
  const tw = list(t.writetime);
  const ot = list(o.ttl);
  const tt = list(t.ttl);
  let writetime = ow.length === tw.length;
  let ttl = ot.length === tt.length;
  for (let i = 0; writetime && i < ow.length; i++) writetime = sameTimestamp(ow[i], tw[i]);
  for (let i = 0; ttl && i < ot.length; i++) ttl = !ttlDiffers(ot[i], tt[i], options.ttlToleranceS);
  return { writetime, ttl };
}

function compareColumn(
  column: ComparedColumn,
  o: CellValue,
  t: CellValue,
  options: CompareOptions,
): readonly Aspect[] {
  const type = column.origin.type;
  if (isCounter(type)) return counterValue(o.value) === counterValue(t.value) ? NONE : VALUE;
  const sameValues = sameValue(o.value, t.value);
  if (isNull(o.value) || isNull(t.value)) return sameValues ? NONE : VALUE;
  if (!isMultiCell(type)) {
    const writetime = options.writetime && !sameTimestamp(o.writetime, t.writetime);
    const ttl = options.ttl && ttlDiffers(o.ttl, t.ttl, options.ttlToleranceS);
    if (sameValues && !writetime && !ttl) return NONE;
    const aspects: Aspect[] = sameValues ? [] : ['value'];
    if (writetime) aspects.push('writetime');
    if (ttl) aspects.push('ttl');
    return aspects;
  }
  if (sameValues) {
    // Equal values list their elements in the same order: compare the metadata lists directly.
    const same = sameElementMeta(o, t, options);
    if ((same.writetime || !options.writetime) && (same.ttl || !options.ttl)) return NONE;
  }
  const aspects: Aspect[] = sameValues ? [] : ['value'];
  const oe = elementsOf(column, o, options.userTypes);
  const te = elementsOf(column, t, options.userTypes);
  let writetime = false;
  let ttl = false;
  for (const [key, a] of oe) {
    const b = te.get(key);
    if (b === undefined) continue;
    if (!sameTimestamp(a.writetime, b.writetime)) writetime = true;
    if (ttlDiffers(a.ttl, b.ttl, options.ttlToleranceS)) ttl = true;
  }
  if (options.writetime && writetime) aspects.push('writetime');
  if (options.ttl && ttl) aspects.push('ttl');
  return aspects;
}

const NONE: readonly Aspect[] = [];
const VALUE: readonly Aspect[] = ['value'];

/**
 * Compares a row's (or a partition's static) cells on both sides, column by column. Columns whose
 * Origin cells fall outside --writetime-min/--writetime-max are not compared.
 */
export function compareCells(
  columns: readonly ComparedColumn[],
  origin: readonly CellValue[],
  target: readonly CellValue[],
  options: CompareOptions,
): CellDifference[] {
  const out: CellDifference[] = [];
  columns.forEach((column, i) => {
    const o = origin[i]!;
    const t = target[i]!;
    if (!inWindow(o, options)) return;
    const aspects = compareColumn(column, o, t, options);
    if (aspects.length > 0) out.push({ column, aspects, origin: o, target: t });
  });
  return out;
}

/** Whether any cell holds a value (a static entry with only nulls stands for "no statics"). */
export const hasValues = (cells: readonly CellValue[]): boolean => cells.some((c) => !isNull(c.value));

/** Whether any cell of an Origin row passes the writetime window (rows entirely outside are skipped). */
export function anyInWindow(cells: readonly CellValue[], options: CompareOptions): boolean {
  if (options.writetimeMin === undefined && options.writetimeMax === undefined) return true;
  return cells.some((c) => !isNull(c.value) && inWindow(c, options));
}
