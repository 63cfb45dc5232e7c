import type { LimitFunction } from 'p-limit';
import type { CqlClient } from '../connect/cluster-client.js';
import type { CqlType } from '../schema/cql-type.js';
import { cqlValueModel } from '../schema/cql-value/index.js';
import { quoteIdent } from '../schema/identifier.js';
import type { ColumnSchema, TableSchema } from '../schema/table-schema.js';
import {
  type ElementGroup,
  elementGroups,
  nextListStep,
  type OriginList,
  replacement,
  type SameElement,
  type TargetList,
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
    {
      readonly originName: string;
      readonly isStatic: boolean;
      readonly sameElement: SameElement;
      readonly sameList: (a: readonly unknown[], b: readonly unknown[]) => boolean;
    }
  >;
  /**
   * Whether Target may be receiving appends through the proxy that Origin has yet to show (migrate):
   * a Target list that is Origin's followed by newer elements then counts as settled. Diff repairs
   * come after their recheck, where such elements are strays to remove.
   */
  readonly appendsInFlight: boolean;
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
 * Writes non-frozen lists exactly and never duplicated (see list-merge.ts): reads Target's list,
 * decides, prepends or appends what Target lacks (or, when Target's list cannot be explained,
 * writes Origin's whole), then reads Origin again and goes round until Target holds Origin's
 * elements. A write sent through the proxy to both clusters meanwhile shows up on those reads, so
 * reruns, resumes, repairs and live appends all end with Origin's elements in Origin's order.
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
    const { sameElement, sameList } = this.tables.columns.get(cell.column)!;
    let origin: OriginList | undefined = cell.list;
    let readAt = cell.readAt;
    let fresh = false;
    /** Target's list before this reconciler's last prepend or append (to see it shadowed). */
    let beforePartialWrite: TargetList | undefined;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const target = await this.readTarget(cell);
      let step = nextListStep(origin, target, sameElement);
      if (step.kind === 'equal') return true;
      if (step.kind === 'ahead' && this.tables.appendsInFlight) return true;
      // A prepend or append that changed nothing lost to a newer delete on Target (an older whole
      // write, a Target-only delete): only a whole write above it brings Origin's list back.
      if (beforePartialWrite !== undefined && sameList(beforePartialWrite.elements, target.elements))
        step = { kind: 'unexplained' };
      beforePartialWrite = undefined;
      if (step.kind === 'append') {
        // What Target lacks may be appends the proxy sent to both clusters that reached Origin
        // first: appended again they would be doubled. Target is given a moment to receive them.
        const grown = await this.changedAfterDelays(
          () => this.readTarget(cell),
          (list) => !sameList(list.elements, target.elements),
        );
        if (grown !== undefined) continue;
      }
      if (step.kind === 'unexplained' || step.kind === 'ahead') {
        if (!fresh) {
          readAt = Date.now();
          origin = await this.readOrigin(cell);
          if (origin === undefined) return true; // Origin's list is gone since: nothing left to copy
          fresh = true;
          continue;
        }
        // Target holds elements Origin does not: they may be a write the proxy sent to both
        // clusters that reached Target first. Origin is given a short while to show them before
        // the whole-list write erases them on Target.
        const seen: OriginList = origin;
        const caughtUp = await this.changedAfterDelays<OriginList | undefined>(
          () => this.readOrigin(cell),
          (list) => list === undefined || !sameList(list.elements, seen.elements),
        );
        if (caughtUp !== undefined) {
          readAt = caughtUp.readAt;
          origin = caughtUp.value;
          if (origin === undefined) return true;
          continue;
        }
        const whole = replacement(origin, target);
        await this.writeWhole(cell, origin.elements, whole.timestamp, agedTtl(whole.ttl, readAt, Date.now()));
      } else {
        const groups =
          step.kind === 'prepend'
            ? elementGroups(origin, 0, step.count).reverse()
            : elementGroups(origin, step.from, origin.elements.length);
        await this.writeGroups(cell, step.kind, groups, readAt);
        beforePartialWrite = target;
      }
      // Origin is read again before Target's state is judged: a write sent to both clusters through
      // the proxy can land on Target first and only a fresh Origin tells it from a stray element.
      readAt = Date.now();
      origin = await this.readOrigin(cell);
      if (origin === undefined) return true;
      fresh = true;
    }
    return false;
  }

  /**
   * Reads again after growing delays (bounded) until `changed` says so: the value and when it was
   * read, or undefined when it stayed the same.
   */
  private async changedAfterDelays<T>(
    read: () => Promise<T>,
    changed: (value: T) => boolean,
  ): Promise<{ value: T; readAt: number } | undefined> {
    for (const delayMs of CATCH_UP_DELAYS_MS) {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      const readAt = Date.now();
      const value = await read();
      if (changed(value)) return { value, readAt };
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
      writetimes: arrayOf(first?.get('w')).map(bigOrUndefined),
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
    const writetimes = arrayOf(row?.get('w')).map(bigOrUndefined);
    const ttls = arrayOf(row?.get('t')).map((t) => (t === null || t === undefined ? 0 : Number(t)));
    if (elements.length === 0 || writetimes.some((w) => w === undefined)) return undefined;
    return { elements, writetimes: writetimes as bigint[], ttls };
  }

  /** `SET l = [..]`: deletes Target's list at `timestamp - 1`, then writes Origin's. */
  private async writeWhole(cell: ListCell, elements: readonly unknown[], timestamp: bigint, ttl: number) {
    const { target, targetKeys, writeConsistency } = this.tables;
    const query = this.query(`w:${cell.column}`, () => this.updateCql(cell.column, '?'));
    await this.tables.slots(() =>
      target.execute(query, [timestamp, ttl, elements, ...this.keyParams(cell, targetKeys)], {
        prepare: true,
        consistency: writeConsistency,
      }),
    );
  }

  /**
   * Prepends or appends groups of elements, each at its own writetime and TTL, in one
   * single-partition batch: applied in order by one coordinator, so its time UUIDs follow that
   * order (prepend groups come last first). No batch size limit applies to one partition.
   */
  private async writeGroups(
    cell: ListCell,
    kind: 'prepend' | 'append',
    groups: readonly ElementGroup[],
    readAt: number,
  ) {
    const { target, targetKeys, writeConsistency } = this.tables;
    const c = quoteIdent(cell.column);
    const query = this.query(`${kind}:${cell.column}`, () =>
      this.updateCql(cell.column, kind === 'prepend' ? `? + ${c}` : `${c} + ?`),
    );
    const keys = this.keyParams(cell, targetKeys);
    const now = Date.now();
    const statements = groups.map((g) => ({
      query,
      params: [g.timestamp, agedTtl(g.ttl, readAt, now), g.elements, ...keys],
    }));
    const options = { prepare: true, consistency: writeConsistency };
    await this.tables.slots(() =>
      statements.length === 1
        ? target.execute(statements[0]!.query, statements[0]!.params, options)
        : target.batch(statements, { ...options, logged: false }),
    );
  }

  private updateCql(column: string, value: string): string {
    const { targetTableCql, targetKeys } = this.tables;
    return `UPDATE ${targetTableCql} USING TIMESTAMP ? AND TTL ? SET ${quoteIdent(column)} = ${value} WHERE ${this.whereCql(column, targetKeys)}`;
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
  /** See ListTables.appendsInFlight. */
  readonly appendsInFlight: boolean;
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
        const type = c.column.type as Extract<CqlType, { kind: 'list' | 'set' }>;
        const entry = {
          originName: c.column.name,
          isStatic: c.column.kind === 'static',
          sameElement: cqlValueModel(type.element, schema.userTypes).equals,
          sameList: cqlValueModel(type, schema.userTypes).equals,
        };
        return [c.targetName, entry];
      }),
    ),
    readConsistency: job.readConsistency,
    writeConsistency: job.writeConsistency,
    slots: job.slots,
    appendsInFlight: job.appendsInFlight,
  });
}
