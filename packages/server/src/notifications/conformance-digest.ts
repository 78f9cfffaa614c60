/**
 * Conformance of DigestStore (./digest.ts): every store that has `digests` runs it beside
 * ./conformance.ts, with the same fixture, e.g.
 *   digestConformance('sqlite', async () => ({ store: new SqliteStore(':memory:'), second: ..., cleanup: async () => {} }))
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { eachFixture, type StoreFixture } from './conformance.js';
import { digestsOf, type BatchedInput, type DigestStore } from './digest.js';
import { IdempotencyConflict, type NotificationStore } from './store.js';

const T0 = 1_800_000_000_000;
const WINDOW = 60_000;
const article = (i: number, digest: Partial<BatchedInput['digest']> = {}): BatchedInput => ({
  type: 'news', payload: { title: `article ${i}` }, digest: { key: 'crawl', window: WINDOW, mode: 'live', items: 5, ...digest },
});

export function digestConformance(name: string, create: () => Promise<StoreFixture>): void {
  describe(`digest store conformance: ${name}`, () => {
    const open = eachFixture(create);
    let store: NotificationStore;
    let other: NotificationStore;
    let digests: DigestStore;
    let otherDigests: DigestStore;
    beforeEach(() => {
      ({ store, other } = open);
      digests = digestsOf(store)!;
      otherDigests = digestsOf(other)!;
      assert.ok(digests && otherDigests, 'the store has `digests`');
    });

    it('live: the first item creates the digest, later ones update it (count, the latest N newest first), one unread', async () => {
      const outcomes = [];
      let id = '';
      for (let i = 1; i <= 7; i++) {
        const r = await digests.createBatched(['a'], article(i), { now: T0 + i });
        assert.equal(r.duplicate, false);
        assert.equal(r.notifications.length, 1);
        id ||= r.notifications[0]!.id;
        assert.equal(r.notifications[0]!.id, id, 'the same notification every time');
        outcomes.push(r.outcomes[0]);
      }
      assert.deepEqual(outcomes, ['created', 'updated', 'updated', 'updated', 'updated', 'updated', 'updated']);
      const { notifications } = await store.list('a', { limit: 10 }, T0 + 10);
      assert.equal(notifications.length, 1);
      const n = notifications[0]!;
      assert.deepEqual(n.payload, { title: 'article 7' }, 'the payload is the latest item\'s');
      assert.deepEqual(n.digest, { key: 'crawl', count: 7, items: [7, 6, 5, 4, 3].map((i) => ({ title: `article ${i}` })), closesAt: T0 + 1 + WINDOW });
      assert.equal(n.deliverAt, undefined);
      assert.equal(await store.unreadCount('a', T0 + 10), 1);
    });

    it('pushed: invisible until the window closes, then claimed as due once, with every item', async () => {
      for (let i = 1; i <= 3; i++) {
        const r = await digests.createBatched(['a', 'b'], article(i, { mode: 'pushed', items: 2 }), { now: T0 + i });
        assert.deepEqual(r.outcomes, ['pending', 'pending']);
      }
      assert.equal(await store.unreadCount('a', T0 + 10), 0, 'nothing visible before the window closes');
      assert.deepEqual((await store.list('a', { limit: 10 }, T0 + 10)).notifications, []);
      assert.deepEqual(await store.claimDue(T0 + WINDOW, 100), [], 'not due before its time');
      const due = await other.claimDue(T0 + 1 + WINDOW, 100);
      assert.deepEqual(due.map((n) => [n.user, n.digest?.count, n.digest?.items.length]).sort(), [['a', 3, 2], ['b', 3, 2]]);
      assert.deepEqual(await store.claimDue(T0 + 2 + WINDOW, 100), [], 'claimed once');
      assert.equal(await store.unreadCount('a', T0 + 2 + WINDOW), 1);
    });

    it('a digest keeps the tags, severity and actions of its create, and filters find it by them', async () => {
      const input: BatchedInput = { ...article(1), tags: ['news', 'sports'], severity: 'warning', actions: { primary: { label: 'Read', url: 'https://example.com/a' } } };
      await digests.createBatched(['a'], input, { now: T0 });
      await digests.createBatched(['a'], { ...input, payload: { title: 'article 2' } }, { now: T0 + 1 });
      const [n] = (await store.list('a', { limit: 10, filter: { tags: ['sports'], severity: ['warning'] } }, T0 + 2)).notifications;
      assert.ok(n, 'found by tag and severity');
      assert.deepEqual([n.tags, n.severity, n.actions, n.digest?.count], [['news', 'sports'], 'warning', { primary: { label: 'Read', url: 'https://example.com/a' } }, 2]);
    });

    it('opens a new digest once the window has closed, and after its notification was deleted', async () => {
      const first = await digests.createBatched(['a'], article(1), { now: T0 });
      const second = await digests.createBatched(['a'], article(2), { now: T0 + WINDOW });
      assert.notEqual(second.notifications[0]!.id, first.notifications[0]!.id);
      assert.deepEqual(second.outcomes, ['created']);
      assert.equal(second.notifications[0]!.digest?.count, 1);
      await store.remove('a', [second.notifications[0]!.id]);
      const third = await digests.createBatched(['a'], article(3), { now: T0 + WINDOW + 1 });
      assert.deepEqual(third.outcomes, ['created']);
      assert.equal(third.notifications[0]!.digest?.count, 1);
    });

    it('keeps digests apart per user and per key', async () => {
      await digests.createBatched(['a', 'b'], article(1), { now: T0 });
      await digests.createBatched(['a'], article(2), { now: T0 + 1 });
      const r = await digests.createBatched(['a'], article(3, { key: 'other' }), { now: T0 + 2 });
      assert.deepEqual(r.outcomes, ['created']);
      const counts = async (user: string) => (await store.list(user, { limit: 10 }, T0 + 5)).notifications.map((n) => [n.digest?.key, n.digest?.count]);
      assert.deepEqual(await counts('a'), [['other', 1], ['crawl', 2]]);
      assert.deepEqual(await counts('b'), [['crawl', 1]]);
    });

    it('concurrent creates on two instances for one user and key make one digest with every item', async () => {
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? otherDigests : digests).createBatched(['a', 'b'], article(i), { now: T0 + 1 })));
      assert.equal(results.flatMap((r) => r.outcomes).filter((o) => o === 'created').length, 2, 'one digest opened per user');
      for (const user of ['a', 'b']) {
        const { notifications } = await store.list(user, { limit: 10 }, T0 + 5);
        assert.equal(notifications.length, 1, `one digest for ${user}`);
        assert.equal(notifications[0]!.digest?.count, 20);
      }
    });

    it('throttles per user and key within the window, counts what it held back, and opens a new window after', async () => {
      const t = (user: string[], now: number, key = 'alerts') => digests.createBatched(user, { type: 'alert', payload: now, throttle: { key, limit: 2, window: WINDOW } }, { now });
      assert.equal((await t(['a'], T0)).throttled, 0);
      assert.equal((await t(['a', 'b'], T0 + 1)).notifications.length, 2);
      const third = await t(['a', 'b'], T0 + 2);
      assert.deepEqual([third.notifications.map((n) => n.user), third.throttled], [['b'], 1]);
      assert.equal((await t(['a'], T0 + 3, 'other')).throttled, 0, 'another key has its own count');
      assert.equal(await store.unreadCount('a', T0 + 5), 3);
      assert.equal((await t(['a'], T0 + WINDOW)).throttled, 0, 'a new window');
    });

    it('purges closed digests and ended throttle windows, and only those', async () => {
      await digests.createBatched(['a'], article(1), { now: T0 });
      await digests.createBatched(['a'], { type: 'alert', payload: 1, throttle: { key: 'k', limit: 1, window: 2 * WINDOW } }, { now: T0 });
      assert.equal(await digests.purge(T0 + WINDOW - 1), 0, 'both still open');
      const joined = await digests.createBatched(['a'], article(2), { now: T0 + WINDOW - 1 });
      assert.deepEqual(joined.outcomes, ['updated'], 'an open digest is kept');
      assert.equal(await digests.purge(T0 + WINDOW), 1, 'the digest closed');
      assert.equal((await digests.createBatched(['a'], { type: 'alert', payload: 2, throttle: { key: 'k', limit: 1, window: 2 * WINDOW } }, { now: T0 + WINDOW })).throttled, 1,
        'an open throttle window is kept');
      assert.equal(await otherDigests.purge(T0 + 2 * WINDOW), 1, 'the throttle window ended');
      assert.equal((await store.list('a', { limit: 10 }, T0 + 2 * WINDOW)).notifications.length, 2, 'notifications stay');
    });

    it('lets exactly `limit` through when two instances race', async () => {
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? otherDigests : digests)
        .createBatched(['a'], { type: 'alert', payload: i, throttle: { key: 'k', limit: 3, window: WINDOW } }, { now: T0 })));
      assert.equal(results.reduce((sum, r) => sum + r.notifications.length, 0), 3);
      assert.equal(results.reduce((sum, r) => sum + r.throttled, 0), 9);
    });

    it('a throttled item does not join the digest', async () => {
      const input = (i: number): BatchedInput => ({ ...article(i), throttle: { key: 'crawl', limit: 2, window: WINDOW } });
      for (let i = 1; i <= 4; i++) await digests.createBatched(['a'], input(i), { now: T0 + i });
      const { notifications } = await store.list('a', { limit: 10 }, T0 + 10);
      assert.equal(notifications[0]!.digest?.count, 2);
    });

    it('a repeated idempotency key joins the digest once and answers it as it is now; other content conflicts', async () => {
      const first = await digests.createBatched(['a'], article(1), { idempotencyKey: 'run-1', now: T0 });
      await digests.createBatched(['a'], article(2), { idempotencyKey: 'run-2', now: T0 + 1 });
      const retry = await otherDigests.createBatched(['a'], article(2), { idempotencyKey: 'run-2', now: T0 + 2 });
      assert.equal(retry.duplicate, true);
      assert.equal(retry.notifications[0]!.id, first.notifications[0]!.id);
      assert.equal(retry.notifications[0]!.digest?.count, 2, 'not joined twice');
      await assert.rejects(digests.createBatched(['a'], article(3), { idempotencyKey: 'run-2', now: T0 + 3 }), IdempotencyConflict);
      await assert.rejects(store.create(['a'], { type: 'news', payload: { title: 'article 2' } }, { idempotencyKey: 'run-2', now: T0 + 3 }), IdempotencyConflict,
        'a plain create with the key of a digest create conflicts');
      const t = { type: 'alert', payload: 1, throttle: { key: 'k', limit: 1, window: WINDOW } };
      await digests.createBatched(['a'], t, { now: T0 });
      const held = await digests.createBatched(['a', 'b'], t, { idempotencyKey: 'held', now: T0 + 1 });
      const heldAgain = await digests.createBatched(['a', 'b'], t, { idempotencyKey: 'held', now: T0 + 2 });
      assert.deepEqual([heldAgain.duplicate, heldAgain.throttled, heldAgain.notifications.map((n) => n.user)], [true, held.throttled, ['b']]);
    });
  });
}
