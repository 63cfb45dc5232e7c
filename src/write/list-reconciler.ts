import type { LimitFunction } from 'p-limit';
import type { CqlClient } from '../connect/cluster-client.js';
import { cqlValueModel } from '../schema/cql-value/index.js';
import { quoteIdent } from '../schema/identifier.js';
import type { ColumnSchema, TableSchema } from '../schema/table-schema.js';
import {
  nextListStep,
  type OriginList,
  type SameList,
  type TargetList,
  wholeListMeta,
} from './list-merge.js';
import { agedTtl } from './ttl-age.js';
import type { WriteTarget } from './write-statement.js';

/** Where one table's non-frozen lists live on both sides. */
export interface ListTables {
  readonly origin: CqlClient;
  readonly target: CqlClient;
  readonly originTableCql: string;
  readonly targetTableCql: string;
  /** Key column names, partition key then clustering, on each side (same values on both). */
  readonly originKeys: { readonly partition: readonly string[]; readonly clustering: readonly string[] };
  readonly targetKeys: { readonly partition: readonly string[]; readonly clustering: readonly string[] };
  /** Non-frozen list columns by Target name: their Origin name, whether they are static, and list equality. */
  readonly columns: ReadonlyMap<
    string,
    { readonly originName: string; readonly isStatic: boolean; readonly sameList: SameList }
  >;
  /** Consistency of Origin reads; Target is read at the write consistency. */
  readonly readConsistency: number;
  readonly writeConsistency: number;
  /** Shared with the other Target writes: bounds the requests in flight. */
  readonly slots: LimitFunction;
}

/** One list cell to bring to Origin's content. */
export interface ListCell {
  /** Target name of the column. */
  readonly column: string;
  /** Partition key values, then clustering values (ignored for a static list). */
  readonly keyValues: readonly unknown[];
  readonly list: OriginList;
  /** When Origin's list was read (ms since the epoch), for TTL ageing. */
  readonly readAt: number;
}

/** How long Origin is given, in steps, to show a write that Target already holds (see reconcile). */
const CATCH_UP_DELAYS_MS = [20, 200, 1000];

/** Rounds of read, decide, write before a list that keeps changing is left to a later pass. */
const MAX_ROUNDS = 6;

const bigOrUndefined = (v: unknown): bigint | undefined =>
  v === null || v === undefined ? undefined : BigInt(String(v));
const arrayOf = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/**
 * Writes non-frozen lists so they are never duplicated (see list-merge.ts): reads Target's list,
 * decides, writes Origin's list whole when it differs, and reads Target again to see that it holds
 * Origin's content. A write sent through the proxy to both clusters between the read and the write
 * shows up on that second read and is settled by reading Origin again, so reruns, resumes, repairs
 * and live appends all end with Origin's elements in Origin's order.
 */
export class ListReconciler {
  private readonly queries = new Map<string, string>();

  constructor(private readonly tables: ListTables) {}

  has(column: string): boolean {
    return this.tables.columns.has(column);
  }

  isStatic(column: string): boolean {
    return this.tables.columns.get(column)?.isStatic ?? false;
  }

