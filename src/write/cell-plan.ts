import type { ColumnSchema, UserTypeSchema } from '../schema/table-schema.js';
import { newestOf } from './list-merge.js';
import { udtFieldCells } from './udt-fields.js';

/**
 * How a row's cells become writes that carry each cell's own writetime and TTL.
 *
 * Cells that share (writetime, TTL) go into one statement `USING TIMESTAMP t AND TTL x`. The group
 * with the oldest writetime is written with INSERT, so the Target row gets a row marker (what keeps a
 * row alive when all its cells are gone, as an INSERT on Origin would have made); the other groups use
 * UPDATE, which adds no marker. What is preserved, per kind of column:
 * - single cells (scalars, frozen values, tuples, vectors): exact writetime and remaining TTL;
 * - sets and maps: exact per element (elements of one group are added with `c = c + ?`; when all
 *   elements share one writetime and TTL the whole value is assigned, as Origin's own write did);
 * - non-frozen UDTs: exact per field (`c.field = ?`);
 * - lists: one assignment of the whole list, with each element's writetime and TTL when they differ
 *   (the Target writer hands lists to list-reconciler.ts, which writes them exactly and never
 *   duplicates them: list elements are keyed by server-made time UUIDs);
 * - null cells are not written (no tombstones).
 * Rows with no cells at all (key columns only) are written with the run's fixed timestamp.
 */

export type Assignment =
  | {
      readonly op: 'set';
      readonly column: string;
      readonly value: unknown;
      /** A list's elements' own writetimes and TTLs, when they differ (the list reconciler writes them). */
      readonly elementMeta?: { readonly writetimes: readonly bigint[]; readonly ttls: readonly number[] };
    }
  | { readonly op: 'add'; readonly column: string; readonly value: unknown }
  | { readonly op: 'field'; readonly column: string; readonly field: string; readonly value: unknown };

export interface PlannedWrite {
  /** insert: row write with marker; update: row write without; static: partition-level write. */
  readonly kind: 'insert' | 'update' | 'static';
  readonly timestamp: bigint;
  /** Seconds; 0 means none (stated explicitly so a Target default TTL does not apply). */
  readonly ttl: number;
  readonly assignments: readonly Assignment[];
}

export interface CellInput {
  readonly column: ColumnSchema;
  /** Name of the column on Target (after --rename-columns). */
  readonly targetName: string;
  readonly value: unknown;
  /** As read: bigint, null, or for multi-cell columns a list of them. */
  readonly writetime: unknown;
  readonly ttl: unknown;
}

export interface PlanOptions {
  readonly writetimeMin: bigint | undefined;
  readonly writetimeMax: bigint | undefined;
  /** Timestamp for rows with no cells, fixed per run so reruns write the same thing. */
  readonly fallbackTimestamp: bigint;
  readonly userTypes: ReadonlyMap<string, UserTypeSchema>;
}

export interface RowPlan {
  readonly writes: readonly PlannedWrite[];
  /** Cells left out by the writetime filter. */
  readonly skippedCells: number;
}

interface Group {
  readonly timestamp: bigint;
  readonly ttl: number;
  readonly assignments: Assignment[];
}

const asTimestamp = (v: unknown): bigint | undefined =>
  typeof v === 'bigint'
    ? v
    : typeof v === 'number'
      ? BigInt(v)
      : v === null || v === undefined
        ? undefined
        : BigInt(String(v));
const asTtl = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
const listOf = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

class Groups {
  private readonly byKey = new Map<string, Group>();
  skipped = 0;
  constructor(private readonly options: PlanOptions) {}

  /** Whether a cell of this writetime passes the --writetime-min/--writetime-max filter. */
  accepts(timestamp: bigint): boolean {
    const { writetimeMin, writetimeMax } = this.options;
    const ok =
      (writetimeMin === undefined || timestamp >= writetimeMin) &&
      (writetimeMax === undefined || timestamp <= writetimeMax);
    if (!ok) this.skipped++;
    return ok;
  }

  add(timestamp: bigint, ttl: number, assignment: Assignment): void {
    const key = `${timestamp}|${ttl}`;
    let group = this.byKey.get(key);
    if (group === undefined) {
      group = { timestamp, ttl, assignments: [] };
      this.byKey.set(key, group);
    }
    group.assignments.push(assignment);
  }

