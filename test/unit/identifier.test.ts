import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseTableName, quoteIdent } from '../../src/schema/identifier.js';

describe('quoteIdent', () => {
  const cases: [string, string][] = [
    ['users', 'users'],
    ['user_id2', 'user_id2'],
    ['UserId', '"UserId"'],
    ['select', '"select"'],
    ['token', '"token"'],
    ['has space', '"has space"'],
    ['say "hi"', '"say ""hi"""'],
    ['1abc', '"1abc"'],
  ];
  for (const [name, cql] of cases) test(`${name} → ${cql}`, () => assert.equal(quoteIdent(name), cql));
});

describe('parseTableName', () => {
  const cases: [string, { keyspace: string; table: string } | undefined][] = [
    ['ks.t', { keyspace: 'ks', table: 't' }],
    ['KS.Users', { keyspace: 'ks', table: 'users' }],
    ['"MyKs"."My.Table"', { keyspace: 'MyKs', table: 'My.Table' }],
    ['ks."Say ""x"""', { keyspace: 'ks', table: 'Say "x"' }],
    ['ks', undefined],
    ['ks.', undefined],
    ['a.b.c', undefined],
    ['"open.t', undefined],
  ];
  for (const [text, expected] of cases) test(text, () => assert.deepEqual(parseTableName(text), expected));
});
