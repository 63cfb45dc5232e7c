import { isCounter } from '../schema/cql-type.js';
import { quoteIdent } from '../schema/identifier.js';
import { type CellInput, type PlanOptions, planRowWrites, planStaticWrites } from '../write/cell-plan.js';
import { counterDeltas, counterUpdate } from '../write/counter-writes.js';
import { type RowWrites, TargetWriter, type TargetWriterSetup } from '../write/target-writer.js';
import type { Statement } from '../write/write-statement.js';
import {
  type CellDifference,
  type CompareOptions,
  compareCells,
  elementsOf,
  hasValues,
  newestWritetime,
} from './cell-compare.js';
import type { ComparedColumn, DiffEntry, DiffLayout } from './diff-entry.js';
import type { RepairOutcome } from './diff-report.js';

export interface RepairSetup {
  /** Migrate's Target writer: batching, TTL ageing, the Target rate limit, lists without duplicates. */
  readonly writer: TargetWriterSetup;
  readonly layout: DiffLayout;
  readonly plan: PlanOptions;
  readonly compare: CompareOptions;
  readonly counters: boolean;
  /** Re-reads the entry from Target after the repair. */
  readonly reread: (key: DiffEntry) => Promise<DiffEntry | undefined>;
}

export interface RepairResult {
  readonly outcome: Exclude<RepairOutcome, 'reported'>;
  readonly note?: string;
}

const keyValues = (e: DiffEntry): unknown[] => [...e.partition, ...(e.clustering ?? [])];

/** A repair's writes: planned cell writes and statements sent as they are (deletes). */
interface RowWritesInput {
  readonly planned: RowWrites['writes'];
  readonly extra: readonly Statement[];
}

/**
 * A difference that is only the writetime (or TTL) of a list whose content is equal: the Target
 * writer writes a list whole at one writetime, where Origin's elements may have several.
 */
function isWholeListWritetime(d: CellDifference): boolean {
  const type = d.column.origin.type;
  return type.kind === 'list' && !type.frozen && !d.aspects.includes('value');
}

/**
 * Repairs Target from Origin, row by row, so that last-write-wins still decides:
 * - missing and mismatched rows: Origin's cells are written with Origin's writetimes and TTLs (aged
 *   from when Origin was read) through migrate's Target writer; Target cells that Origin lacks are
 *   deleted at the writetime seen on Target. A newer Target write (or delete) therefore keeps
 *   winning, and is reported as "superseded" rather than corrected. Lists are written as migrate
 *   writes them: Origin's elements in Origin's order, never duplicated, whole at one writetime, so a
 *   list whose elements had several writetimes on Origin is left with equal content and that one
 *   writetime (README, "What zdm migrate preserves"): corrected, with a note.
 * - counters: the difference is added (writetimes do not apply to counters).
 * - extra rows (Target only): deleted USING TIMESTAMP of the newest writetime seen on the row (the
 *   run's fixed timestamp when the row has no cells), so a Target write made after the diff read the
 *   row survives the delete.
 * Each repair is checked by reading Target again.
 */
export class Repairer {
  constructor(private readonly setup: RepairSetup) {}

  private columnsOf(entry: DiffEntry): readonly ComparedColumn[] {
    return entry.clustering === undefined ? this.setup.layout.statics : this.setup.layout.regulars;
  }

  private whereCql(entry: DiffEntry): { cql: string; params: unknown[] } {
    const writeTarget = this.setup.writer.table;
    const names = [
      ...writeTarget.partitionKey,
      ...(entry.clustering === undefined ? [] : writeTarget.clustering),
    ];
    return { cql: names.map((n) => `${quoteIdent(n)} = ?`).join(' AND '), params: keyValues(entry) };
  }

  /** Sends one entry's statements through the Target writer; `readAt`: when Origin was read. */
  private async write(readAt: number, keyValues: readonly unknown[], writes: RowWritesInput): Promise<void> {
    const writer = new TargetWriter(this.setup.writer, readAt);
    writer.add({ keyValues, rows: 1, writes: writes.planned, extra: writes.extra });
    await writer.done();
  }

  /**
   * Writes Origin's version of a missing or mismatched entry and checks the outcome. `readAt`: when
   * `origin` was read (its remaining TTLs were true then).
   */
  async repairFromOrigin(
    origin: DiffEntry,
    target: DiffEntry | undefined,
    readAt: number,
  ): Promise<RepairResult> {
    const columns = this.columnsOf(origin);
    if (this.setup.counters) {
      // Counter additions are not idempotent: sent once, never retried by the writer.
      const update = this.counterStatement(origin, target, columns);
      if (update !== undefined) {
        const { target: client, consistency, limiter, slots } = this.setup.writer;
        await slots(async () => {
          await limiter.acquire(1);
          await client.execute(update.query, update.params, { prepare: true, consistency });
        });
      }
    } else {
      await this.write(readAt, keyValues(origin), this.cellWrites(origin, target, columns));
    }
    const after = await this.setup.reread(origin);
    if (after === undefined) {
      return this.setup.counters
        ? { outcome: 'failed', note: 'counter row still absent on Target after the repair' }
        : {
            outcome: 'superseded',
            note: 'Target deleted the row after Origin wrote it (a newer delete wins)',
          };
    }
    const left = compareCells(columns, origin.cells, after.cells, this.setup.compare);
    if (left.length === 0) return { outcome: 'corrected' };
    if (this.setup.counters)
      return {
        outcome: 'failed',
        note: `counters still differ in ${left.map((d) => d.column.origin.name).join(', ')}`,
      };
    if (left.every(isWholeListWritetime)) {
      return {
        outcome: 'corrected',
        note: `list content equal; ${left.map((d) => d.column.origin.name).join(', ')} written whole at one writetime (documented)`,
      };
    }
    const newer = left.filter((d) => {
      const o = newestWritetime(d.origin);
      const t = newestWritetime(d.target);
      return t !== undefined && (o === undefined || t > o);
    });
    if (newer.length === left.length) {
      return {
        outcome: 'superseded',
        note: `Target holds newer writes in ${newer.map((d) => d.column.origin.name).join(', ')}`,
      };
    }
    return {
      outcome: 'failed',
      note: `still different in ${left.map((d) => d.column.origin.name).join(', ')} (equal writetimes: Cassandra resolves the tie on Target's side)`,
    };
  }

