import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type cassandra from 'cassandra-driver';
import fc from 'fast-check';
import pLimit from 'p-limit';
import { type CqlType, formatCqlType } from '../../src/schema/cql-type.js';
import { cqlValueModel } from '../../src/schema/cql-value/index.js';
import type { UserTypeSchema } from '../../src/schema/table-schema.js';
import { sharedClusters } from '../helpers/clusters.js';
import {
  createTypeStatements,
  ORDERED_NATIVE_NAMES,
  typeArb,
  valueArb,
} from '../helpers/cql-value-arbitraries.js';
import { exactClient, freshKeyspace, runAll } from '../helpers/keyspace.js';

/**
 * The value model's order against a real Cassandra: random values of every native type and of
 * random nested types are written as clustering keys (some columns ASC, some DESC) and read back;
 * Cassandra's order must be the model's, and every value must come back equal to what was written.
 *
 * One table per order holds one clustering column per type: in partition i only column i varies
 * (the others hold a fixed value), so partition i is sorted by column i alone.
 */

const KS = 'value_order';
const VALUES_PER_TYPE = 24;
const SEED = Number(process.env.ZDM_PROPERTY_SEED ?? Date.now() % 2 ** 31);

interface Column {
  readonly name: string;
  readonly type: CqlType;
  readonly order: 'ASC' | 'DESC';
  /** Distinct values (under the model), in the order generated. */
  readonly values: readonly unknown[];
}

describe(`value model order = Cassandra's clustering order (seed ${SEED})`, () => {
  let client: cassandra.Client;
  let userTypes: Map<string, UserTypeSchema>;
  let types: CqlType[];

  before(async () => {
    const { origin } = await sharedClusters();
    client = await exactClient(origin, 'origin');
    await freshKeyspace(client, KS);
    // Every orderable native, then random nested types (frozen collections, tuples, UDTs).
    const nested = fc.sample(typeArb(2, { ordered: true }), { seed: SEED, numRuns: 14 });
    userTypes = new Map(nested.flatMap((c) => [...c.userTypes]));
    types = [
      ...ORDERED_NATIVE_NAMES.map((name): CqlType => ({ kind: 'native', name })),
      ...nested.map((c) => c.type),
    ];
    await runAll(client, createTypeStatements(KS, userTypes));
  });

  after(async () => {
    await client?.shutdown();
  });

  const columnsFor = (directions: (i: number) => 'ASC' | 'DESC'): Column[] =>
    types.map((type, i) => {
      const model = cqlValueModel(type, userTypes);
      const generated = fc.sample(valueArb(type, userTypes, { forClustering: true }), {
        seed: SEED + i,
        numRuns: VALUES_PER_TYPE,
      });
      const values = generated.filter((v, j) => generated.findIndex((w) => model.equals(v, w)) === j);
      return { name: `c${i}`, type, order: directions(i), values };
    });

  async function checkOrder(table: string, columns: readonly Column[]) {
    const keys = columns.map((c) => `${c.name} ${formatCqlType(c.type)}`).join(', ');
    await client.execute(
      `CREATE TABLE ${KS}.${table} (p int, ${keys}, i int, PRIMARY KEY (p, ${columns.map((c) => c.name).join(', ')}))
       WITH CLUSTERING ORDER BY (${columns.map((c) => `${c.name} ${c.order}`).join(', ')})`,
    );
    const insert = `INSERT INTO ${KS}.${table} (p, ${columns.map((c) => c.name).join(', ')}, i) VALUES (?, ${columns.map(() => '?').join(', ')}, ?)`;
    // A few writes in flight at a time: a loaded 2-core machine times out a flood of them.
    const limit = pLimit(8);
    const writes: Promise<unknown>[] = [];
    columns.forEach((column, p) => {
      column.values.forEach((value, i) => {
        const key = columns.map((c, j) => (j === p ? value : c.values[0]));
        writes.push(limit(() => client.execute(insert, [p, ...key, i], { prepare: true })));
      });
    });
    await Promise.all(writes);

    for (const [p, column] of columns.entries()) {
      const model = cqlValueModel(column.type, userTypes);
      const label = `${table}.${column.name} ${formatCqlType(column.type)} ${column.order}`;
      const rows = (
        await client.execute(`SELECT ${column.name}, i FROM ${KS}.${table} WHERE p = ?`, [p], {
          prepare: true,
          fetchSize: 1000,
        })
      ).rows;
      assert.equal(rows.length, column.values.length, `${label}: one row per distinct value`);
      const read = rows.map((r) => ({ value: r.get(column.name) as unknown, i: r.get('i') as number }));
      for (const { value, i } of read) {
        assert.ok(model.equals(value, column.values[i]), `${label}: value ${i} reads back equal`);
      }
      const expected = column.values
        .map((_, i) => i)
        .sort((a, b) => model.compare(column.values[a], column.values[b]));
      if (column.order === 'DESC') expected.reverse();
      assert.deepEqual(
        read.map((r) => r.i),
        expected,
        `${label}: Cassandra's order is the model's (values: ${JSON.stringify(column.values.map(model.toJson))})`,
      );
    }
  }

  test('ascending clustering columns', async () => {
    await checkOrder(
      'asc_keys',
      columnsFor(() => 'ASC'),
    );
  });

  test('descending and mixed clustering columns', async () => {
    await checkOrder(
      'mixed_keys',
      columnsFor((i) => (i % 3 === 2 ? 'ASC' : 'DESC')),
    );
  });
});
