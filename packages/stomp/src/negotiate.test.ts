import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { negotiateHeartbeat, negotiateVersion, parseHeartbeat } from './negotiate.js';

describe('negotiateVersion', () => {
  test('picks the highest common version', () => {
    assert.equal(negotiateVersion('1.0,1.1,1.2'), '1.2');
    assert.equal(negotiateVersion('1.2,1.0'), '1.2');
    assert.equal(negotiateVersion('1.0, 1.1'), '1.1');
    assert.equal(negotiateVersion('1.0,1.1,1.2', ['1.0', '1.1']), '1.1');
  });
  test('an absent accept-version means 1.0', () => {
    assert.equal(negotiateVersion(undefined), '1.0');
    assert.equal(negotiateVersion(undefined, ['1.1', '1.2']), undefined);
  });
  test('no common version gives undefined', () => {
    assert.equal(negotiateVersion('2.0'), undefined);
    assert.equal(negotiateVersion(''), undefined);
    assert.equal(negotiateVersion('1.2', ['1.0']), undefined);
  });
});

describe('heart-beat', () => {
  test('parseHeartbeat', () => {
    assert.deepEqual(parseHeartbeat('10000,20000'), [10000, 20000]);
    assert.deepEqual(parseHeartbeat(' 0 , 5 '), [0, 5]);
    assert.deepEqual(parseHeartbeat(undefined), [0, 0]);
    for (const bad of ['', '1', '1,2,3', '-1,0', 'a,b', '1.5,2', '1234567890,0']) assert.equal(parseHeartbeat(bad), undefined, bad);
  });

  test('each direction runs at the larger of offer and wish', () => {
    assert.deepEqual(negotiateHeartbeat('4000,10000', '5000,3000'), { sendEvery: 4000, expectEvery: 10000 });
    assert.deepEqual(negotiateHeartbeat('5000,3000', '4000,10000'), { sendEvery: 10000, expectEvery: 4000 });
  });

  test('a direction is off when its sender offers 0 or its receiver wants 0', () => {
    assert.deepEqual(negotiateHeartbeat('0,1000', '1000,1000'), { sendEvery: 0, expectEvery: 1000 });
    assert.deepEqual(negotiateHeartbeat('1000,0', '1000,1000'), { sendEvery: 1000, expectEvery: 0 });
    assert.deepEqual(negotiateHeartbeat('1000,1000', '0,0'), { sendEvery: 0, expectEvery: 0 });
  });

  test('absent or malformed headers mean no heart-beating', () => {
    assert.deepEqual(negotiateHeartbeat(undefined, '1000,1000'), { sendEvery: 0, expectEvery: 0 });
    assert.deepEqual(negotiateHeartbeat('1000,1000', 'junk'), { sendEvery: 0, expectEvery: 0 });
  });

  test('parsed tuples are accepted', () => {
    assert.deepEqual(negotiateHeartbeat([100, 200], [300, 50]), { sendEvery: 100, expectEvery: 300 });
  });
});
