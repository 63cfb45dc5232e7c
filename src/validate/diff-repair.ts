import type { CqlClient } from '../connect/cluster-client.js';
import { type CellInput, type PlanOptions, planRowWrites, planStaticWrites } from '../migrate/cell-plan.js';
import { type Statement, type WriteTarget, writeStatement } from '../migrate/write-statement.js';
import { isCounter } from '../schema/cql-type.js';
import { quoteIdent } from '../schema/identifier.js';
import { type CompareOptions, compareCells, elementsOf, hasValues, newestWritetime } from './cell-compare.js';
import type { ComparedColumn, DiffEntry, DiffLayout } from './diff-entry.js';
import type { RepairOutcome } from './diff-report.js';

export interface RepairSetup {
  readonly target: CqlClient;
  readonly layout: DiffLayout;
  readonly writeTarget: WriteTarget;
  readonly plan: PlanOptions;
  readonly writeConsistency: number;
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

/**
 * Repairs Target from Origin, row by row, so that last-write-wins still decides:
 * - missing and mismatched rows: Origin's cells are written with Origin's writetimes and TTLs,
 *   grouped as migrate groups them (cell-plan.ts); Target cells that Origin lacks are deleted at
 *   the writetime seen on Target. A newer Target write therefore keeps winning, and is reported as
 *   "superseded" rather than corrected.
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
    const { writeTarget } = this.setup;
    const names = [
      ...writeTarget.partitionKey,
      ...(entry.clustering === undefined ? [] : writeTarget.clustering),
    ];
    return { cql: names.map((n) => `${quoteIdent(n)} = ?`).join(' AND '), params: keyValues(entry) };
  }

  private async execute(statements: readonly Statement[]): Promise<void> {
    const options = { prepare: true, consistency: this.setup.writeConsistency };
    // One partition per repair: an unlogged batch applies it in one round trip.
    if (statements.length === 1)
      await this.setup.target.execute(statements[0]!.query, statements[0]!.params, options);
    else if (statements.length > 1)
      await this.setup.target.batch([...statements], { ...options, logged: false });
  }

  /** Writes Origin's version of a missing or mismatched entry and checks the outcome. */
  async repairFromOrigin(origin: DiffEntry, target: DiffEntry | undefined): Promise<RepairResult> {
    const columns = this.columnsOf(origin);
    const statements = this.setup.counters
      ? this.counterStatements(origin, target, columns)
      : this.cellStatements(origin, target, columns);
    await this.execute(statements);
    const after = await this.setup.reread(origin);
    if (after === undefined)
      return {
        outcome: 'failed',
        note: 'row still absent on Target after the repair (deleted there by a newer write?)',
      };
    const left = compareCells(columns, origin.cells, after.cells, this.setup.compare);
    if (left.length === 0) return { outcome: 'corrected' };
    if (this.setup.counters)
      return {
        outcome: 'failed',
        note: `counters still differ in ${left.map((d) => d.column.origin.name).join(', ')}`,
      };
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

  private cellStatements(
    origin: DiffEntry,
    target: DiffEntry | undefined,
    columns: readonly ComparedColumn[],
  ) {
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
    const statements = plan.writes.map((w) => writeStatement(this.setup.writeTarget, w, keyValues(origin)));
    if (target !== undefined) statements.push(...this.removals(origin, target, columns));
    return statements;
  }

  /** Deletes of Target cells and collection elements that Origin does not have. */
  private removals(origin: DiffEntry, target: DiffEntry, columns: readonly ComparedColumn[]): Statement[] {
    const { tableCql } = this.setup.writeTarget;
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

  private counterStatements(
    origin: DiffEntry,
    target: DiffEntry | undefined,
    columns: readonly ComparedColumn[],
  ): Statement[] {
    const asBig = (v: unknown) => (v === null || v === undefined ? 0n : BigInt(String(v)));
    const deltas = columns
      .map((c, i) => ({ c, delta: asBig(origin.cells[i]!.value) - asBig(target?.cells[i]?.value) }))
      .filter((d) => isCounter(d.c.origin.type) && d.delta !== 0n);
    if (deltas.length === 0) return [];
    const where = this.whereCql(origin);
    const set = deltas
      .map((d) => `${quoteIdent(d.c.target.name)} = ${quoteIdent(d.c.target.name)} + ?`)
      .join(', ');
    return [
      {
        query: `UPDATE ${this.setup.writeTarget.tableCql} SET ${set} WHERE ${where.cql}`,
        params: [...deltas.map((d) => d.delta), ...where.params],
      },
    ];
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
    const { tableCql } = this.setup.writeTarget;
    const what =
      target.clustering === undefined ? `${columns.map((c) => quoteIdent(c.target.name)).join(', ')} ` : '';
    await this.execute([
      {
        query: `DELETE ${what}FROM ${tableCql} USING TIMESTAMP ? WHERE ${where.cql}`,
        params: [ts ?? fallbackTimestamp, ...where.params],
      },
    ]);
    const after = await this.setup.reread(target);
    if (after === undefined || (after.clustering === undefined && !hasValues(after.cells)))
      return { outcome: 'corrected' };
    return { outcome: 'superseded', note: 'Target wrote the row again after the diff read it' };
  }
}
