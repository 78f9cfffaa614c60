/**
 * The notification store conformance suite: every NotificationStore runs it, e.g.
 *   storeConformance('sqlite', async () => ({ store: new SqliteStore(':memory:'), cleanup: async () => {} }))
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { IdempotencyConflict, InvalidCursor, type NotificationStore } from './store.js';

export interface StoreFixture {
  store: NotificationStore;
  /**
   * Another instance on the same data, as a second node would open it (the same object for a store
   * that cannot be shared). The suite closes it.
   */
  second(): Promise<NotificationStore>;
  cleanup(): Promise<void>;
}

const T0 = 1_800_000_000_000;
const note = { type: 'news', payload: { title: 'hi' } };

/**
 * Registers, in the calling `describe`, hooks that open a fresh fixture before each test (its
 * `store` and a `second` instance on the same data, as `other`) and close both after. The returned
 * object holds the open pair; a suite's own `beforeEach` registered after this sees it filled.
 */
export function eachFixture(create: () => Promise<StoreFixture>): { store: NotificationStore; other: NotificationStore } {
  const open = {} as { store: NotificationStore; other: NotificationStore };
  let fx: StoreFixture;
  beforeEach(async () => {
    fx = await create();
    open.store = fx.store;
    open.other = await fx.second();
  });
  afterEach(async () => {
    if (open.other !== open.store) await open.other.close();
    await open.store.close();
    await fx.cleanup();
  });
  return open;
}

