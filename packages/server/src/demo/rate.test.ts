import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RateWindow } from './rate.js';

describe('RateWindow', () => {
  it('allows perKey per key and total in all per window, then again in the next window', () => {
    const r = new RateWindow({ perKey: 2, total: 3, windowMs: 1000, maxKeys: 10 });
    assert.deepEqual([r.allow('a', 0), r.allow('a', 1), r.allow('a', 2)], [true, true, false]);
    assert.deepEqual([r.allow('b', 3), r.allow('c', 4)], [true, false], 'the total is spent');
    assert.equal(r.allow('a', 1000), true, 'a new window');
  });

  it('counts at most maxKeys keys a window: a further key is refused, a counted one still allowed', () => {
    const r = new RateWindow({ perKey: 5, total: 100, windowMs: 1000, maxKeys: 2 });
    assert.deepEqual([r.allow('a', 0), r.allow('b', 0), r.allow('c', 0), r.allow('a', 0)], [true, true, false, true]);
    assert.equal(r.allow('c', 1000), true);
  });
});
