import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { TimerWheel } from '../timer.js';
import { StompError } from './errors.js';
import type { QueueMessage } from './queue-contract.js';
import { queueConformance } from './queue-conformance.js';
import { MAX_QUEUE_LENGTH, MemoryQueues, QueueRegistry } from './queues.js';
import type { AckMode, QueueSubscription, SubscriptionOwner } from './subscriptions.js';

const timers = new TimerWheel(10);
after(() => timers.stop());

class FakeOwner implements SubscriptionOwner {
  readonly got: Array<{ text: string; redelivered: boolean }> = [];
  congested = false;
  deliverTopic(): void {
    throw new Error('not a topic');
  }
  deliverQueued(sub: QueueSubscription, m: QueueMessage): void {
    this.got.push({ text: new TextDecoder().decode(m.tail('1.2', sub.destination)).split('\n\n')[1]!.replace('\0', ''), redelivered: m.delivered });
    m.delivered = true;
    if (sub.ack !== 'auto') sub.unacked.set(m.messageId, m);
  }
}

function consumer(registry: QueueRegistry, name: string, ack: AckMode = 'client-individual', prefetch = 1000): { sub: QueueSubscription; owner: FakeOwner } {
  const owner = new FakeOwner();
  const sub: QueueSubscription = { kind: 'queue', id: name, destination: '/queue/q', ack, prefix: Buffer.alloc(0), owner, unacked: new Map(), queue: 'q', prefetch };
  registry.get('q').addConsumer(sub);
  return { sub, owner };
}

const body = (text: string) => ({ bytes: new TextEncoder().encode(text), contentType: undefined, binary: false });

describe('node-local queues', () => {
  it('serves competing consumers round-robin, each message once', () => {
    const r = new QueueRegistry(timers);
    const a = consumer(r, 'a');
    const b = consumer(r, 'b');
    for (let i = 0; i < 6; i++) r.get('q').send(body(`m${i}`), []);
    assert.deepEqual(a.owner.got.map((g) => g.text), ['m0', 'm2', 'm4']);
    assert.deepEqual(b.owner.got.map((g) => g.text), ['m1', 'm3', 'm5']);
  });

  it('respects prefetch, and gives a departing consumer\'s unacked messages to the next, first and marked', () => {
    const r = new QueueRegistry(timers);
    const q = r.get('q');
    const a = consumer(r, 'a', 'client', 2);
    for (let i = 0; i < 4; i++) q.send(body(`m${i}`), []);
    assert.deepEqual(a.owner.got.map((g) => g.text), ['m0', 'm1']);
    assert.equal(q.waiting, 2);
    const b = consumer(r, 'b', 'client', 10);
    assert.deepEqual(b.owner.got.map((g) => g.text), ['m2', 'm3']);
    const held = [...a.sub.unacked.values()];
    a.sub.unacked.clear();
    q.removeConsumer(a.sub, held);
    assert.deepEqual(b.owner.got.map((g) => [g.text, g.redelivered]), [['m2', false], ['m3', false], ['m0', true], ['m1', true]]);
  });

  it('waits for a congested consumer and retries on the timer', async () => {
    const r = new QueueRegistry(timers);
    const a = consumer(r, 'a', 'auto');
    a.owner.congested = true;
    r.get('q').send(body('later'), []);
    assert.equal(a.owner.got.length, 0);
    a.owner.congested = false;
    await new Promise((res) => setTimeout(res, 400));
    assert.deepEqual(a.owner.got.map((g) => g.text), ['later']);
  });

  it('refuses a SEND to a full queue with a documented error', () => {
    const r = new QueueRegistry(timers);
    const q = r.get('full');
    for (let i = 0; i < MAX_QUEUE_LENGTH; i++) q.send(body('x'), []);
    assert.throws(() => q.send(body('one too many'), []), (e: unknown) => e instanceof StompError && /is full/.test(e.message) && e.code === 121);
  });

  it('forgets idle queues', () => {
    const r = new QueueRegistry(timers);
    const a = consumer(r, 'a', 'auto');
    r.get('q').send(body('x'), []);
    r.get('q').removeConsumer(a.sub, []);
    assert.deepEqual(r.list(), []);
  });
});

queueConformance('memory', async (options) => ({ queues: new MemoryQueues(timers, options.maxLength), cleanup: async () => {} }));
