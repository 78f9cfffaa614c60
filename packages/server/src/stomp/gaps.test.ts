import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryEngine } from '../engine/memory.js';
import { readGap } from './gaps.js';
import { subscriptionPrefix } from './message.js';
import type { SubscriptionOwner, TopicSubscription } from './subscriptions.js';

const owner: SubscriptionOwner = { deliverTopic: () => {}, deliverQueued: () => {}, congested: false };

function subscription(channel: string, offset: number, epoch: string): TopicSubscription {
  return {
    kind: 'topic', id: 's', destination: `/topic/${channel}`, ack: 'auto', prefix: subscriptionPrefix('s', '1.2'), owner, unacked: new Map(),
    channel, live: true, pending: [], offset, epoch, unrecovered: false, presence: false, joinLeave: false,
  };
}

describe('readGap', () => {
  it('replays what history holds after the subscription\'s offset, and nothing when it holds less, another epoch, or too many bytes', async () => {
    const engine = new MemoryEngine();
    await engine.start({ onPublication: () => {}, onJoin: () => {}, onLeave: () => {}, onControl: () => {} });
    try {
      let epoch = '';
      for (let n = 1; n <= 6; n++) epoch = (await engine.publish('g', n, { historySize: 4, historyTtl: 60 })).epoch;
      const replay = await readGap(engine, subscription('g', 3, epoch), 4, 1 << 20, '1.2');
      assert.deepEqual(replay?.map((m) => m.offset), [4, 5, 6]);
      assert.equal(await readGap(engine, subscription('g', 1, epoch), 4, 1 << 20, '1.2'), undefined, 'offsets 2 and 3 are trimmed');
      assert.equal(await readGap(engine, subscription('g', 3, 'other'), 4, 1 << 20, '1.2'), undefined, 'another epoch');
      assert.equal(await readGap(engine, subscription('g', 3, epoch), 4, 100, '1.2'), undefined, 'over maxBytes');
    } finally {
      await engine.close();
    }
  });
});
