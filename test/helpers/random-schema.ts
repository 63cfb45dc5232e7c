import fc from 'fast-check';
import { type CqlType, formatCqlType } from '../../src/schema/cql-type.js';
import { cqlValueModel } from '../../src/schema/cql-value/index.js';
import type { UserTypeSchema } from '../../src/schema/table-schema.js';
import {
  columnTypeArb,
  createTypeStatements,
  NATIVE_NAMES,
  type TypeCase,
  typeArb,
  valueArb,
} from './cql-value-arbitraries.js';

/**
 * Random tables and the statements that fill them, for fidelity checks of migrate and diff: keys
 * of orderable types (clustering ASC or DESC), regular and static columns of every kind, and per
 * row several writes with their own USING TIMESTAMP and TTL (inserts of some columns, updates of
 * others, list appends and prepends, set and map element adds and removals, UDT field updates,
 * null cells, column and row deletes), static-only partitions and rows with key columns only.
 * Everything is drawn from fast-check arbitraries, so one seed gives the same tables and writes.
 */

export type ColumnRole = 'partition' | 'clustering' | 'static' | 'regular';

export interface RandomColumn {
  /** The name as stored (case-sensitive; quoted in CQL when it needs to be). */
  readonly name: string;
  readonly role: ColumnRole;
  readonly type: CqlType;
  /** Clustering order of a clustering column. */
  readonly order?: 'ASC' | 'DESC';
}

export interface RandomTable {
  readonly keyspace: string;
  readonly name: string;
  /** Partition key, clustering, static and regular columns, in that order. */
  readonly columns: readonly RandomColumn[];
  /** The UDTs the columns use, by name, with their fields. */
  readonly userTypes: ReadonlyMap<string, UserTypeSchema>;
}

/** One statement with its bound values. */
export interface CqlWrite {
  readonly query: string;
  readonly params: readonly unknown[];
}

/** The statements that write one partition, in the order they must run. */
export interface PartitionWrites {
  readonly partitionKey: readonly unknown[];
  readonly statements: readonly CqlWrite[];
}

export const columnsOf = (table: RandomTable, role: ColumnRole): RandomColumn[] =>
  table.columns.filter((c) => c.role === role);

export const keyColumns = (table: RandomTable): RandomColumn[] => [
  ...columnsOf(table, 'partition'),
  ...columnsOf(table, 'clustering'),
];

export const valueColumns = (table: RandomTable): RandomColumn[] => [
  ...columnsOf(table, 'static'),
  ...columnsOf(table, 'regular'),
];

/** A column name as CQL needs it: bare when lower-case, quoted otherwise. */
export const ident = (name: string): string =>
  /^[a-z][a-z0-9_]*$/.test(name) ? name : `"${name.replaceAll('"', '""')}"`;

export const tableCql = (table: RandomTable): string => `${table.keyspace}.${table.name}`;

export const isMultiCell = (type: CqlType): boolean =>
  (type.kind === 'list' || type.kind === 'set' || type.kind === 'map' || type.kind === 'udt') && !type.frozen;

/** `CREATE TABLE` of a random table (also what failure messages show). */
export function createTableCql(table: RandomTable): string {
  const definitions = table.columns.map(
    (c) => `${ident(c.name)} ${formatCqlType(c.type)}${c.role === 'static' ? ' static' : ''}`,
  );
  const partition = columnsOf(table, 'partition').map((c) => ident(c.name));
  const clustering = columnsOf(table, 'clustering');
  const key = [`(${partition.join(', ')})`, ...clustering.map((c) => ident(c.name))].join(', ');
  const order =
    clustering.length === 0
      ? ''
      : ` WITH CLUSTERING ORDER BY (${clustering.map((c) => `${ident(c.name)} ${c.order}`).join(', ')})`;
  return `CREATE TABLE ${tableCql(table)} (${definitions.join(', ')}, PRIMARY KEY (${key}))${order}`;
}

/** The `CREATE TYPE` statements of every UDT the tables use (inner ones first), then each `CREATE TABLE`. */
export function schemaStatements(keyspace: string, tables: readonly RandomTable[]): string[] {
  const userTypes = new Map(tables.flatMap((t) => [...t.userTypes]));
  return [...createTypeStatements(keyspace, userTypes), ...tables.map(createTableCql)];
}

