import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChannelPolicy } from './channels.js';
import { MemoryEngine } from './engine/memory.js';
import { createLogger } from './log.js';
import { Inbox } from './notifications/inbox.js';
import { MemoryStore } from './notifications/memory-store.js';
import { defaultNamespaces } from './options.js';
import { Publisher } from './publisher.js';

function nested(levels: number): unknown {
  let v: unknown = 'leaf';
  for (let i = 0; i < levels; i++) v = [v];
  return v;
}

function setup(): { engine: MemoryEngine; publisher: Publisher; inbox: Inbox; store: MemoryStore } {
  const engine = new MemoryEngine();
  const log = createLogger('silent');
  const publisher = new Publisher(engine, new ChannelPolicy(defaultNamespaces()), log, 8);
  const store = new MemoryStore();
  return { engine, publisher, inbox: new Inbox(store, publisher, log), store };
}

describe('Publisher: nothing is stored that a wire format cannot carry', () => {
  it('refuses (107) data deeper than maxDepth or not plain JSON, from the library too, and stores nothing', async () => {
    const { engine, publisher } = setup();
    const refused = [nested(9), nested(20_000), undefined, { at: new Date(0) }, [1n], { f: () => 1 }, Infinity, [NaN]];
    for (const data of refused) await assert.rejects(publisher.publish('news', data), { code: 107 });
    await assert.rejects(publisher.publish('news', nested(9)), { message: 'data nests deeper than 8 levels (maxDepth)' });
    assert.deepEqual((await engine.history('news', { limit: 100 })).publications, []);
    await publisher.publish('news', nested(8));
    assert.deepEqual((await engine.history('news', { limit: 100 })).publications.map((p) => p.data), [nested(8)]);
  });

  it('stores no notification with a payload too deep, and announces one at the limit though its event wraps it deeper', async () => {
    const { engine, inbox } = setup();
    await assert.rejects(inbox.create(['kim'], { type: 't', payload: nested(9) }), { code: 107, message: /^payload nests deeper than 8 levels/ });
    assert.deepEqual((await inbox.list('kim', {})).notifications, []);
    await inbox.create(['kim'], { type: 't', payload: nested(8) });
    const deadline = Date.now() + 2000;
    let events: unknown[] = [];
    while (events.length < 2 && Date.now() < deadline) {
      events = (await engine.history('inbox:kim', { limit: 10 })).publications.map((p) => p.data);
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.deepEqual(events.map((e) => (e as { type: string }).type), ['notification.created', 'unread.count']);
  });
});
