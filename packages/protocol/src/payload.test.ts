import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { nestsDeeper, payloadProblem } from './payload.js';

function nested(levels: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < levels; i++) v = i % 2 === 0 ? [v] : { k: v };
  return v;
}

describe('payload checks', () => {
  it('counts nesting levels: scalars 0, [] and {} 1', () => {
    assert.equal(nestsDeeper('a', 0), false);
    assert.equal(nestsDeeper([], 0), true);
    assert.equal(nestsDeeper([], 1), false);
    assert.equal(nestsDeeper([{}], 1), true);
    assert.equal(nestsDeeper([1, [2, { a: [3] }]], 3), true);
    assert.equal(nestsDeeper([1, [2, { a: [3] }]], 4), false);
    assert.equal(nestsDeeper(nested(64), 64), false);
    assert.equal(nestsDeeper(nested(65), 64), true);
  });

  it('walks 20,000 levels without recursion', () => {
    const deep = JSON.parse('['.repeat(20_000) + ']'.repeat(20_000)) as unknown;
    assert.equal(nestsDeeper(deep, 64), true);
    assert.equal(payloadProblem(deep, 64, 'data'), 'data nests deeper than 64 levels (maxDepth)');
    assert.equal(nestsDeeper(nested(20_000), 20_000), false);
  });

  it('refuses what JSON cannot carry back unchanged', () => {
    assert.match(payloadProblem(undefined, 64, 'data')!, /^data holds undefined/);
    assert.match(payloadProblem({ a: undefined }, 64, 'data')!, /undefined/);
    assert.match(payloadProblem([1, , 3], 64, 'data')!, /undefined/, 'a hole in an array');
    assert.match(payloadProblem({ f: () => 1 }, 64, 'data')!, /function/);
    assert.match(payloadProblem([Symbol('s')], 64, 'data')!, /symbol/);
    assert.match(payloadProblem(10n, 64, 'data')!, /bigint/);
    assert.match(payloadProblem(JSON.parse('[1e400]'), 64, 'data')!, /number JSON cannot carry/);
    assert.match(payloadProblem(NaN, 64, 'payload')!, /^payload holds a number/);
    assert.match(payloadProblem({ at: new Date(0) }, 64, 'data')!, /not plain JSON/);
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    assert.match(payloadProblem(cyclic, 64, 'data')!, /nests deeper/);
  });

  it('accepts any JSON value within the limit, odd strings and keys included', () => {
    assert.equal(payloadProblem(JSON.parse('{"__proto__":{"x":1},"constructor":"\\ud800"}'), 64, 'data'), undefined);
    assert.equal(payloadProblem(Object.create(null) as object, 64, 'data'), undefined);
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 10 }), (v) => payloadProblem(v, 64, 'data') === undefined));
  });
});