const mergeUserTypes = (cases: readonly TypeCase[]) => new Map(cases.flatMap((c) => [...c.userTypes]));

/** Key columns are mostly natives (tokens and clustering order of every native type), sometimes frozen values. */
const keyTypeArb = fc.oneof(
  { weight: 4, arbitrary: typeArb(0, { ordered: true }) },
  { weight: 1, arbitrary: typeArb(1, { ordered: true }) },
);

export interface TableShapeOptions {
  /** Native types this table must hold as regular columns (so that a set of tables covers all). */
  readonly natives?: readonly string[];
}

/**
 * A random table: 1-2 partition key columns, 0-2 clustering columns (ASC or DESC), a non-frozen
 * list and 1-5 other regular columns of any type, and, when it has clustering columns, 0-3 static
 * columns (often a list among them). Some names need quoting.
 */
export function randomTableArb(
  keyspace: string,
  name: string,
  options: TableShapeOptions = {},
): fc.Arbitrary<RandomTable> {
  const list = typeArb(1).map(
    (e): TypeCase => ({ type: { kind: 'list', element: e.type, frozen: false }, userTypes: e.userTypes }),
  );
  return fc
    .record({
      partition: fc.array(keyTypeArb, { minLength: 1, maxLength: 2 }),
      clustering: fc.array(fc.tuple(keyTypeArb, fc.constantFrom<'ASC' | 'DESC'>('ASC', 'DESC')), {
        minLength: 0,
        maxLength: 2,
      }),
      statics: fc.array(fc.oneof(list, columnTypeArb()), { minLength: 0, maxLength: 3 }),
      regulars: fc.tuple(list, fc.array(columnTypeArb(), { minLength: 1, maxLength: 5 })),
      quoted: fc.boolean(),
    })
    .map(({ partition, clustering, statics, regulars: [aList, others], quoted }) => {
      const natives = (options.natives ?? []).map(
        (n): TypeCase => ({
          type: { kind: 'native', name: n },
          userTypes: new Map(),
        }),
      );
      const regularCases = [aList, ...others, ...natives];
      const staticCases = clustering.length === 0 ? [] : statics;
      const columns: RandomColumn[] = [
        ...partition.map((c, i) => ({ name: `pk${i}`, role: 'partition' as const, type: c.type })),
        ...clustering.map(([c, order], i) => ({
          name: `ck${i}`,
          role: 'clustering' as const,
          type: c.type,
          order,
        })),
        ...staticCases.map((c, i) => ({ name: `s${i}`, role: 'static' as const, type: c.type })),
        ...regularCases.map((c, i) => ({
          // One mixed-case name in some tables: every statement the jobs build must quote it.
          name: quoted && i === 1 ? `V${i}` : `v${i}`,
          role: 'regular' as const,
          type: c.type,
        })),
      ];
      const cases = [...partition, ...clustering.map(([c]) => c), ...staticCases, ...regularCases];
      return { keyspace, name, columns, userTypes: mergeUserTypes(cases) };
    });
}

/** Every native type a regular column can hold, spread over `count` tables (table i gets every count-th). */
export function nativesForTable(index: number, count: number): string[] {
  return NATIVE_NAMES.filter((_, i) => i % count === index);
}

export interface WriteShapeOptions {
  /** Partitions of a table without clustering columns (one row each). */
  readonly singleRowPartitions: number;
  /** Partitions of a table with clustering columns. */
  readonly widePartitions: number;
  /** At most this many rows in one wide partition. */
  readonly maxRowsPerPartition: number;
}

/** Writetimes are drawn above this (µs), so that no two statements of a partition share one. */
const BASE_WRITETIME = 1_700_000_000_000_000n;
const WRITETIME_SPREAD = 1_000_000_000;

/** A statement of a partition before its writetime is drawn. */
type Draft = (timestamp: bigint) => CqlWrite;

interface Scope {
  readonly table: RandomTable;
  /** Key columns the WHERE clause names: the partition key (static scope) or the primary key. */
  readonly keys: readonly RandomColumn[];
  readonly keyValues: readonly unknown[];
  /**
   * The scope's own columns: a row's regular columns, or a partition's static columns. Every
   * UPDATE and DELETE names one (Cassandra refuses a statement with a clustering key that writes
   * static columns only).
   */
  readonly own: readonly RandomColumn[];
  /** Columns a row's INSERT and UPDATE may write besides (the partition's static columns). */
  readonly besides: readonly RandomColumn[];
  readonly isStatic: boolean;
}

