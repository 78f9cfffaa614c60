import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ByteAccumulator } from './bytes.js';

test('ByteAccumulator gathers chunks, copies them, and empties on take', () => {
  const acc = new ByteAccumulator();
  const chunk = Uint8Array.from([1, 2, 3]);
  for (let i = 0; i < 200; i++) acc.append(chunk);
  acc.append(new Uint8Array(0));
  chunk.fill(9);
  assert.equal(acc.length, 600);
  assert.deepEqual([...acc.peek().subarray(0, 4)], [1, 2, 3, 1]);
  const out = acc.take(Uint8Array.from([7]));
  assert.equal(out.length, 601);
  assert.equal(out[600], 7);
  assert.equal(acc.length, 0);
  assert.deepEqual([...acc.take(Uint8Array.from([5]))], [5]);
});
