import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDestination } from './destinations.js';
import { StompError } from './errors.js';

describe('STOMP destinations', () => {
  it('maps topics, queues and user destinations', () => {
    assert.deepEqual(parseDestination('/topic/chat.general', '', false), { kind: 'channel', name: '/topic/chat.general', channel: 'chat.general' });
    assert.deepEqual(parseDestination('/topic/chat:lobby', '', false), { kind: 'channel', name: '/topic/chat:lobby', channel: 'chat:lobby' });
    assert.deepEqual(parseDestination('/queue/test-01', '', false), { kind: 'queue', name: '/queue/test-01', queue: 'test-01' });
    assert.deepEqual(parseDestination('/user/queue/notifications', '42', false), { kind: 'channel', name: '/user/queue/notifications', channel: 'user:42' });
    assert.deepEqual(parseDestination('/user/7/queue/reply', '42', true), { kind: 'channel', name: '/user/7/queue/reply', channel: 'user:7' });
  });

  it('refuses what it cannot map', () => {
    for (const [d, user, forSend] of [
      ['/exchange/x', '1', false], ['/topic/', '1', false], ['/topic/a b', '1', false], ['/queue/é', '1', false],
      ['/user/queue/x', '', false], ['/user/7/queue/reply', '42', false], ['news', '1', true],
    ] as const) {
      assert.throws(() => parseDestination(d, user, forSend), StompError, d);
    }
  });
});