/** No TTL (twice as often), or one of an hour to a few days: none expires while a test runs. */
const ttlArb = fc.oneof(
  { weight: 2, arbitrary: fc.constant(0) },
  { weight: 1, arbitrary: fc.integer({ min: 3600, max: 300_000 }) },
);

const whereCql = (keys: readonly RandomColumn[]) => keys.map((c) => `${ident(c.name)} = ?`).join(' AND ');

const BINDABLE = { bindable: true } as const;

/** A value of a column, or null (a tombstone) now and then. */
function cellValueArb(table: RandomTable, column: RandomColumn): fc.Arbitrary<unknown> {
  return fc.option(valueArb(column.type, table.userTypes, BINDABLE), { nil: null, freq: 8 });
}

/** 1-3 elements of a type (a collection written with `+`/`-` must not be empty: it would bind as null). */
const elementsArb = (table: RandomTable, type: CqlType) =>
  fc.array(valueArb(type, table.userTypes, BINDABLE), { minLength: 1, maxLength: 3 });

/** `INSERT` of the key and some columns (none: a row with key columns only, or a partition's static cells). */
function insertArb(scope: Scope): fc.Arbitrary<Draft> {
  const { table, keys, keyValues } = scope;
  const writable = [...scope.own, ...scope.besides];
  return (
    fc
      // A partition's INSERT names a static column at least (a row's may name none).
      .integer({ min: scope.isStatic ? 1 : 0, max: writable.length })
      .chain((count) => fc.shuffledSubarray([...writable], { minLength: count, maxLength: count }))
      .chain((columns) =>
        fc.tuple(fc.tuple(...columns.map((c) => cellValueArb(table, c))), ttlArb).map(
          ([values, ttl]): Draft =>
            (timestamp) => {
              const names = [...keys, ...columns].map((c) => ident(c.name));
              return {
                query: `INSERT INTO ${tableCql(table)} (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')}) USING TIMESTAMP ? AND TTL ?`,
                params: [...keyValues, ...values, timestamp, ttl],
              };
            },
        ),
      )
  );
}

/** `UPDATE ... SET` of whole values (null: a tombstone) of 1-3 own columns and maybe a static one. */
function updateArb(scope: Scope): fc.Arbitrary<Draft> {
  const { table, keys, keyValues, own, besides } = scope;
  return fc
    .tuple(
      fc.shuffledSubarray([...own], { minLength: 1, maxLength: Math.min(3, own.length) }),
      fc.shuffledSubarray([...besides], { minLength: 0, maxLength: Math.min(1, besides.length) }),
    )
    .map(([a, b]) => [...a, ...b])
    .chain((columns) =>
      fc.tuple(fc.tuple(...columns.map((c) => cellValueArb(table, c))), ttlArb).map(
        ([values, ttl]): Draft =>
          (timestamp) =>
            update(
              table,
              keys,
              keyValues,
              timestamp,
              ttl,
              columns.map((c) => `${ident(c.name)} = ?`),
              values,
            ),
      ),
    );
}

function update(
  table: RandomTable,
  keys: readonly RandomColumn[],
  keyValues: readonly unknown[],
  timestamp: bigint,
  ttl: number,
  assignments: readonly string[],
  values: readonly unknown[],
): CqlWrite {
  return {
    query: `UPDATE ${tableCql(table)} USING TIMESTAMP ? AND TTL ? SET ${assignments.join(', ')} WHERE ${whereCql(keys)}`,
    params: [timestamp, ttl, ...values, ...keyValues],
  };
}

/**
 * One element-wise write of a multi-cell column: a list append, prepend or removal, a set add or
 * removal, a map put or key removal, a UDT field update.
 */
