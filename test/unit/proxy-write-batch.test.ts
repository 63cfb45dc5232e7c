import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Slab, WriteBatch } from '../../src/proxy/write-batch.js';

const bytes = (length: number, fill: number): Buffer => Buffer.alloc(length, fill);

describe('the answers of one tick (WriteBatch)', () => {
  test('appended and reserved bytes come out in order, in one part while they fit the slab', () => {
    const batch = new WriteBatch(new Slab(64));
    batch.append(bytes(10, 1));
    const at = batch.reserve(20);
    batch.buffer.fill(2, at, at + 5);
    batch.commit(at + 5); // reserved 20, wrote 5
    batch.append(bytes(3, 3));
    const parts = batch.take();
    assert.equal(parts.length, 1);
    assert.deepEqual(parts[0], Buffer.concat([bytes(10, 1), bytes(5, 2), bytes(3, 3)]));
    assert.ok(batch.empty);
    assert.deepEqual(batch.take(), []);
  });

  test('taken bytes are never written over: later answers go after them, or into a new slab', () => {
    const batch = new WriteBatch(new Slab(32));
    batch.append(bytes(20, 1));
    const [first] = batch.take();
    batch.append(bytes(10, 2)); // fits after the taken bytes
    batch.append(bytes(10, 3)); // does not: a new slab
    assert.deepEqual(first, bytes(20, 1));
    assert.deepEqual(batch.take(), [bytes(10, 2), bytes(10, 3)]);
    assert.deepEqual(first, bytes(20, 1));
  });

  test('clients share the slab: each keeps its own bytes, in order, and an idle one holds nothing', () => {
    const slab = new Slab(64);
    const one = new WriteBatch(slab);
    const two = new WriteBatch(slab);
    one.append(bytes(4, 1));
    one.append(bytes(4, 2)); // right after its own bytes: the same part
    two.append(bytes(4, 3));
    one.append(bytes(4, 4)); // after the other client's: a new part
    two.append(bytes(50, 5)); // 16 + 50 bytes pass the slab's end: a new slab
    assert.deepEqual(one.take(), [Buffer.concat([bytes(4, 1), bytes(4, 2)]), bytes(4, 4)]);
    assert.deepEqual(two.take(), [bytes(4, 3), bytes(50, 5)]);
    assert.ok(one.empty && two.empty);
  });

  test('a reservation larger than a slab gets a buffer of its own size', () => {
    const batch = new WriteBatch(new Slab(16));
    batch.append(bytes(4, 1));
    const at = batch.reserve(100);
    batch.buffer.fill(2, at, at + 100);
    batch.commit(at + 100);
    assert.deepEqual(batch.take(), [bytes(4, 1), bytes(100, 2)]);
  });

  test('a large answer joins as it is, between the copied ones', () => {
    const batch = new WriteBatch(new Slab(64));
    const large = bytes(9000, 7);
    batch.append(bytes(4, 1));
    batch.append(large);
    batch.append(bytes(4, 2));
    const parts = batch.take();
    assert.equal(parts.length, 3);
    assert.equal(parts[1], large, 'not copied');
    assert.deepEqual(Buffer.concat(parts), Buffer.concat([bytes(4, 1), large, bytes(4, 2)]));
  });
});
