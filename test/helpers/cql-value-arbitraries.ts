import cassandra from 'cassandra-driver';
import fc from 'fast-check';
import { type CqlType, formatCqlType, NATIVE_TYPES } from '../../src/schema/cql-type.js';
import { cqlValueModel } from '../../src/schema/cql-value/index.js';
import type { UserTypeSchema } from '../../src/schema/table-schema.js';

/**
 * Random CQL types (nested: frozen collections, tuples, UDTs, vectors) and random values of them,
 * shaped as cassandra-driver decodes them with the connector's options (BigInt, Map, Set). Value
 * domains are small on purpose, so that two independent values are often equal.
 */

const { types } = cassandra;

export interface TypeCase {
  readonly type: CqlType;
  /** UDTs the type uses, by name, with their fields. */
  readonly userTypes: ReadonlyMap<string, UserTypeSchema>;
}

/** Every native type (varchar is text; counters cannot nest). */
export const NATIVE_NAMES = [...NATIVE_TYPES].filter((n) => n !== 'varchar' && n !== 'counter');

/** Types that Cassandra accepts in clustering keys and set elements / map keys. */
export const ORDERED_NATIVE_NAMES = NATIVE_NAMES.filter((n) => n !== 'duration');

const native = (name: string): CqlType => ({ kind: 'native', name });

let udtCount = 0;

/**
 * A random type of at most `depth` levels of nesting. `ordered` keeps to what a clustering key may
 * hold (no duration, no vector); `names` restricts the natives.
 */
export function typeArb(
  depth: number,
  options: { ordered?: boolean; names?: readonly string[] } = {},
): fc.Arbitrary<TypeCase> {
  const names = options.names ?? (options.ordered ? ORDERED_NATIVE_NAMES : NATIVE_NAMES);
  const leaf = fc.constantFrom(...names).map((n): TypeCase => ({ type: native(n), userTypes: new Map() }));
  if (depth <= 0) return leaf;
  const inner = typeArb(depth - 1, options);
  // Set elements and map keys must be comparable.
  const ordered = typeArb(depth - 1, { ...options, ordered: true });
  const composites: fc.Arbitrary<TypeCase>[] = [
    inner.map((e) => ({ type: { kind: 'list', element: e.type, frozen: true }, userTypes: e.userTypes })),
    ordered.map((e) => ({ type: { kind: 'set', element: e.type, frozen: true }, userTypes: e.userTypes })),
    fc.tuple(ordered, inner).map(([k, v]) => ({
      type: { kind: 'map', key: k.type, value: v.type, frozen: true },
      userTypes: mergeUserTypes(k, v),
    })),
    fc.array(inner, { minLength: 1, maxLength: 3 }).map((es) => ({
      type: { kind: 'tuple', elements: es.map((e) => e.type) },
      userTypes: mergeUserTypes(...es),
    })),
    fc.array(inner, { minLength: 1, maxLength: 3 }).map((fs) => userTypeCase(fs, true)),
  ];
  if (!options.ordered) {
    composites.push(
      fc
        .tuple(fc.constantFrom('float', 'int', 'bigint', 'text', 'double'), fc.integer({ min: 1, max: 3 }))
        .map(([name, dimension]) => ({
          type: { kind: 'vector', element: native(name), dimension },
          userTypes: new Map(),
        })),
    );
  }
  return fc.oneof({ depthSize: 'small' }, leaf, ...composites);
}

const mergeUserTypes = (...cases: TypeCase[]) => new Map(cases.flatMap((c) => [...c.userTypes]));

/** A new UDT (a name no other generated UDT has) with one field per case, frozen or not. */
function userTypeCase(fieldCases: readonly TypeCase[], frozen: boolean): TypeCase {
  const name = `udt_${++udtCount}`;
  const fields = fieldCases.map((f, i) => ({ name: `f${i}`, type: f.type, typeText: formatCqlType(f.type) }));
  const userTypes = mergeUserTypes(...fieldCases);
  userTypes.set(name, { keyspace: 'ks', name, fields });
  return { type: { kind: 'udt', name, frozen }, userTypes };
}

/**
 * A random type of a regular or static column: any type `typeArb(depth + 1)` makes (natives with
 * duration, frozen collections, tuples, frozen UDTs, vectors), or a non-frozen list, set or map of
 * `typeArb(depth)` types, or a non-frozen UDT of them: the multi-cell columns, one cell per element
 * or field, each with its own writetime and TTL.
 */
export function columnTypeArb(depth = 1): fc.Arbitrary<TypeCase> {
  const inner = typeArb(depth);
  // Set elements and map keys must be comparable.
  const ordered = typeArb(depth, { ordered: true });
  return fc.oneof(
    { weight: 4, arbitrary: typeArb(depth + 1) },
    {
      weight: 2,
      arbitrary: inner.map(
        (e): TypeCase => ({ type: { kind: 'list', element: e.type, frozen: false }, userTypes: e.userTypes }),
      ),
    },
    {
      weight: 1,
      arbitrary: ordered.map(
        (e): TypeCase => ({ type: { kind: 'set', element: e.type, frozen: false }, userTypes: e.userTypes }),
      ),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(ordered, inner).map(
        ([k, v]): TypeCase => ({
          type: { kind: 'map', key: k.type, value: v.type, frozen: false },
          userTypes: mergeUserTypes(k, v),
        }),
      ),
    },
    {
      weight: 1,
      arbitrary: fc.array(inner, { minLength: 1, maxLength: 4 }).map((fs) => userTypeCase(fs, false)),
    },
  );
}