function elementArb(scope: Scope, column: RandomColumn): fc.Arbitrary<Draft> {
  const { table, keys, keyValues } = scope;
  const c = ident(column.name);
  const type = column.type;
  const write =
    (assignment: string, value: unknown, ttl: number): Draft =>
    (timestamp) =>
      update(table, keys, keyValues, timestamp, ttl, [assignment], [value]);
  // A removal deletes: it carries no TTL.
  switch (type.kind) {
    case 'list': {
      const elements = elementsArb(table, type.element);
      return fc.oneof(
        {
          weight: 3,
          arbitrary: fc.tuple(elements, ttlArb).map(([v, ttl]) => write(`${c} = ${c} + ?`, v, ttl)),
        },
        {
          weight: 3,
          arbitrary: fc.tuple(elements, ttlArb).map(([v, ttl]) => write(`${c} = ? + ${c}`, v, ttl)),
        },
        { weight: 1, arbitrary: elements.map((v) => write(`${c} = ${c} - ?`, v, 0)) },
      );
    }
    case 'set': {
      const elements = elementsArb(table, type.element).map((items) => new Set(items));
      return fc.oneof(
        {
          weight: 3,
          arbitrary: fc.tuple(elements, ttlArb).map(([v, ttl]) => write(`${c} = ${c} + ?`, v, ttl)),
        },
        { weight: 1, arbitrary: elements.map((v) => write(`${c} = ${c} - ?`, v, 0)) },
      );
    }
    case 'map': {
      const entries = fc.array(
        fc.tuple(
          valueArb(type.key, table.userTypes, BINDABLE),
          valueArb(type.value, table.userTypes, BINDABLE),
        ),
        { minLength: 1, maxLength: 3 },
      );
      return fc.oneof(
        {
          weight: 3,
          arbitrary: fc.tuple(entries, ttlArb).map(([e, ttl]) => write(`${c} = ${c} + ?`, new Map(e), ttl)),
        },
        {
          weight: 1,
          arbitrary: entries.map((e) => write(`${c} = ${c} - ?`, new Set(e.map(([k]) => k)), 0)),
        },
      );
    }
    case 'udt': {
      const fields = table.userTypes.get(type.name)!.fields;
      return fc
        .tuple(fc.constantFrom(...fields), ttlArb)
        .chain(([field, ttl]) =>
          fc
            .option(valueArb(field.type, table.userTypes, BINDABLE), { nil: null, freq: 6 })
            .map((v) => write(`${c}.${ident(field.name)} = ?`, v, ttl)),
        );
    }
    default:
      throw new Error(`${formatCqlType(type)} has no elements`);
  }
}

/** `DELETE` of one column, or (in a row's scope) of the whole row; deletes carry no TTL. */
function deleteArb(scope: Scope): fc.Arbitrary<Draft> {
  const { table, keys, keyValues, own, isStatic } = scope;
  const column = fc.constantFrom(...own).map(
    (c): Draft =>
      (timestamp) => ({
        query: `DELETE ${ident(c.name)} FROM ${tableCql(table)} USING TIMESTAMP ? WHERE ${whereCql(keys)}`,
        params: [timestamp, ...keyValues],
      }),
  );
  if (isStatic) return column;
  const row = fc.constant(
    (timestamp: bigint): CqlWrite => ({
      query: `DELETE FROM ${tableCql(table)} USING TIMESTAMP ? WHERE ${whereCql(keys)}`,
      params: [timestamp, ...keyValues],
    }),
  );
  return fc.oneof({ weight: 3, arbitrary: column }, { weight: 1, arbitrary: row });
}

/** 1-4 statements for one row (or a partition's static cells). */
function scopeDraftsArb(scope: Scope): fc.Arbitrary<Draft[]> {
  const multi = scope.own.filter((c) => isMultiCell(c.type));
  const kinds: fc.WeightedArbitrary<Draft>[] = [
    { weight: 3, arbitrary: insertArb(scope) },
    { weight: 3, arbitrary: updateArb(scope) },
    { weight: 1, arbitrary: deleteArb(scope) },
  ];
  if (multi.length > 0) {
    kinds.push({
      weight: 5,
      arbitrary: fc.constantFrom(...multi).chain((c) => elementArb(scope, c)),
    });
  }
  return fc.array(fc.oneof(...kinds), { minLength: 1, maxLength: 4 });
}

