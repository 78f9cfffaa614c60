import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Publication } from '@tidings/protocol';
import { engineConformance } from './conformance.js';
import type { EngineHandler } from './engine.js';
import { MemoryEngine } from './memory.js';

engineConformance('memory', async () => ({ engine: new MemoryEngine(), cleanup: async () => {} }));

describe('memory engine sweep', () => {
  const options = { historySize: 10, historyTtl: 0.1 };
  const handler = (got: Publication[]): EngineHandler => ({
    onPublication: (pub) => got.push(pub),
    onJoin: () => {},
    onLeave: () => {},
    onControl: () => {},
  });

  it('forgets a channel idle for longer than metaTtl that nobody subscribes to: it starts a new epoch', async () => {
    const engine = new MemoryEngine({ metaTtl: 0.2, sweepInterval: 50 });
    await engine.start(handler([]));
    try {
      const first = await engine.publish('idle', { n: 1 }, options);
      const soon = await engine.publish('idle', { n: 2 }, options);
      assert.equal(soon.epoch, first.epoch);
      await sleep(400);
      const later = await engine.publish('idle', { n: 3 }, options);
      assert.notEqual(later.epoch, first.epoch);
      assert.equal(later.offset, 1);
    } finally {
      await engine.close();
    }
  });

  it('keeps a channel this node subscribes to, and its expired history is emptied', async () => {
    const got: Publication[] = [];
    const engine = new MemoryEngine({ metaTtl: 0.2, sweepInterval: 50 });
    await engine.start(handler(got));
    try {
      await engine.subscribe('live');
      const first = await engine.publish('live', { n: 1 }, options);
      await sleep(400);
      const history = await engine.history('live', { since: 0 });
      assert.deepEqual(history.publications, []);
      assert.deepEqual(history.position, { offset: 1, epoch: first.epoch });
      const later = await engine.publish('live', { n: 2 }, options);
      assert.equal(later.epoch, first.epoch);
      assert.equal(later.offset, 2);
      assert.deepEqual(got.map((p) => p.offset), [1, 2]);
    } finally {
      await engine.close();
    }
  });

  it('refuses a metaTtl that is not positive', () => {
    assert.throws(() => new MemoryEngine({ metaTtl: 0 }), /metaTtl/);
  });
});

describe('memory engine idempotency keys', () => {
  const options = { historySize: 10, historyTtl: 60 };
  const handler: EngineHandler = { onPublication: () => {}, onJoin: () => {}, onLeave: () => {}, onControl: () => {} };

  it('one key over many channels publishes once per channel, each channel remembered for its own TTL from its first use', async () => {
    const engine = new MemoryEngine({ sweepInterval: 20 });
    await engine.start(handler);
    try {
      const ttl = { ...options, idempotencyKey: 'k', idempotencyTtl: 0.3 };
      const a = await engine.publish('a', 1, ttl);
      const b = await engine.publish('b', 1, ttl);
      assert.deepEqual([a.offset, b.offset], [1, 1]);
      assert.equal(await engine.publish('a', 1, ttl), a);
      await assert.rejects(engine.publish('b', 2, ttl));
      await sleep(200);
      const c = await engine.publish('c', 1, ttl);
      await sleep(150);
      // a and b: 350 ms since their first use, forgotten; c: 150 ms, remembered
      assert.equal((await engine.publish('a', 1, ttl)).offset, 2);
      assert.equal((await engine.publish('b', 1, ttl)).offset, 2);
      assert.equal(await engine.publish('c', 1, ttl), c);
      await sleep(250);
      assert.equal((await engine.publish('c', 1, ttl)).offset, 2);
      assert.equal((await engine.history('c', {})).publications.length, 2);
    } finally {
      await engine.close();
    }
  });
});