  all(): Group[] {
    return [...this.byKey.values()];
  }
}

function entriesOf(value: unknown): [unknown, unknown][] {
  if (value instanceof Map) return [...value.entries()];
  if (value !== null && typeof value === 'object') return Object.entries(value);
  return [];
}

function elementsOf(value: unknown): unknown[] {
  if (value instanceof Set) return [...value];
  return Array.isArray(value) ? value : [];
}

/** Adds one column's cells to the groups. */
function planColumn(cell: CellInput, groups: Groups, options: PlanOptions): void {
  const { column, targetName: name, value } = cell;
  const type = column.type;
  const multi =
    (type.kind === 'list' || type.kind === 'set' || type.kind === 'map' || type.kind === 'udt') &&
    !type.frozen;
  if (!multi) {
    const timestamp = asTimestamp(cell.writetime);
    if (timestamp === undefined || !groups.accepts(timestamp)) return;
    groups.add(timestamp, asTtl(cell.ttl), { op: 'set', column: name, value });
    return;
  }
  if (type.kind === 'udt') {
    const fields = udtFieldCells(
      options.userTypes.get(type.name)?.fields ?? [],
      value,
      cell.writetime,
      cell.ttl,
    );
    // Cassandra 5.0 has been seen to answer WRITETIME() of a non-frozen UDT with null for a field that
    // holds a value (after a null field). Such a field is written at the newest writetime known for
    // the UDT (without TTL) rather than lost.
    const known = fields.map((f) => asTimestamp(f.writetime)).filter((t): t is bigint => t !== undefined);
    const newestKnown =
      known.length === 0 ? options.fallbackTimestamp : known.reduce((a, b) => (b > a ? b : a));
    for (const field of fields) {
      const timestamp = asTimestamp(field.writetime) ?? newestKnown;
      if (!groups.accepts(timestamp)) continue;
      groups.add(timestamp, asTtl(field.ttl), {
        op: 'field',
        column: name,
        field: field.name,
        value: field.value,
      });
    }
    return;
  }
  const writetimes = listOf(cell.writetime).map(asTimestamp);
  const ttls = listOf(cell.ttl).map(asTtl);
  const elements: unknown[] = type.kind === 'map' ? entriesOf(value) : elementsOf(value);
  const kept = elements
    .map((element, i) => ({ element, timestamp: writetimes[i], ttl: ttls[i] ?? 0 }))
    .filter(
      (e): e is { element: unknown; timestamp: bigint; ttl: number } =>
        e.timestamp !== undefined && groups.accepts(e.timestamp),
    );
  if (kept.length === 0) return;
  const uniform = kept.every((e) => e.timestamp === kept[0]!.timestamp && e.ttl === kept[0]!.ttl);
  const rebuild = (items: typeof kept) =>
    type.kind === 'map'
      ? new Map(items.map((e) => e.element as [unknown, unknown]))
      : items.map((e) => e.element);
  if (uniform && kept.length === elements.length) {
    groups.add(kept[0]!.timestamp, kept[0]!.ttl, { op: 'set', column: name, value: rebuild(kept) });
  } else if (type.kind === 'list') {
    const writetimes = kept.map((e) => e.timestamp);
    const ttls = kept.map((e) => e.ttl);
    const whole = wholeListMeta(writetimes, ttls);
    groups.add(whole.timestamp ?? kept[0]!.timestamp, whole.ttl, {
      op: 'set',
      column: name,
      value: rebuild(kept),
      elementMeta: { writetimes, ttls },
    });
  } else {
    const byGroup = new Map<string, typeof kept>();
    for (const e of kept) {
      const key = `${e.timestamp}|${e.ttl}`;
      byGroup.set(key, [...(byGroup.get(key) ?? []), e]);
    }
    for (const items of byGroup.values()) {
      groups.add(items[0]!.timestamp, items[0]!.ttl, { op: 'add', column: name, value: rebuild(items) });
    }
  }
}

/**
 * The writetime and TTL of a list written whole: its newest element's writetime, and the longest
 * TTL when every element expires (none otherwise: a cell without TTL must not gain one).
 */