const bytes = (min: number, max: number) =>
  fc.uint8Array({ minLength: min, maxLength: max }).map((a) => Buffer.from(a));

const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;

const NATIVE_VALUES: Readonly<Record<string, fc.Arbitrary<unknown>>> = {
  ascii: fc.oneof(fc.constantFrom('', 'a', 'B'), fc.string({ unit: 'binary-ascii', maxLength: 3 })),
  text: fc.oneof(
    fc.constantFrom('', 'a', 'é', '\uFFFD', '😀', 'ab'),
    fc.string({ unit: 'binary', maxLength: 3 }),
  ),
  bigint: fc.oneof(
    fc.bigInt({ min: -2n, max: 2n }),
    fc.constantFrom(LONG_MIN, LONG_MAX),
    fc.bigInt(LONG_MIN, LONG_MAX),
  ),
  varint: fc.oneof(fc.bigInt({ min: -300n, max: 300n }), fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n })),
  int: fc.oneof(fc.integer({ min: -2, max: 2 }), fc.integer()),
  smallint: fc.integer({ min: -32768, max: 32767 }),
  tinyint: fc.oneof(fc.integer({ min: -2, max: 2 }), fc.integer({ min: -128, max: 127 })),
  float: fc.oneof(fc.constantFrom(0, -0, Number.NaN, 1.5), fc.float()),
  double: fc.oneof(fc.constantFrom(0, -0, Number.NaN, 1.5), fc.double()),
  boolean: fc.boolean(),
  blob: fc.oneof(bytes(0, 1), bytes(0, 4)),
  inet: fc.oneof(bytes(4, 4), bytes(16, 16)).map((b) => new types.InetAddress(b)),
  uuid: fc.tuple(bytes(16, 16), fc.constantFrom(0x10, 0x40, 0x00, 0xf0)).map(([b, version]) => {
    b[6] = (b[6]! & 0x0f) | version;
    return new types.Uuid(b);
  }),
  // Few timestamps and clock sequences, so that order often falls to the node bytes, which
  // TimeUUIDType compares as signed bytes (0x80 before 0x00).
  timeuuid: fc
    .tuple(fc.integer({ min: 0, max: 3 }), fc.constantFrom('0001', '3f02'), bytes(6, 6))
    .map(([ms, clock, node]) =>
      types.TimeUuid.fromDate(new Date(1_700_000_000_000 + ms), ms, node, Buffer.from(clock, 'hex')),
    ),
  timestamp: fc
    .oneof(fc.integer({ min: -2, max: 2 }), fc.integer({ min: -(2 ** 40), max: 2 ** 42 }))
    .map((ms) => new Date(ms)),
  date: fc
    .oneof(fc.integer({ min: -2, max: 2 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }))
    .map((days) => new (types.LocalDate as unknown as new (days: number) => object)(days)),
  time: fc
    .bigInt({ min: 0n, max: 86_399_999_999_999n })
    .map((n) => new types.LocalTime(types.Long.fromString(n.toString()))),
  decimal: fc
    .tuple(
      fc.oneof(fc.bigInt({ min: -20n, max: 20n }), fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n })),
      fc.integer({ min: -2, max: 4 }),
    )
    .map(
      ([unscaled, scale]) =>
        new types.BigDecimal(types.Integer.fromString(unscaled.toString()) as unknown as number, scale),
    ),
  duration: fc
    .tuple(
      fc.integer({ min: 0, max: 3 }),
      fc.integer({ min: 0, max: 40 }),
      fc.bigInt({ min: 0n, max: 10n ** 12n }),
      fc.boolean(),
    )
    .map(([m, d, n, negative]) =>
      negative
        ? new types.Duration(-m, -d, types.Long.fromString((-n).toString()))
        : new types.Duration(m, d, types.Long.fromString(n.toString())),
    ),
};

/**
 * Decimals that no other generated decimal equals in value: an unscaled value that is a multiple of
 * 10 could equal one of another scale (1.0 and 1.00), which Cassandra's comparator calls the same
 * clustering.
 */
const DISTINCT_DECIMALS = fc
  .tuple(fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }), fc.integer({ min: -2, max: 4 }))
  .map(([unscaled, scale]) => {
    const zero = unscaled % 10n === 0n;
    return new types.BigDecimal(
      types.Integer.fromString(zero ? '0' : unscaled.toString()) as unknown as number,
      zero ? 0 : scale,
    );
  });

export interface ValueOptions {
  /**
   * Values as a client would bind clustering keys for an order check: sets and maps built in
   * Cassandra's order (a client's order inside a tuple or UDT is stored as sent), decimals distinct,
   * collections not empty.
   */
  readonly forClustering?: boolean;
  /**
   * Values a statement can bind: cassandra-driver binds an empty collection as null and cannot
   * encode one inside another value, so every collection holds at least one element.
   */
  readonly bindable?: boolean;
}

