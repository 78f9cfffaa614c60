/**
 * The store conformance suite for inbox state: tags and severity, archive, snooze and its wake
 * leases, filtered lists and counts. Every NotificationStore runs it next to ./conformance.ts.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { eachFixture, type StoreFixture } from './conformance.js';
import { UnknownNotifications, type NotificationStore } from './store.js';

const T0 = 1_800_000_000_000;

export function storeStateConformance(name: string, create: () => Promise<StoreFixture>): void {
  describe(`notification store conformance, inbox state: ${name}`, () => {
    const open = eachFixture(create);
    let store: NotificationStore;
    let other: NotificationStore;
    beforeEach(() => {
      ({ store, other } = open);
    });

    const make = async (user: string, type: string, extra: { tags?: string[]; severity?: 'info' | 'warning' | 'critical' } = {}, now = T0): Promise<string> =>
      (await store.create([user], { type, payload: type, ...extra }, { now })).notifications[0]!.id;
    const ids = async (user: string, filter: Parameters<NotificationStore['count']>[1] | undefined, now: number): Promise<string[]> =>
      (await store.list(user, { limit: 100, filter }, now)).notifications.map((n) => n.id);

    it('stores tags and severity, returns them, and filters lists and counts by type, tags, severity, read and seen', async () => {
      const a = await make('u', 'news', { tags: ['sports', 'local'], severity: 'warning' }, T0);
      const b = await make('u', 'news', { tags: ['politics'] }, T0 + 1);
      const c = await make('u', 'alert', { severity: 'critical' }, T0 + 2);
      const [n] = (await store.list('u', { limit: 1, cursor: undefined, filter: { tags: ['local'] } }, T0 + 5)).notifications;
      assert.deepEqual([n!.id, n!.tags, n!.severity], [a, ['sports', 'local'], 'warning']);
      assert.deepEqual(await ids('u', { type: ['news'] }, T0 + 5), [b, a]);
      assert.deepEqual(await ids('u', { tags: ['politics', 'sports'] }, T0 + 5), [b, a]);
      assert.deepEqual(await ids('u', { severity: ['info'] }, T0 + 5), [b], 'no severity counts as info');
      assert.deepEqual(await ids('u', { severity: ['critical', 'warning'] }, T0 + 5), [c, a]);
      assert.deepEqual(await ids('u', { type: ['news'], severity: ['warning'] }, T0 + 5), [a], 'every field must match');
      await store.mark('u', [a], { read: true }, T0 + 10);
      await store.mark('u', [b], { seen: true }, T0 + 10);
      assert.deepEqual(await ids('u', { read: true }, T0 + 10), [a]);
      assert.deepEqual(await ids('u', { read: false }, T0 + 10), [c, b]);
      assert.deepEqual(await ids('u', { seen: false }, T0 + 10), [c, a]);
      assert.equal(await store.count('u', { read: false, type: ['news'] }, T0 + 10), 1);
      assert.equal(await store.count('u', {}, T0 + 10), 3);
      assert.equal(await store.count('u', { tags: ['nope'] }, T0 + 10), 0);
      assert.equal(await store.count('other', {}, T0 + 10), 0);
    });

    it('archives and unarchives one, several and all; archived ones leave the default list and the badge', async () => {
      const [a, b, c] = [await make('u', 't', {}, T0), await make('u', 't', {}, T0 + 1), await make('u', 't', {}, T0 + 2)];
      const one = await store.archive('u', [a], true, T0 + 10);
      assert.deepEqual(one.map((n) => [n.id, n.archivedAt]), [[a, T0 + 10]]);
      assert.deepEqual(await store.archive('u', [a], true, T0 + 11), [], 'archiving again changes nothing');
      assert.deepEqual(await ids('u', undefined, T0 + 11), [c, b]);
      assert.equal(await store.unreadCount('u', T0 + 11), 2);
      assert.deepEqual(await ids('u', { archived: true }, T0 + 11), [a]);
      assert.equal(await store.count('u', { archived: true, read: false }, T0 + 11), 1);
      const several = await store.archive('u', [b, c, b], true, T0 + 12);
      assert.deepEqual(several.map((n) => n.id).sort(), [b, c].sort());
      assert.equal(await store.unreadCount('u', T0 + 12), 0);
      const back = await store.archive('u', 'all', false, T0 + 13);
      assert.deepEqual(back.map((n) => n.id).sort(), [a, b, c].sort());
      assert.ok(back.every((n) => n.archivedAt === undefined));
      assert.equal(await store.unreadCount('u', T0 + 13), 3);
      assert.equal((await store.archive('u', 'all', true, T0 + 14)).length, 3);
      assert.deepEqual(await ids('u', undefined, T0 + 14), []);
    });

    it('refuses unknown ids, another user\'s ids and not yet delivered ones, changing nothing', async () => {
      const mine = await make('u', 't');
      const theirs = await make('v', 't');
      const later = (await store.create(['u'], { type: 't', payload: 1, deliverAt: T0 + 1000 }, { now: T0 })).notifications[0]!.id;
      for (const bad of [[mine, 'nope'], [mine, theirs], [later, mine]]) {
        await assert.rejects(store.archive('u', bad, true, T0 + 10), (err: unknown) => err instanceof UnknownNotifications && err.ids.length === 1 && err.ids[0] !== mine);
        await assert.rejects(store.snooze('u', bad, T0 + 5000, T0 + 10), UnknownNotifications);
      }
      assert.deepEqual(await ids('u', undefined, T0 + 10), [mine], 'nothing archived or snoozed');
      assert.equal(await store.count('v', {}, T0 + 10), 1);
      assert.equal(await store.count('u', { archived: true }, T0 + 10), 0);
      assert.equal(await store.count('u', { snoozed: true }, T0 + 10), 0);
    });

    it('snoozes out of the default list and badge until its time, then lists it again; unsnoozes', async () => {
      const [a, b] = [await make('u', 't', {}, T0), await make('u', 't', {}, T0 + 1)];
      const snoozed = await store.snooze('u', [a], T0 + 1000, T0 + 10);
      assert.deepEqual(snoozed.map((n) => [n.id, n.snoozedUntil]), [[a, T0 + 1000]]);
      assert.deepEqual(await store.snooze('u', [a], T0 + 1000, T0 + 11), [], 'the same snooze again changes nothing');
      assert.deepEqual(await ids('u', undefined, T0 + 20), [b]);
      assert.equal(await store.unreadCount('u', T0 + 20), 1);
      assert.deepEqual(await ids('u', { snoozed: true }, T0 + 20), [a]);
      assert.deepEqual(await ids('u', undefined, T0 + 1000), [b, a], 'back by itself at its time, in its place');
      assert.equal(await store.unreadCount('u', T0 + 1000), 2);
      await store.snooze('u', [b], T0 + 2000, T0 + 30);
      const un = await store.snooze('u', [b], null, T0 + 40);
      assert.deepEqual(un.map((n) => [n.id, n.snoozedUntil]), [[b, undefined]]);
      assert.deepEqual(await store.snooze('u', [b], null, T0 + 41), [], 'not snoozed: nothing to unsnooze');
      assert.equal(await store.unreadCount('u', T0 + 50), 1);
    });

    it('leases each due wake to one owner, completes it once, and a re-snooze takes the lease away', async () => {
      const [a, b] = [await make('u', 't'), await make('u', 't')];
      await store.snooze('u', [a, b], T0 + 1000, T0 + 10);
      assert.deepEqual(await store.claimWakes(T0 + 999, 'n1', 10_000, 10), [], 'not yet due');
      const claimed = await store.claimWakes(T0 + 1000, 'n1', 10_000, 10);
      assert.deepEqual(claimed.map((n) => n.id).sort(), [a, b].sort());
      assert.ok(claimed.every((n) => n.snoozedUntil === T0 + 1000));
      assert.deepEqual(await other.claimWakes(T0 + 1001, 'n2', 10_000, 10), [], 'leased to n1');
      await store.snooze('u', [b], T0 + 5000, T0 + 1002);
      assert.deepEqual(await other.completeWakes([a], 'n2'), [], 'only the lease owner completes');
      const woken = await store.completeWakes([a, b], 'n1');
      assert.deepEqual(woken.map((n) => [n.id, n.snoozedUntil]), [[a, undefined]], 'b was snoozed again: not woken');
      assert.deepEqual(await store.completeWakes([a], 'n1'), []);
      assert.deepEqual(await other.claimWakes(T0 + 3000, 'n2', 10_000, 10), []);
      const expiredLease = await store.claimWakes(T0 + 5000, 'n1', 1, 10);
      assert.deepEqual(expiredLease.map((n) => n.id), [b]);
      assert.deepEqual((await other.claimWakes(T0 + 5002, 'n2', 1000, 10)).map((n) => n.id), [b], 'an expired lease passes to another owner');
      assert.deepEqual((await other.completeWakes([b], 'n2')).map((n) => n.id), [b]);
      assert.equal(await store.count('u', { snoozed: true }, T0), 0);
    });

    it('wakes each snoozed notification exactly once across two instances claiming at once', async () => {
      const made: string[] = [];
      for (let i = 0; i < 30; i++) made.push(await make(`w${i % 3}`, 't', {}, T0 + i));
      for (let i = 0; i < 30; i++) await store.snooze(`w${i % 3}`, [made[i]!], T0 + 100 + i, T0 + 50);
      const woken: string[] = [];
      const waker = async (s: NotificationStore, owner: string): Promise<void> => {
        for (let round = 0; round < 30; round++) {
          const got = await s.claimWakes(T0 + 200, owner, 60_000, 4);
          if (got.length === 0) return;
          woken.push(...(await s.completeWakes(got.map((n) => n.id), owner)).map((n) => n.id));
        }
      };
      await Promise.all([waker(store, 'n1'), waker(other, 'n2'), waker(store, 'n3'), waker(other, 'n4')]);
      assert.equal(woken.length, 30, 'each woken once');
      assert.deepEqual(new Set(woken), new Set(made));
    });

    it('pages a filtered list stably while matching notifications are inserted', async () => {
      for (let i = 0; i < 120; i++) await store.create(['p'], { type: 't', payload: i, tags: i % 2 === 0 ? ['even'] : ['odd'] }, { now: T0 + Math.floor(i / 4) });
      const seen: unknown[] = [];
      let cursor: string | undefined;
      let page = 0;
      do {
        const [result] = await Promise.all([
          store.list('p', { limit: 7, cursor, filter: { tags: ['even'] } }, T0 + 1000 + page),
          other.create(['p'], { type: 't', payload: `new-${page}`, tags: ['even'] }, { now: T0 + 1000 + page }),
        ]);
        seen.push(...result.notifications.map((n) => n.payload));
        cursor = result.cursor;
        page++;
      } while (cursor && page < 50);
      const old = seen.filter((p) => typeof p === 'number');
      assert.deepEqual(old, Array.from({ length: 60 }, (_, i) => 118 - 2 * i), 'every even one, newest first, none skipped or repeated');
      assert.ok(seen.filter((p) => typeof p === 'string').length <= 1, 'insertions after the first page do not enter later pages');
    });
  });
}
