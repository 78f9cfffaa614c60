import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TidingsError } from '../errors.js';
import { readAnswer } from './answers.js';
import { ProxyDisconnect, ProxyError } from './errors.js';

describe('readAnswer', () => {
  it('returns the result of a well-formed answer', () => {
    assert.deepEqual(readAnswer('connect', { result: { user: 'u1', expireAt: 2_000_000_000, channels: ['a'] } }), { user: 'u1', expireAt: 2_000_000_000, channels: ['a'] });
    assert.deepEqual(readAnswer('rpc', { result: { data: [1] } }), { data: [1] });
    assert.deepEqual(readAnswer('subscribe', { result: {} }), {});
  });

  it('turns {error} into the application code and {disconnect} into a ProxyDisconnect', () => {
    assert.throws(() => readAnswer('subscribe', { error: { code: 4030, message: 'no' } }), (e: unknown) => e instanceof TidingsError && !(e instanceof ProxyError) && e.code === 4030);
    assert.throws(() => readAnswer('connect', { disconnect: { code: 4501, reason: 'bye' } }), (e: unknown) => e instanceof ProxyDisconnect && e.code === 4501 && e.reason === 'bye');
  });

  it('refuses every other shape with 126', () => {
    const bad: unknown[] = [
      null, 'yes', [], {}, { result: 'yes' },
      { result: { user: '' } }, { result: { user: 7 } }, { result: { user: 'u', expireAt: 1.5 } }, { result: { user: 'u', channels: 'a' } },
      { error: { code: 100, message: 'not an application code' } }, { error: { code: 5000, message: 'x' } },
      { disconnect: { code: 3000, reason: 'x' } }, { result: { user: 'u' }, error: { code: 4000, message: 'both' } },
    ];
    assert.throws(() => readAnswer('connect', { result: { user: 7 } }), (e: unknown) => e instanceof ProxyError && /result\.user/.test(e.message));
    for (const value of bad) {
      assert.throws(() => readAnswer('connect', value), (e: unknown) => e instanceof ProxyError && e.code === 126, JSON.stringify(value));
    }
  });
});
