import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CqlTypeParseError, formatCqlType, isMultiCell, parseCqlType } from '../../src/schema/cql-type.js';

describe('parseCqlType / formatCqlType', () => {
  const cases: [input: string, canonical: string, multiCell: boolean][] = [
    ['int', 'int', false],
    ['varchar', 'text', false],
    ['duration', 'duration', false],
    ['list<int>', 'list<int>', true],
    ['frozen<list<int>>', 'frozen<list<int>>', false],
    ['map<text, int>', 'map<text, int>', true],
    ['map<text, frozen<list<frozen<set<bigint>>>>>', 'map<text, frozen<list<frozen<set<bigint>>>>>', true],
    ['frozen<tuple<int, text>>', 'frozen<tuple<int, text>>', false],
    ['tuple<int, frozen<map<int, text>>>', 'frozen<tuple<int, frozen<map<int, text>>>>', false],
    ['vector<float, 3>', 'vector<float, 3>', false],
    ['address', 'address', true],
    ['frozen<address>', 'frozen<address>', false],
    ['"Addr"', '"Addr"', true],
    ['frozen<"My ""Odd"" Type">', 'frozen<"My ""Odd"" Type">', false],
    ["'org.apache.cassandra.db.marshal.BytesType'", "'org.apache.cassandra.db.marshal.BytesType'", false],
  ];
  for (const [input, canonical, multiCell] of cases) {
    test(input, () => {
      const type = parseCqlType(input);
      assert.equal(formatCqlType(type), canonical);
      assert.equal(isMultiCell(type), multiCell);
      assert.deepEqual(parseCqlType(formatCqlType(type)), type);
    });
  }
  test('UDT names keep their case when quoted', () => {
    assert.deepEqual(parseCqlType('frozen<"Addr">'), { kind: 'udt', name: 'Addr', frozen: true });
  });
  for (const bad of ['list<int', 'map<int>>', 'vector<float, x>', 'frozen<', '"open', 'list<int> extra']) {
    test(`rejects ${bad}`, () => assert.throws(() => parseCqlType(bad), CqlTypeParseError));
  }
});
