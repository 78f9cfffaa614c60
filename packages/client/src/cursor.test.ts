import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StreamCursor } from './cursor.js';

test('drops duplicates and old offsets within an epoch', () => {
  const c = new StreamCursor({ offset: 3, epoch: 'a' });
  assert.deepEqual([2, 3, 4, 4, 5, 1].map((offset) => c.accept({ offset, epoch: 'a' })), [false, false, true, false, true, false]);
  assert.deepEqual(c.position, { offset: 5, epoch: 'a' });
});

test('a new epoch starts a new stream', () => {
  const c = new StreamCursor({ offset: 9, epoch: 'a' });
  assert.equal(c.accept({ offset: 1, epoch: 'b' }), true);
  assert.equal(c.accept({ offset: 1, epoch: 'b' }), false);
  assert.deepEqual(c.position, { offset: 1, epoch: 'b' });
});

test('advance never goes back within an epoch; restart forgets', () => {
  const c = new StreamCursor();
  assert.equal(c.position, undefined);
  c.advance({ offset: 5, epoch: 'a' });
  c.advance({ offset: 4, epoch: 'a' });
  assert.deepEqual(c.position, { offset: 5, epoch: 'a' });
  c.restart('b');
  assert.equal(c.accept({ offset: 1, epoch: 'b' }), true);
  c.advance({ offset: 7, epoch: 'b' });
  assert.deepEqual(c.position, { offset: 7, epoch: 'b' });
});

test('position is a copy', () => {
  const c = new StreamCursor({ offset: 1, epoch: 'a' });
  const p = c.position;
  if (p) p.offset = 99;
  assert.deepEqual(c.position, { offset: 1, epoch: 'a' });
});
