import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_CONNECT_SUBS, type Publication } from '@tidings/protocol';
import { ServerChannels } from './server-subs.js';

const pub = (channel: string, offset: number, epoch = 'e'): Publication => ({ channel, offset, epoch, data: offset, time: 0 });

describe('ServerChannels', () => {
  it('starts at the subscribed position, accepts only new publications, and reports positions for connect', () => {
    const s = new ServerChannels();
    assert.equal(s.positions(), undefined);
    assert.deepEqual(s.subscribed({ type: 'subscribed', channel: 'a', position: { offset: 5, epoch: 'e' }, recovered: false, server: true }),
      { channel: 'a', server: true, recovered: false, position: { offset: 5, epoch: 'e' } });
    assert.equal(s.accept(pub('a', 5)), false);
    assert.equal(s.accept(pub('a', 6)), true);
    assert.equal(s.accept(pub('a', 6)), false);
    assert.equal(s.accept(pub('other', 1)), false);
    assert.deepEqual(s.positions(), { a: { offset: 6, epoch: 'e' } });
  });

  it('a recovered resubscribe keeps the position, so the replay that follows is delivered once', () => {
    const s = new ServerChannels();
    s.subscribed({ type: 'subscribed', channel: 'a', position: { offset: 2, epoch: 'e' }, recovered: false, server: true });
    s.subscribed({ type: 'subscribed', channel: 'a', position: { offset: 4, epoch: 'e' }, recovered: true, server: true });
    assert.deepEqual([1, 2, 3, 4, 3].map((o) => s.accept(pub('a', o))), [false, false, true, true, false]);
  });

  it('an unrecovered resubscribe (new epoch) restarts from the new position', () => {
    const s = new ServerChannels();
    s.subscribed({ type: 'subscribed', channel: 'a', position: { offset: 9, epoch: 'e' }, recovered: false, server: true });
    s.subscribed({ type: 'subscribed', channel: 'a', position: { offset: 1, epoch: 'f' }, recovered: false, server: true });
    assert.equal(s.accept(pub('a', 1, 'f')), false);
    assert.equal(s.accept(pub('a', 2, 'f')), true);
  });

  it('forgets, and sends at most MAX_CONNECT_SUBS positions', () => {
    const s = new ServerChannels();
    for (let i = 0; i < MAX_CONNECT_SUBS + 5; i++) s.subscribed({ type: 'subscribed', channel: `c${i}`, position: { offset: 0, epoch: 'e' }, recovered: false, server: true });
    assert.equal(Object.keys(s.positions() ?? {}).length, MAX_CONNECT_SUBS);
    assert.equal(s.forget('c0'), true);
    assert.equal(s.forget('c0'), false);
    assert.equal(s.channels.includes('c0'), false);
  });
});