/** Values of key columns, as a client binds them: collections non-empty, decimals distinct. */
function keyValuesArb(table: RandomTable, columns: readonly RandomColumn[]): fc.Arbitrary<unknown[]> {
  const single = columns.length === 1;
  return fc.tuple(
    ...columns.map((c) => {
      const values = valueArb(c.type, table.userTypes, { forClustering: true });
      // Cassandra refuses an empty partition key ("Key may not be empty"); in a composite key an
      // empty component is fine.
      return single && c.role === 'partition'
        ? values.filter((v) => v !== '' && !(Buffer.isBuffer(v) && v.length === 0))
        : values;
    }),
  );
}

/** Keys equal under Cassandra's comparators (the value model's order) name the same partition or row. */
function distinctKeys(table: RandomTable, columns: readonly RandomColumn[], keys: unknown[][]): unknown[][] {
  const models = columns.map((c) => cqlValueModel(c.type, table.userTypes));
  const same = (a: readonly unknown[], b: readonly unknown[]) =>
    models.every((m, i) => m.compare(a[i], b[i]) === 0);
  return keys.filter((k, i) => keys.findIndex((other) => same(k, other)) === i);
}

/** Draws distinct writetimes for a partition's drafts, in a random order (issue order is not writetime order). */
function withWritetimes(drafts: readonly Draft[]): fc.Arbitrary<CqlWrite[]> {
  return fc
    .uniqueArray(fc.integer({ min: 0, max: WRITETIME_SPREAD }), {
      minLength: drafts.length,
      maxLength: drafts.length,
    })
    .map((offsets) => drafts.map((d, i) => d(BASE_WRITETIME + BigInt(offsets[i]!))));
}

/**
 * Random partitions of a table and the statements that write them. A table with clustering columns
 * gets wide partitions of 0 to `maxRowsPerPartition` rows; one with static columns and no rows is a
 * static-only partition. Statements of one partition run in order (list appends and prepends
 * depend on it); partitions are independent.
 */
export function tableWritesArb(
  table: RandomTable,
  options: WriteShapeOptions,
): fc.Arbitrary<PartitionWrites[]> {
  const partitionKey = columnsOf(table, 'partition');
  const clustering = columnsOf(table, 'clustering');
  const statics = columnsOf(table, 'static');
  const regulars = columnsOf(table, 'regular');
  const wide = clustering.length > 0;
  const count = wide ? options.widePartitions : options.singleRowPartitions;
  return fc
    .array(keyValuesArb(table, partitionKey), { minLength: count, maxLength: count })
    .map((keys) => distinctKeys(table, partitionKey, keys))
    .chain((keys) => fc.tuple(...keys.map((pk) => partitionArb(pk))));

  function partitionArb(pk: unknown[]): fc.Arbitrary<PartitionWrites> {
    const rowKeys = wide
      ? fc
          .array(keyValuesArb(table, clustering), {
            // A partition without rows only exists through its static cells.
            minLength: statics.length > 0 ? 0 : 1,
            maxLength: options.maxRowsPerPartition,
          })
          .map((cks) => distinctKeys(table, clustering, cks))
      : fc.constant([[]]);
    const staticDrafts =
      statics.length === 0
        ? fc.constant([])
        : fc.oneof(
            { weight: 1, arbitrary: fc.constant([]) },
            {
              weight: 2,
              arbitrary: scopeDraftsArb({
                table,
                keys: partitionKey,
                keyValues: pk,
                own: statics,
                besides: [],
                isStatic: true,
              }),
            },
          );
    return fc
      .tuple(rowKeys, staticDrafts)
      .chain(([cks, staticWrites]) => {
        const rows = cks.map((ck) =>
          scopeDraftsArb({
            table,
            keys: [...partitionKey, ...clustering],
            keyValues: [...pk, ...ck],
            own: regulars,
            // A row's INSERT and UPDATE may set the partition's static cells too.
            besides: statics,
            isStatic: false,
          }),
        );
        // The static writes go in among the rows' at a random place.
        return fc
          .tuple(fc.tuple(...rows), fc.integer({ min: 0, max: cks.length }))
          .map(([rowDrafts, at]) => [...rowDrafts.slice(0, at), staticWrites, ...rowDrafts.slice(at)].flat());
      })
      .chain(withWritetimes)
      .map((statements) => ({ partitionKey: pk, statements }));
  }
}
