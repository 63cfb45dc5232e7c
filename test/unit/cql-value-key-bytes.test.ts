import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import cassandra from 'cassandra-driver';
import { keyBytesOf } from '../../src/schema/cql-value/index.js';

describe('keyBytesOf', () => {
  const text = { kind: 'native', name: 'text' } as const;
  const ts = { kind: 'native', name: 'timestamp' } as const;
  it('length-prefixes each value, so a split at another place is another key', () => {
    const key = keyBytesOf([text, text], new Map());
    assert.notEqual(key(['ab', 'c']), key(['a', 'bc']));
    assert.equal(key(['ab', 'c']), key(['ab', 'c']));
  });
  it('tuples whose timestamps differ by a millisecond are different keys', () => {
    const tuple = { kind: 'tuple', elements: [ts, text] } as const;
    const key = keyBytesOf([tuple], new Map());
    const a = new cassandra.types.Tuple(new Date(1_000), 'x');
    const b = new cassandra.types.Tuple(new Date(1_001), 'x');
    assert.notEqual(key([a]), key([b]));
    assert.equal(key([a]), key([new cassandra.types.Tuple(new Date(1_000), 'x')]));
  });
  it('a null value is its own key', () => {
    const key = keyBytesOf([text], new Map());
    assert.notEqual(key([null]), key(['']));
  });
});