export function wholeListMeta(
  writetimes: readonly (bigint | undefined)[],
  ttls: readonly number[],
): { timestamp: bigint | undefined; ttl: number } {
  const ttl = ttls.length > 0 && ttls.every((t) => t > 0) ? Math.max(...ttls) : 0;
  return { timestamp: newestOf(writetimes), ttl };
}

/**
 * The common case, planned without grouping: every present cell (and every element of a set, map or
 * list) has the same writetime and TTL, as after one INSERT. Undefined when the row needs grouping.
 */
function planUniformRow(present: readonly CellInput[], options: PlanOptions): RowPlan | undefined {
  let timestamp: bigint | undefined;
  let ttl = 0;
  const assignments: Assignment[] = [];
  for (const cell of present) {
    const type = cell.column.type;
    let cellTimestamp: bigint | undefined;
    let cellTtl: number;
    if (
      (type.kind === 'list' || type.kind === 'set' || type.kind === 'map' || type.kind === 'udt') &&
      !type.frozen
    ) {
      if (type.kind === 'udt' || !Array.isArray(cell.writetime) || cell.writetime.length === 0)
        return undefined;
      const writetimes = cell.writetime as unknown[];
      const ttls = listOf(cell.ttl);
      cellTimestamp = asTimestamp(writetimes[0]);
      cellTtl = asTtl(ttls[0]);
      for (let i = 1; i < writetimes.length; i++) {
        if (asTimestamp(writetimes[i]) !== cellTimestamp || asTtl(ttls[i]) !== cellTtl) return undefined;
      }
    } else {
      cellTimestamp = asTimestamp(cell.writetime);
      cellTtl = asTtl(cell.ttl);
    }
    if (cellTimestamp === undefined) return undefined;
    if (timestamp === undefined) {
      timestamp = cellTimestamp;
      ttl = cellTtl;
    } else if (cellTimestamp !== timestamp || cellTtl !== ttl) {
      return undefined;
    }
    assignments.push({ op: 'set', column: cell.targetName, value: cell.value });
  }
  if (timestamp === undefined) return undefined;
  const { writetimeMin, writetimeMax } = options;
  if (
    (writetimeMin !== undefined && timestamp < writetimeMin) ||
    (writetimeMax !== undefined && timestamp > writetimeMax)
  ) {
    return undefined; // the general path counts what the filter skips
  }
  return { writes: [{ kind: 'insert', timestamp, ttl, assignments }], skippedCells: 0 };
}

/** Writes for one clustering row's regular cells (or a table's row when it has no clustering). */
export function planRowWrites(cells: readonly CellInput[], options: PlanOptions): RowPlan {
  const present = cells.filter((c) => c.value !== null && c.value !== undefined);
  if (present.length === 0) {
    return {
      writes: [{ kind: 'insert', timestamp: options.fallbackTimestamp, ttl: 0, assignments: [] }],
      skippedCells: 0,
    };
  }
  const uniform = planUniformRow(present, options);
  if (uniform !== undefined) return uniform;
  const groups = new Groups(options);
  for (const cell of present) planColumn(cell, groups, options);
  const all = groups
    .all()
    .sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : a.ttl - b.ttl));
  if (all.length === 0) return { writes: [], skippedCells: groups.skipped };
  const [oldest, ...rest] = all as [Group, ...Group[]];
  const writes: PlannedWrite[] = [];
  if (oldest.assignments.every((a) => a.op === 'set')) {
    writes.push({ kind: 'insert', ...oldest });
  } else {
    // INSERT cannot add to a collection or set one UDT field: the marker goes in on its own.
    writes.push({ kind: 'insert', timestamp: oldest.timestamp, ttl: oldest.ttl, assignments: [] });
    writes.push({ kind: 'update', ...oldest });
  }
  for (const group of rest) writes.push({ kind: 'update', ...group });
  return { writes, skippedCells: groups.skipped };
}

/** Writes for a partition's static cells: partition-level UPDATEs, no row marker. */
export function planStaticWrites(cells: readonly CellInput[], options: PlanOptions): RowPlan {
  const groups = new Groups(options);
  for (const cell of cells)
    if (cell.value !== null && cell.value !== undefined) planColumn(cell, groups, options);
  return {
    writes: groups.all().map((g) => ({ kind: 'static' as const, ...g })),
    skippedCells: groups.skipped,
  };
}