  /** Resolves true once Target holds Origin's list, false when it kept changing (left for later). */
  async reconcile(cell: ListCell): Promise<boolean> {
    let origin: OriginList | undefined = cell.list;
    let readAt = cell.readAt;
    let fresh = false;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const target = await this.readTarget(cell);
      const step = nextListStep(origin, target, fresh, this.tables.columns.get(cell.column)!.sameList);
      if (step.kind === 'equal') return true;
      if (step.kind === 'reread-origin') {
        readAt = Date.now();
        origin = await this.readOrigin(cell);
        if (origin === undefined) return true; // Origin's list is gone since: nothing left to copy
        fresh = true;
        continue;
      }
      if (step.timestamp > origin.timestamp) {
        // Target holds elements newer than Origin's list: they may be a write the proxy sent to
        // both clusters that reached Target first. Origin is given a short while to show them
        // before the whole-list write erases them on Target.
        const caughtUp = await this.originCaughtUp(cell, origin);
        if (caughtUp !== undefined) {
          readAt = caughtUp.readAt;
          origin = caughtUp.list;
          if (origin === undefined) return true;
          fresh = true;
          continue;
        }
      }
      await this.write(cell, origin.elements, step.timestamp, agedTtl(origin.ttl, readAt, Date.now()));
      // Origin is read again before Target's state is judged: a write sent to both clusters through
      // the proxy can land on Target first, be read there, and be erased by this whole-list write
      // while Origin did not hold it yet; only a fresh Origin shows that it is missing on Target.
      readAt = Date.now();
      origin = await this.readOrigin(cell);
      if (origin === undefined) return true;
      fresh = true;
    }
    return false;
  }

  /**
   * Reads Origin again after growing delays (bounded) until its list differs from `seen`: the new
   * list and when it was read, or undefined when it stayed the same.
   */
  private async originCaughtUp(
    cell: ListCell,
    seen: OriginList,
  ): Promise<{ list: OriginList | undefined; readAt: number } | undefined> {
    const same = this.tables.columns.get(cell.column)!.sameList;
    for (const delayMs of CATCH_UP_DELAYS_MS) {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      const readAt = Date.now();
      const list = await this.readOrigin(cell);
      if (list === undefined || !same(list.elements, seen.elements)) return { list, readAt };
    }
    return undefined;
  }

  private keyParams(cell: ListCell, keys: ListTables['targetKeys']): unknown[] {
    const count = keys.partition.length + (this.isStatic(cell.column) ? 0 : keys.clustering.length);
    return cell.keyValues.slice(0, count);
  }

  private whereCql(column: string, keys: ListTables['targetKeys']): string {
    const names = this.isStatic(column) ? keys.partition : [...keys.partition, ...keys.clustering];
    return names.map((n) => `${quoteIdent(n)} = ?`).join(' AND ');
  }

  private query(key: string, build: () => string): string {
    let query = this.queries.get(key);
    if (query === undefined) {
      query = build();
      this.queries.set(key, query);
    }
    return query;
  }

  private selectCql(column: string, table: string, name: string, keys: ListTables['targetKeys']): string {
    const c = quoteIdent(name);
    // A static list reads the same on every row of the partition: one row is enough.
    return `SELECT ${c} AS v, WRITETIME(${c}) AS w, TTL(${c}) AS t FROM ${table} WHERE ${this.whereCql(column, keys)} LIMIT 1`;
  }

  private async readTarget(cell: ListCell): Promise<TargetList> {
    const { target, targetTableCql, targetKeys, writeConsistency } = this.tables;
    const query = this.query(`t:${cell.column}`, () =>
      this.selectCql(cell.column, targetTableCql, cell.column, targetKeys),
    );
    const row = await this.tables.slots(() =>
      // At the write consistency: the read must see what this writer (and the proxy) wrote.
      target.execute(query, this.keyParams(cell, targetKeys), {
        prepare: true,
        consistency: writeConsistency,
      }),
    );
    const first = row.first();
    return {
      elements: arrayOf(first?.get('v')),
      newest: wholeListMeta(arrayOf(first?.get('w')).map(bigOrUndefined), []).timestamp,
    };
  }

  private async readOrigin(cell: ListCell): Promise<OriginList | undefined> {
    const { origin, originTableCql, originKeys, readConsistency, columns } = this.tables;
    const name = columns.get(cell.column)!.originName;
    const query = this.query(`o:${cell.column}`, () =>
      this.selectCql(cell.column, originTableCql, name, originKeys),
    );
    const row = (
      await this.tables.slots(() =>
        origin.execute(query, this.keyParams(cell, originKeys), {
          prepare: true,
          consistency: readConsistency,
        }),
      )
    ).first();
    const elements = arrayOf(row?.get('v'));
    const meta = wholeListMeta(
      arrayOf(row?.get('w')).map(bigOrUndefined),
      arrayOf(row?.get('t')).map((t) => (t === null || t === undefined ? 0 : Number(t))),
    );
    if (elements.length === 0 || meta.timestamp === undefined) return undefined;
    return { elements, timestamp: meta.timestamp, ttl: meta.ttl };
  }

  private async write(cell: ListCell, elements: readonly unknown[], timestamp: bigint, ttl: number) {
    const { target, targetTableCql, targetKeys, writeConsistency } = this.tables;
    const query = this.query(
      `w:${cell.column}`,
      () =>
        `UPDATE ${targetTableCql} USING TIMESTAMP ? AND TTL ? SET ${quoteIdent(cell.column)} = ? WHERE ${this.whereCql(cell.column, targetKeys)}`,
    );
    await this.tables.slots(() =>
      target.execute(query, [timestamp, ttl, elements, ...this.keyParams(cell, targetKeys)], {
        prepare: true,
        consistency: writeConsistency,
      }),
    );
  }
}

/** What a job knows that makes its list reconciler. */
export interface ListJob {
  readonly origin: CqlClient;
  readonly target: CqlClient;
  readonly originSchema: TableSchema;
  readonly writeTarget: WriteTarget;
  /** Origin columns the job writes, with their Target names. */
  readonly columns: readonly { readonly column: ColumnSchema; readonly targetName: string }[];
  readonly readConsistency: number;
  readonly writeConsistency: number;
  readonly slots: LimitFunction;
}

/** The reconciler for a table's non-frozen lists (regular and static); undefined when it has none. */
export function listReconcilerFor(job: ListJob): ListReconciler | undefined {
  const lists = job.columns.filter(
    ({ column }) =>
      (column.kind === 'regular' || column.kind === 'static') &&
      column.type.kind === 'list' &&
      !column.type.frozen,
  );
  if (lists.length === 0) return undefined;
  const schema = job.originSchema;
  const names = (columns: readonly ColumnSchema[]) => columns.map((c) => c.name);
  return new ListReconciler({
    origin: job.origin,
    target: job.target,
    originTableCql: `${quoteIdent(schema.keyspace)}.${quoteIdent(schema.table)}`,
    targetTableCql: job.writeTarget.tableCql,
    originKeys: { partition: names(schema.partitionKey), clustering: names(schema.clustering) },
    targetKeys: { partition: job.writeTarget.partitionKey, clustering: job.writeTarget.clustering },
    columns: new Map(
      lists.map((c) => {
        const model = cqlValueModel(c.column.type, schema.userTypes);
        const entry = {
          originName: c.column.name,
          isStatic: c.column.kind === 'static',
          sameList: model.equals,
        };
        return [c.targetName, entry];
      }),
    ),
    readConsistency: job.readConsistency,
    writeConsistency: job.writeConsistency,
    slots: job.slots,
  });
}
