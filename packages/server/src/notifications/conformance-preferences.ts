/**
 * The conformance suite of preferences and actions: every NotificationStore runs it beside
 * ./conformance.ts, with the same fixture.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { eachFixture, type StoreFixture } from './conformance.js';
import type { NotificationStore } from './store.js';

const T0 = 1_800_000_000_000;
const actions = { primary: { label: 'Open', url: 'https://example.com/a/1' }, secondary: { label: 'Snooze', payload: { minutes: 10 } } };

export function preferenceConformance(name: string, create: () => Promise<StoreFixture>): void {
  describe(`notification store conformance, preferences and actions: ${name}`, () => {
    const open = eachFixture(create);
    let store: NotificationStore;
    let other: NotificationStore;
    beforeEach(() => {
      ({ store, other } = open);
    });

    it('keeps each user\'s type and tag choices, and forgets one set to null', async () => {
      assert.deepEqual(await store.preferences('u'), []);
      await store.setPreferences('u', [{ kind: 'type', name: 'news', muted: true }, { kind: 'tag', name: 'sports', muted: true }, { kind: 'type', name: 'digest', muted: false }]);
      await store.setPreferences('v', [{ kind: 'tag', name: 'sports', muted: true }]);
      const rows = (await other.preferences('u')).map((r) => `${r.user} ${r.kind} ${r.name} ${r.muted}`).sort();
      assert.deepEqual(rows, ['u tag sports true', 'u type digest false', 'u type news true']);
      await store.setPreferences('u', [{ kind: 'type', name: 'news', muted: null }, { kind: 'type', name: 'digest', muted: true }, { kind: 'tag', name: 'nope', muted: null }]);
      assert.deepEqual((await store.preferences('u')).map((r) => `${r.kind} ${r.name} ${r.muted}`).sort(), ['tag sports true', 'type digest true']);
      assert.deepEqual((await store.preferences('v')).map((r) => r.name), ['sports'], 'another user\'s choices are their own');
    });

    it('reads the choices of 10,000 users about one type and some tags in one call', async () => {
      const users = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);
      await store.setPreferences('user-7', [{ kind: 'type', name: 'news', muted: true }]);
      await store.setPreferences('user-9999', [{ kind: 'tag', name: 'sports', muted: true }, { kind: 'type', name: 'other', muted: true }]);
      await store.setPreferences('user-42', [{ kind: 'tag', name: 'weather', muted: true }, { kind: 'type', name: 'news', muted: false }]);
      await store.setPreferences('stranger', [{ kind: 'type', name: 'news', muted: true }]);
      const rows = (await other.preferencesAmong(users, 'news', ['sports', 'markets'])).map((r) => `${r.user} ${r.kind} ${r.name} ${r.muted}`).sort();
      assert.deepEqual(rows, ['user-42 type news false', 'user-7 type news true', 'user-9999 tag sports true']);
      assert.deepEqual(await store.preferencesAmong(users, 'news', []).then((r) => r.length), 2);
    });

    it('stores nothing for muted users, and a repeated idempotency key answers the first result', async () => {
      const first = await store.create(['a', 'b', 'c'], { type: 'news', payload: 1, tags: ['sports'] }, { now: T0, idempotencyKey: 'm', muted: new Set(['b']) });
      assert.deepEqual(first.notifications.map((n) => n.user), ['a', 'c']);
      assert.equal(await store.unreadCount('b', T0), 0);
      assert.deepEqual((await store.list('b', { limit: 10 }, T0)).notifications, []);
      const again = await other.create(['a', 'b', 'c'], { type: 'news', payload: 1, tags: ['sports'] }, { now: T0 + 1, idempotencyKey: 'm', muted: new Set() });
      assert.equal(again.duplicate, true, 'the key covers every user, muted or not');
      assert.deepEqual(again.notifications.map((n) => n.id).sort(), first.notifications.map((n) => n.id).sort());
      assert.equal(await store.unreadCount('b', T0 + 1), 0);
      const none = await store.create(['b'], { type: 'news', payload: 2 }, { now: T0, muted: new Set(['b']) });
      assert.deepEqual(none, { notifications: [], duplicate: false });
    });

    it('keeps a notification\'s actions and records one completion', async () => {
      const { notifications } = await store.create(['u', 'v'], { type: 't', payload: 1, actions }, { now: T0 });
      const id = notifications[0]!.id;
      assert.deepEqual(notifications[0]!.actions, actions);
      assert.deepEqual((await other.list('u', { limit: 1 }, T0)).notifications[0]!.actions, actions);
      assert.equal(await store.completeAction('v', id, 'primary', T0 + 1), undefined, 'another user\'s notification is not found');
      assert.equal(await store.completeAction('u', 'nope', 'primary', T0 + 1), undefined);
      const done = await store.completeAction('u', id, 'secondary', T0 + 10);
      assert.equal(done?.recorded, true);
      assert.deepEqual(done?.notification.completed, { action: 'secondary', at: T0 + 10, reported: false });
      const again = await other.completeAction('u', id, 'primary', T0 + 20);
      assert.equal(again?.recorded, false);
      assert.deepEqual(again?.notification.completed, { action: 'secondary', at: T0 + 10, reported: false }, 'the first completion stays');
      assert.deepEqual((await other.setActionReported('u', id))?.completed, { action: 'secondary', at: T0 + 10, reported: true });
      assert.deepEqual((await store.list('u', { limit: 1 }, T0 + 30)).notifications[0]!.completed, { action: 'secondary', at: T0 + 10, reported: true });
      assert.equal(await store.setActionReported('v', notifications[1]!.id), undefined, 'nothing completed, nothing reported');
      const plain = (await store.create(['u'], { type: 't', payload: 2 }, { now: T0 })).notifications[0]!;
      const without = await store.completeAction('u', plain.id, 'primary', T0 + 40);
      assert.deepEqual([without?.recorded, without?.notification.completed], [false, undefined], 'a notification without that action records nothing');
    });

    it('records a completion made on two instances at once exactly once', async () => {
      const ids = [];
      for (let i = 0; i < 20; i++) ids.push((await store.create(['r'], { type: 't', payload: i, actions }, { now: T0 })).notifications[0]!.id);
      const results = await Promise.all(ids.flatMap((id) => [store.completeAction('r', id, 'primary', T0 + 1), other.completeAction('r', id, 'secondary', T0 + 2)]));
      assert.equal(results.filter((r) => r?.recorded).length, 20, 'one completion recorded per notification');
      for (const id of ids) {
        const pair = results.filter((r) => r?.notification.id === id);
        assert.equal(pair[0]!.notification.completed!.action, pair[1]!.notification.completed!.action, 'both answers name the one recorded');
      }
    });
  });
}
