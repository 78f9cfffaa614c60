import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryEngine } from './engine/memory.js';
import { ServerSubscriptions, recordKey } from './server-subs.js';
import { TidingsError } from './errors.js';

describe('ServerSubscriptions', () => {
  it('remembers, lists and forgets per user', async () => {
    const subs = new ServerSubscriptions(new MemoryEngine(), 60, 10);
    await subs.remember('alice', 'team:a');
    await subs.remember('alice', 'team:b');
    await subs.remember('bob', 'team:c');
    assert.deepEqual((await subs.of('alice')).sort(), ['team:a', 'team:b']);
    assert.deepEqual(await subs.of('bob'), ['team:c']);
    await subs.forget('alice', 'team:a');
    assert.deepEqual(await subs.of('alice'), ['team:b']);
    assert.deepEqual(await subs.of(''), []);
  });

  it('bounds a user\'s channels (106), but repeating one is fine', async () => {
    const subs = new ServerSubscriptions(new MemoryEngine(), 60, 2);
    await subs.remember('alice', 'a');
    await subs.remember('alice', 'b');
    await subs.remember('alice', 'b');
    await assert.rejects(subs.remember('alice', 'c'), (err: unknown) => err instanceof TidingsError && err.code === 106);
  });

  it('at connect: the credentials\' subs, then the remembered ones, without repeats or skipped ones', async () => {
    const subs = new ServerSubscriptions(new MemoryEngine(), 60, 10);
    await subs.remember('alice', 'r1');
    await subs.remember('alice', 'c1');
    assert.deepEqual(await subs.forConnection({ user: 'alice', subs: ['c1', 'c2', 'url'] }, ['url']), ['c1', 'c2', 'r1']);
    assert.deepEqual(await subs.forConnection(undefined), []);
    assert.deepEqual(await subs.forConnection({ user: 'bob' }), []);
  });

  it('keeps the record under a key no channel can have', () => {
    assert.equal(recordKey('alice'), '$subs:alice');
  });
});
