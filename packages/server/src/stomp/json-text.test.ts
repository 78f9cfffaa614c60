import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { sameJson } from './json-text.js';

describe('sameJson', () => {
  it('ignores whitespace, string escapes and number spelling', () => {
    assert.ok(sameJson('{"a": 1, "b": [1, 2]}', '{"a":1,"b":[1,2]}'));
    assert.ok(sameJson('"caf\\u00e9 \\/"', '"café /"'));
    assert.ok(sameJson('[1.0, 1E2, 2.50e-1, -0, 0e5]', '[1,100,0.25,0,0]'));
  });

  it('tells apart what parsing changed or lost', () => {
    assert.ok(!sameJson('12345678901234567890', '12345678901234567000'));
    assert.ok(!sameJson('{"a":1,"a":2}', '{"a":2}'));
    assert.ok(!sameJson('1e400', 'null'));
    assert.ok(!sameJson('[1,2]', '[1,2,3]'));
    assert.ok(!sameJson('"a"', '"b"'));
    assert.ok(!sameJson('true', 'false'));
  });

  it('holds for any value written with any indentation, and only for the same value', () => {
    fc.assert(fc.property(fc.jsonValue(), fc.jsonValue(), fc.integer({ min: 0, max: 4 }), (a, b, indent) => {
      const canonical = JSON.stringify(a);
      assert.ok(sameJson(JSON.stringify(a, null, indent), canonical));
      const other = JSON.stringify(b);
      assert.equal(sameJson(JSON.stringify(b, null, indent), canonical), other === canonical);
    }));
  });
});
