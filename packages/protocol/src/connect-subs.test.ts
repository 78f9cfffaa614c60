import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_CONNECT_SUBS, decodeCommand } from './codec.js';

describe('connect.subs (positions of server-side subscriptions)', () => {
  it('keeps well-formed positions, in an object without a prototype', () => {
    const d = decodeCommand({ id: 1, type: 'connect', subs: { 'team:a': { offset: 3, epoch: 'e' }, __proto__x: { offset: 0, epoch: '' } } });
    assert.ok(d.ok && d.command.type === 'connect');
    assert.deepEqual({ ...d.command.subs }, { 'team:a': { offset: 3, epoch: 'e' }, __proto__x: { offset: 0, epoch: '' } });
    assert.equal(Object.getPrototypeOf(d.command.subs), null);
  });

  it('takes a JSON `__proto__` key as a channel, not as the prototype', () => {
    const d = decodeCommand(JSON.parse('{"id":1,"type":"connect","subs":{"__proto__":{"offset":1,"epoch":"e"}}}'));
    assert.ok(d.ok && d.command.type === 'connect' && d.command.subs);
    assert.deepEqual(Object.entries(d.command.subs), [['__proto__', { offset: 1, epoch: 'e' }]]);
  });

  it('refuses a bad channel, a bad position, a non-object and too many entries, with an error reply (107)', () => {
    const tooMany = Object.fromEntries(Array.from({ length: MAX_CONNECT_SUBS + 1 }, (_, i) => [`c${i}`, { offset: 0, epoch: 'e' }]));
    for (const subs of [{ 'bad channel': { offset: 0, epoch: 'e' } }, { a: { offset: -1, epoch: 'e' } }, { a: 1 }, [], 'x', tooMany]) {
      const d = decodeCommand({ id: 7, type: 'connect', subs });
      assert.ok(!d.ok, JSON.stringify(subs).slice(0, 80));
      assert.equal(d.id, 7);
      assert.equal(d.error.code, 107);
    }
  });
});
