import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { SmallMap } from './small-map.js';

describe('SmallMap', () => {
  it('behaves like a Map under any sequence of set, delete and iteration', () => {
    const op = fc.oneof(
      fc.record({ op: fc.constant('set' as const), key: fc.constantFrom('a', 'b', 'c', 'd'), value: fc.integer() }),
      fc.record({ op: fc.constant('delete' as const), key: fc.constantFrom('a', 'b', 'c', 'd') }),
    );
    fc.assert(fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
      const small = new SmallMap<number>();
      const map = new Map<string, number>();
      for (const o of ops) {
        if (o.op === 'set') {
          small.set(o.key, o.value);
          map.set(o.key, o.value);
        } else {
          assert.equal(small.delete(o.key), map.delete(o.key));
        }
        assert.equal(small.size, map.size);
        assert.deepEqual([...small], [...map]);
        assert.deepEqual([...small.keys()], [...map.keys()]);
        for (const k of ['a', 'b', 'c', 'd']) {
          assert.equal(small.get(k), map.get(k));
          assert.equal(small.has(k), map.has(k));
        }
      }
    }));
  });

  it('allows deleting entries while iterating', () => {
    const small = new SmallMap<number>().set('a', 1).set('b', 2).set('c', 3);
    for (const [k] of small) small.delete(k);
    assert.equal(small.size, 0);
    const one = new SmallMap<number>().set('x', 1);
    for (const [k] of one) one.delete(k);
    assert.equal(one.size, 0);
  });
});