/** Random values of a type (never null at the top level; tuple and UDT fields may be null). */
export function valueArb(
  type: CqlType,
  userTypes: ReadonlyMap<string, UserTypeSchema>,
  options: ValueOptions = {},
): fc.Arbitrary<unknown> {
  const of = (t: CqlType) => valueArb(t, userTypes, options);
  const nullable = (t: CqlType) => fc.option(of(t), { nil: null, freq: 4 });
  // cassandra-driver binds an empty collection as null (and cannot nest one): bind non-empty ones.
  const size = { minLength: options.forClustering || options.bindable ? 1 : 0, maxLength: 3 };
  const sorted = (t: CqlType) => (items: unknown[]) => {
    if (!options.forClustering) return items;
    const model = cqlValueModel(t, userTypes);
    const out = [...items].sort(model.compare);
    return out.filter((x, i) => i === 0 || !model.equals(out[i - 1], x));
  };
  switch (type.kind) {
    case 'native': {
      const values =
        options.forClustering && type.name === 'decimal' ? DISTINCT_DECIMALS : NATIVE_VALUES[type.name];
      if (values === undefined) throw new Error(`no values for ${type.name}`);
      return values;
    }
    case 'list':
      return fc.array(of(type.element), size);
    case 'set':
      return fc
        .array(of(type.element), size)
        .map(sorted(type.element))
        .map((a) => new Set(a));
    case 'map':
      return fc.array(fc.tuple(of(type.key), of(type.value)), size).map((entries) => {
        if (!options.forClustering) return new Map(entries);
        const keys = cqlValueModel(type.key, userTypes);
        const byKey = [...entries].sort((a, b) => keys.compare(a[0], b[0]));
        return new Map(byKey.filter((e, i) => i === 0 || !keys.equals(byKey[i - 1]![0], e[0])));
      });
    case 'tuple':
      return fc.tuple(...type.elements.map(nullable)).map((items) => new types.Tuple(...items));
    case 'udt': {
      const fields = userTypes.get(type.name)!.fields;
      return fc
        .tuple(...fields.map((f) => nullable(f.type)))
        .map((values) => Object.fromEntries(fields.map((f, i) => [f.name, values[i]])));
    }
    case 'vector':
      return fc
        .array(of(type.element), { minLength: type.dimension, maxLength: type.dimension })
        .map(
          (items) => new types.Vector(items, type.element.kind === 'native' ? type.element.name : 'custom'),
        );
    case 'custom':
      return bytes(0, 4);
  }
}

/** `CREATE TYPE` statements for the UDTs a type uses, inner ones first. */
export function createTypeStatements(
  keyspace: string,
  userTypes: ReadonlyMap<string, UserTypeSchema>,
): string[] {
  const done = new Set<string>();
  const out: string[] = [];
  const visit = (t: CqlType): void => {
    if (t.kind === 'list' || t.kind === 'set' || t.kind === 'vector') visit(t.element);
    else if (t.kind === 'map') {
      visit(t.key);
      visit(t.value);
    } else if (t.kind === 'tuple') {
      for (const e of t.elements) visit(e);
    } else if (t.kind === 'udt' && !done.has(t.name)) {
      done.add(t.name);
      const udt = userTypes.get(t.name)!;
      for (const f of udt.fields) visit(f.type);
      out.push(
        `CREATE TYPE ${keyspace}.${t.name} (${udt.fields.map((f) => `${f.name} ${f.typeText}`).join(', ')})`,
      );
    }
  };
  for (const name of userTypes.keys()) visit({ kind: 'udt', name, frozen: true });
  return out;
}

/** The driver's column type info for a CQL type (to decode bytes with its Encoder). */
export function driverTypeInfo(type: CqlType, userTypes: ReadonlyMap<string, UserTypeSchema>): object {
  const { dataTypes } = types;
  switch (type.kind) {
    case 'native':
      return { code: dataTypes[type.name as keyof typeof dataTypes] as number, info: null };
    case 'list':
    case 'set':
      return { code: dataTypes[type.kind], info: driverTypeInfo(type.element, userTypes) };
    case 'map':
      return {
        code: dataTypes.map,
        info: [driverTypeInfo(type.key, userTypes), driverTypeInfo(type.value, userTypes)],
      };
    case 'tuple':
      return { code: dataTypes.tuple, info: type.elements.map((e) => driverTypeInfo(e, userTypes)) };
    case 'udt': {
      const udt = userTypes.get(type.name)!;
      return {
        code: dataTypes.udt,
        info: {
          keyspace: udt.keyspace,
          name: udt.name,
          fields: udt.fields.map((f) => ({ name: f.name, type: driverTypeInfo(f.type, userTypes) })),
        },
      };
    }
    case 'vector':
      return {
        code: dataTypes.custom,
        customTypeName: 'vector',
        info: [driverTypeInfo(type.element, userTypes), type.dimension],
      };
    case 'custom':
      return { code: dataTypes.custom, info: type.className };
  }
}
