import { type CqlType, isCounter, isMultiCell } from '../schema/cql-type.js';
import { entriesOf, itemsOf } from '../schema/cql-value/driver-values.js';
import { type Serialize, serializerOf } from '../schema/cql-value/serialize.js';
import type { UserTypeSchema } from '../schema/table-schema.js';
import { udtFieldCells } from '../write/udt-fields.js';
import type { CellValue, ComparedColumn } from './diff-entry.js';
import { isListWritetimeLimitation } from './list-writetimes.js';

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

/** Serializers of set elements and map keys, built once per type. */
const elementSerializers = new WeakMap<CqlType, Serialize>();

function elementKey(type: CqlType, userTypes: ReadonlyMap<string, UserTypeSchema>): (v: unknown) => string {
  let serialize = elementSerializers.get(type);
  if (serialize === undefined) {
    serialize = serializerOf(type, userTypes);
    elementSerializers.set(type, serialize);
  }
  const bytes = serialize;
  return (v) => bytes(v).toString('hex');
}

/**
 * The cells of a multi-cell column by element: sets by element, maps by key, lists by position,
 * UDTs by field name. A set element's or map key's identity is its serialized bytes (the cell path
 * Cassandra stores it under), here as hex. Cassandra 5.0 returns WRITETIME()/TTL() of such a column
 * as one list entry per element (per field for UDTs), in the value's own order.
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
    const key = elementKey(type.key, userTypes);
    entriesOf(cell.value).forEach(([k, v], i) => {
      out.set(key(k), { value: v, writetime: wts[i] ?? null, ttl: ttls[i] ?? null });
    });
    return out;
  }
  const key = type.kind === 'set' ? elementKey(type.element, userTypes) : undefined;
  itemsOf(cell.value, type.kind).forEach((v, i) => {
    out.set(key === undefined ? String(i) : key(v), {
      value: v,
      writetime: wts[i] ?? null,
      ttl: ttls[i] ?? null,
    });
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

const sameTimestamp = (a: unknown, b: unknown): boolean => a === b || asBig(a) === asBig(b);

/** Equal writetimes: one per cell, or a list of them for a multi-cell column. */
export function sameWritetimes(a: unknown, b: unknown): boolean {
  const x = list(a);
  const y = list(b);
  return x.length === y.length && x.every((w, i) => sameTimestamp(w, y[i]));
}

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

/** A column's outcome: the aspects that differ, or those that differ as migrate documents for lists. */
type ColumnOutcome = readonly Aspect[] | { readonly listWritetimes: readonly Aspect[] };

function compareColumn(
  column: ComparedColumn,
  o: CellValue,
  t: CellValue,
  options: CompareOptions,
): ColumnOutcome {
  const type = column.origin.type;
  if (isCounter(type)) return counterValue(o.value) === counterValue(t.value) ? NONE : VALUE;
  const sameValues = column.model.equals(o.value, t.value);
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
    if (type.kind === 'list' && isListWritetimeLimitation(o, t, options.ttlToleranceS)) {
      const aspects: Aspect[] = [];
      if (options.writetime && !same.writetime) aspects.push('writetime');
      if (options.ttl && !same.ttl) aspects.push('ttl');
      return { listWritetimes: aspects };
    }
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

/** A row's comparison: cells that differ, and lists that differ only as migrate documents. */
export interface RowComparison {
  readonly differences: CellDifference[];
  /** Non-frozen lists with equal elements and the metadata migrate writes for mixed ones (README). */
  readonly listWritetimes: CellDifference[];
}

/**
 * Compares a row's (or a partition's static) cells on both sides, column by column. Columns whose
 * Origin cells fall outside --writetime-min/--writetime-max are not compared.
 */
export function compareRow(
  columns: readonly ComparedColumn[],
  origin: readonly CellValue[],
  target: readonly CellValue[],
  options: CompareOptions,
): RowComparison {
  const differences: CellDifference[] = [];
  const listWritetimes: CellDifference[] = [];
  columns.forEach((column, i) => {
    const o = origin[i]!;
    const t = target[i]!;
    if (!inWindow(o, options)) return;
    const outcome = compareColumn(column, o, t, options);
    if ('listWritetimes' in outcome) {
      listWritetimes.push({ column, aspects: outcome.listWritetimes, origin: o, target: t });
    } else if (outcome.length > 0) {
      differences.push({ column, aspects: outcome, origin: o, target: t });
    }
  });
  return { differences, listWritetimes };
}

/** The cells that differ (migrate's documented list limitation is not a difference). */
export function compareCells(
  columns: readonly ComparedColumn[],
  origin: readonly CellValue[],
  target: readonly CellValue[],
  options: CompareOptions,
): CellDifference[] {
  return compareRow(columns, origin, target, options).differences;
}

/** Whether any cell holds a value (a static entry with only nulls stands for "no statics"). */
export const hasValues = (cells: readonly CellValue[]): boolean => cells.some((c) => !isNull(c.value));

/** Whether any cell of an Origin row passes the writetime window (rows entirely outside are skipped). */
export function anyInWindow(cells: readonly CellValue[], options: CompareOptions): boolean {
  if (options.writetimeMin === undefined && options.writetimeMax === undefined) return true;
  return cells.some((c) => !isNull(c.value) && inWindow(c, options));
}