export function storeConformance(name: string, create: () => Promise<StoreFixture>): void {
  describe(`notification store conformance: ${name}`, () => {
    const open = eachFixture(create);
    let store: NotificationStore;
    let other: NotificationStore;
    beforeEach(() => {
      ({ store, other } = open);
    });

    it('creates one notification per user, visible and unread', async () => {
      const r = await store.create(['a', 'b'], note, { now: T0 });
      assert.equal(r.duplicate, false);
      assert.deepEqual(r.notifications.map((n) => n.user), ['a', 'b']);
      assert.notEqual(r.notifications[0]!.id, r.notifications[1]!.id);
      assert.deepEqual(r.notifications[0]!.payload, { title: 'hi' });
      assert.equal(await store.unreadCount('a', T0), 1);
      const page = await store.list('a', { limit: 10 }, T0);
      assert.deepEqual(page.notifications.map((n) => n.id), [r.notifications[0]!.id]);
      assert.equal(page.cursor, undefined);
    });

    it('returns the first result for a repeated idempotency key and refuses other content', async () => {
      const first = await store.create(['a', 'b'], note, { idempotencyKey: 'k', now: T0 });
      const again = await store.create(['a', 'b'], note, { idempotencyKey: 'k', now: T0 + 5 });
      assert.equal(again.duplicate, true);
      assert.deepEqual(again.notifications.map((n) => n.id).sort(), first.notifications.map((n) => n.id).sort());
      assert.equal(await store.unreadCount('a', T0 + 5), 1);
      await assert.rejects(store.create(['a', 'b'], { ...note, payload: { title: 'other' } }, { idempotencyKey: 'k', now: T0 }), IdempotencyConflict);
    });

    it('pages 10,000 notifications newest first without gaps or repeats', async () => {
      for (let i = 0; i < 100; i++) {
        for (let j = 0; j < 100; j++) await store.create(['u'], { type: 't', payload: i * 100 + j }, { now: T0 + i });
      }
      const seen: unknown[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.list('u', { limit: 100, cursor }, T0 + 1000);
        if (pages === 3) await store.create(['u'], { type: 't', payload: 'newer' }, { now: T0 + 500 });
        seen.push(...page.notifications.map((n) => n.payload));
        cursor = page.cursor;
        pages++;
      } while (cursor);
      assert.equal(seen.length, 10_000);
      assert.equal(new Set(seen).size, 10_000);
      assert.deepEqual(seen.slice(0, 2), [9999, 9998]);
      assert.deepEqual(seen.slice(-1), [0]);
      assert.ok(!seen.includes('newer'), 'a page boundary is stable under inserts');
      await assert.rejects(store.list('u', { limit: 10, cursor: 'garbage!' }, T0), InvalidCursor);
    });

    it('marks read, unread, seen and all read, returning only what changed', async () => {
      const { notifications } = await store.create(['u'], note, { now: T0 });
      await store.create(['u'], note, { now: T0 + 1 });
      await store.create(['u'], note, { now: T0 + 2 });
      const id = notifications[0]!.id;
      const read = await store.mark('u', [id], { read: true }, T0 + 10);
      assert.deepEqual(read.map((n) => [n.id, n.readAt]), [[id, T0 + 10]]);
      assert.deepEqual(await store.mark('u', [id], { read: true }, T0 + 20), []);
      assert.equal(await store.unreadCount('u', T0 + 20), 2);
      assert.equal((await store.list('u', { limit: 10, unread: true }, T0 + 20)).notifications.length, 2);
      const unread = await store.mark('u', [id], { read: false }, T0 + 30);
      assert.equal(unread[0]!.readAt, undefined);
      const seen = await store.mark('u', [id], { seen: true }, T0 + 40);
      assert.equal(seen[0]!.seenAt, T0 + 40);
      const all = await store.mark('u', 'all', { read: true }, T0 + 50);
      assert.equal(all.length, 3);
      assert.equal(await store.unreadCount('u', T0 + 50), 0);
      assert.deepEqual(await store.mark('other', [id], { read: false }, T0 + 60), [], 'another user cannot touch it');
    });

    it('deletes only the user\'s own notifications', async () => {
      const { notifications } = await store.create(['u', 'v'], note, { now: T0 });
      assert.deepEqual(await store.remove('v', [notifications[0]!.id]), []);
      assert.deepEqual(await store.remove('u', [notifications[0]!.id, 'nope']), [notifications[0]!.id]);
      assert.equal(await store.unreadCount('u', T0), 0);
      assert.equal(await store.unreadCount('v', T0), 1);
    });

    it('keeps delayed notifications invisible until due, and hands each out once', async () => {
      await store.create(['u'], { ...note, deliverAt: T0 + 1000 }, { now: T0 });
      assert.equal(await store.unreadCount('u', T0 + 500), 0);
      assert.equal((await store.list('u', { limit: 10 }, T0 + 500)).notifications.length, 0);
      assert.deepEqual(await store.claimDue(T0 + 500, 10), []);
      const due = await store.claimDue(T0 + 1000, 10);
      assert.equal(due.length, 1);
      assert.deepEqual(await store.claimDue(T0 + 2000, 10), []);
      assert.equal(await store.unreadCount('u', T0 + 1000), 1);
      const immediate = await store.create(['u'], note, { now: T0 });
      assert.ok(immediate.notifications.length === 1);
      assert.deepEqual(await store.claimDue(T0 + 3000, 10), [], 'immediate notifications are not handed out again');
    });

    it('hides expired notifications and purges them', async () => {
      await store.create(['u'], { ...note, expireAt: T0 + 100 }, { now: T0 });
      assert.equal(await store.unreadCount('u', T0 + 50), 1);
      assert.equal(await store.unreadCount('u', T0 + 100), 0);
      assert.equal(await store.purge(T0 + 100, 0), 1);
    });

    it('stores schedules and leases each due run to exactly one owner', async () => {
      const s = await store.createSchedule({ cron: '* * * * *', timezone: 'UTC', target: { type: 'publication', channel: 'c', data: 1 }, nextRunAt: T0 }, T0 - 1);
      assert.deepEqual((await store.listSchedules()).map((x) => x.id), [s.id]);
      assert.deepEqual(await store.claimSchedules(T0 - 1, 'n1', 10_000, 10), [], 'not yet due');
      const a = await store.claimSchedules(T0, 'n1', 10_000, 10);
      const b = await store.claimSchedules(T0, 'n2', 10_000, 10);
      assert.deepEqual(a.map((x) => x.id), [s.id]);
      assert.deepEqual(b, [], 'leased to n1');
      await store.completeSchedule(s.id, 'n2', T0, T0 + 60_000);
      assert.equal((await store.listSchedules())[0]!.lastRunAt, undefined, 'only the lease owner completes');
      await store.completeSchedule(s.id, 'n1', T0, T0 + 60_000);
      const after = (await store.listSchedules())[0]!;
      assert.equal(after.lastRunAt, T0);
      assert.equal(after.nextRunAt, T0 + 60_000);
      const expired = await store.claimSchedules(T0 + 60_000, 'n1', 1, 10);
      assert.equal(expired.length, 1);
      assert.equal((await store.claimSchedules(T0 + 60_002, 'n2', 1000, 10)).length, 1, 'an expired lease passes to another owner');
      assert.equal(await store.cancelSchedule(s.id), true);
      assert.equal(await store.cancelSchedule(s.id), false);
      assert.deepEqual(await store.listSchedules(), []);
    });

    it('keeps unread counts exact under concurrent marks from two instances', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) ids.push(...(await store.create(['u'], { type: 't', payload: i }, { now: T0 + i })).notifications.map((n) => n.id));
      for (let i = 0; i < 180; i++) ids.push((await store.create(['u'], { type: 't', payload: i }, { now: T0 + 20 })).notifications[0]!.id);
      const chunks = (list: string[], size: number): string[][] => Array.from({ length: Math.ceil(list.length / size) }, (_, i) => list.slice(i * size, i * size + size));
      // both instances mark every id read, in differently sized overlapping batches, at once
      const marked = await Promise.all([
        ...chunks(ids, 7).map((c) => store.mark('u', c, { read: true }, T0 + 100)),
        ...chunks([...ids].reverse(), 11).map((c) => other.mark('u', c, { read: true }, T0 + 100)),
        other.mark('u', 'all', { read: true }, T0 + 100),
      ]);
      const changed = marked.flat().map((n) => n.id);
      assert.equal(changed.length, 200, 'each notification reported changed exactly once');
      assert.equal(new Set(changed).size, 200);
      assert.equal(await store.unreadCount('u', T0 + 100), 0);
      assert.equal(await other.unreadCount('u', T0 + 100), 0);
      const half = ids.filter((_, i) => i % 2 === 0);
      const unmarked = await Promise.all([...chunks(half, 9).map((c) => store.mark('u', c, { read: false }, T0 + 200)), ...chunks(half, 4).map((c) => other.mark('u', c, { read: false }, T0 + 200))]);
      assert.equal(unmarked.flat().length, 100);
      assert.equal(await other.unreadCount('u', T0 + 200), 100);
      assert.equal((await store.list('u', { limit: 100, unread: true }, T0 + 200)).notifications.length, 100);
    });

    it('pages stably while another instance inserts', async () => {
      for (let i = 0; i < 500; i++) await store.create(['p'], { type: 't', payload: i }, { now: T0 + Math.floor(i / 3) });
      const seen: unknown[] = [];
      let cursor: string | undefined;
      let page = 0;
      do {
        const [result] = await Promise.all([
          store.list('p', { limit: 30, cursor }, T0 + 1000 + page),
          other.create(['p'], { type: 't', payload: `new-${page}` }, { now: T0 + 1000 + page }),
        ]);
        seen.push(...result.notifications.map((n) => n.payload));
        cursor = result.cursor;
        page++;
      } while (cursor && page < 100);
      const old = seen.filter((p) => typeof p === 'number');
      assert.equal(old.length, 500, 'no notification skipped');
      assert.equal(new Set(seen).size, seen.length, 'none repeated');
      assert.deepEqual(old, [...old].sort((a, b) => (b as number) - (a as number)), 'newest first');
      assert.ok(seen.filter((p) => typeof p === 'string').length <= 1, 'insertions after the first page do not enter later pages');
    });

    it('claims each due schedule exactly once across two instances claiming at once', async () => {
      const made = new Set<string>();
      for (let i = 0; i < 40; i++) made.add((await store.createSchedule({ cron: '* * * * *', timezone: 'UTC', target: { type: 'publication', channel: 'c', data: i }, nextRunAt: T0 + i }, T0 - 1)).id);
      const claimed: Array<{ owner: string; id: string }> = [];
      // each owner runs what it leased (completing it, next run far away) until nothing is left
      const claimer = async (s: NotificationStore, owner: string): Promise<void> => {
        for (let round = 0; round < 40; round++) {
          const got = await s.claimSchedules(T0 + 100, owner, 60_000, 3);
          if (got.length === 0) return;
          for (const x of got) {
            claimed.push({ owner, id: x.id });
            await s.completeSchedule(x.id, owner, T0 + 100, T0 + 3_600_000);
          }
        }
      };
      await Promise.all([claimer(store, 'n1'), claimer(other, 'n2'), claimer(store, 'n3'), claimer(other, 'n4')]);
      const ids = claimed.map((c) => c.id);
      assert.equal(ids.length, new Set(ids).size, 'no run leased twice');
      assert.deepEqual(new Set(ids), made, 'every due run leased');
      assert.ok((await store.listSchedules()).every((x) => x.lastRunAt === T0 + 100 && x.nextRunAt === T0 + 3_600_000));
    });

    it('stores a create repeated with one idempotency key on two instances at once exactly once', async () => {
      const [a, b] = await Promise.all([
        store.create(['x', 'y'], note, { idempotencyKey: 'race', now: T0 }),
        other.create(['x', 'y'], note, { idempotencyKey: 'race', now: T0 }),
      ]);
      assert.deepEqual([a.duplicate, b.duplicate].sort(), [false, true]);
      assert.deepEqual(a.notifications.map((n) => n.id).sort(), b.notifications.map((n) => n.id).sort());
      assert.equal(await store.unreadCount('x', T0), 1);
    });
  });
}
