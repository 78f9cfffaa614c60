import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffCeiling, backoffDelay } from './backoff.js';

const o = { min: 100, max: 5_000, factor: 2 };

test('the window grows by the factor and stops at max', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 100].map((n) => backoffCeiling(n, o)), [200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
});

test('full jitter: the delay spans [min, ceiling] for random in [0, 1)', () => {
  for (const attempt of [0, 3, 50]) {
    assert.equal(backoffDelay(attempt, o, () => 0), o.min);
    assert.equal(backoffDelay(attempt, o, () => 0.5), o.min + (backoffCeiling(attempt, o) - o.min) / 2);
    assert.ok(backoffDelay(attempt, o, () => 0.999999) < backoffCeiling(attempt, o));
  }
});

test('with Math.random every delay stays in bounds and the spread covers the window', () => {
  const delays = Array.from({ length: 2_000 }, () => backoffDelay(2, o));
  assert.ok(delays.every((d) => d >= 100 && d < 800));
  assert.ok(Math.min(...delays) < 150 && Math.max(...delays) > 750);
});

test('a max below min and a huge attempt number stay sane', () => {
  assert.equal(backoffCeiling(3, { min: 100, max: 50, factor: 2 }), 100);
  assert.equal(backoffDelay(3, { min: 100, max: 50, factor: 2 }), 100);
  assert.equal(backoffCeiling(10_000, o), 5_000);
});