  private cellWrites(
    origin: DiffEntry,
    target: DiffEntry | undefined,
    columns: readonly ComparedColumn[],
  ): RowWritesInput {
    const cells: CellInput[] = columns.map((c, i) => ({
      column: c.origin,
      targetName: c.target.name,
      value: origin.cells[i]!.value,
      writetime: origin.cells[i]!.writetime,
      ttl: origin.cells[i]!.ttl,
    }));
    const plan =
      origin.clustering === undefined
        ? planStaticWrites(cells, this.setup.plan)
        : planRowWrites(cells, this.setup.plan);
    return {
      planned: plan.writes,
      extra: target === undefined ? [] : this.removals(origin, target, columns),
    };
  }

  /** Deletes of Target cells and collection elements that Origin does not have. */
  private removals(origin: DiffEntry, target: DiffEntry, columns: readonly ComparedColumn[]): Statement[] {
    const { tableCql } = this.setup.writer.table;
    const where = this.whereCql(origin);
    const out: Statement[] = [];
    columns.forEach((c, i) => {
      const o = origin.cells[i]!;
      const t = target.cells[i]!;
      const name = quoteIdent(c.target.name);
      if (t.value === null || t.value === undefined) return;
      if (o.value === null || o.value === undefined) {
        const ts = newestWritetime(t);
        if (ts === undefined) return;
        out.push({
          query: `DELETE ${name} FROM ${tableCql} USING TIMESTAMP ? WHERE ${where.cql}`,
          params: [ts, ...where.params],
        });
        return;
      }
      const kind = c.origin.type.kind;
      if ((kind !== 'set' && kind !== 'map') || !('frozen' in c.origin.type) || c.origin.type.frozen) return;
      const oe = elementsOf(c, o, this.setup.layout.userTypes);
      const te = elementsOf(c, t, this.setup.layout.userTypes);
      const targetItems = t.value instanceof Map ? [...t.value.keys()] : [...(t.value as Set<unknown>)];
      [...te.entries()].forEach(([key, element], j) => {
        if (oe.has(key)) return;
        const ts = element.writetime;
        if (ts === null || ts === undefined) return;
        out.push(
          kind === 'set'
            ? {
                query: `UPDATE ${tableCql} USING TIMESTAMP ? SET ${name} = ${name} - ? WHERE ${where.cql}`,
                params: [ts, new Set([element.value]), ...where.params],
              }
            : {
                query: `DELETE ${name}[?] FROM ${tableCql} USING TIMESTAMP ? WHERE ${where.cql}`,
                params: [targetItems[j], ts, ...where.params],
              },
        );
      });
    });
    return out;
  }

  private counterStatement(
    origin: DiffEntry,
    target: DiffEntry | undefined,
    columns: readonly ComparedColumn[],
  ): Statement | undefined {
    const counters = columns.filter((c) => isCounter(c.origin.type));
    const index = counters.map((c) => columns.indexOf(c));
    const deltas = counterDeltas(
      index.map((i) => origin.cells[i]!.value),
      target === undefined ? undefined : index.map((i) => target.cells[i]!.value),
    );
    const changes = counters
      .map((c, i) => ({ column: c.target.name, delta: deltas[i]! }))
      .filter((c) => c.delta !== 0n);
    return counterUpdate(this.setup.writer.table, changes, keyValues(origin));
  }

  /** Deletes a Target-only entry at the newest writetime seen on it. */
  async deleteExtra(target: DiffEntry, fallbackTimestamp: bigint): Promise<RepairResult> {
    if (this.setup.counters) {
      return {
        outcome: 'failed',
        note: 'counter rows are never deleted: a deleted counter cannot be written again',
      };
    }
    const columns = this.columnsOf(target);
    let ts: bigint | undefined;
    for (const cell of target.cells) {
      const w = newestWritetime(cell);
      if (w !== undefined && (ts === undefined || w > ts)) ts = w;
    }
    const where = this.whereCql(target);
    const { tableCql } = this.setup.writer.table;
    const what =
      target.clustering === undefined ? `${columns.map((c) => quoteIdent(c.target.name)).join(', ')} ` : '';
    await this.write(Date.now(), keyValues(target), {
      planned: [],
      extra: [
        {
          query: `DELETE ${what}FROM ${tableCql} USING TIMESTAMP ? WHERE ${where.cql}`,
          params: [ts ?? fallbackTimestamp, ...where.params],
        },
      ],
    });
    const after = await this.setup.reread(target);
    if (after === undefined || (after.clustering === undefined && !hasValues(after.cells)))
      return { outcome: 'corrected' };
    return { outcome: 'superseded', note: 'Target wrote the row again after the diff read it' };
  }
}
