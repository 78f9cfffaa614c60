import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ErrorCode, type ActionResult } from '@tidings/protocol';
import { createLogger } from '../log.js';
import { InboxActions, parseActions, type ActionReport } from './actions.js';
import { MemoryStore } from './memory-store.js';
import { MAX_USER_PREFERENCES, Preferences } from './preferences.js';

const types = { security: { muted: false, critical: true }, digest: { muted: true, critical: false } };

it('mutes by the user\'s choice, else the configured default; never a critical type, not even by a tag', async () => {
  const store = new MemoryStore();
  const prefs = new Preferences(store, types);
  await prefs.change('a', { types: { news: true }, tags: { sports: true } });
  await prefs.change('b', { types: { digest: false } });
  const users = ['a', 'b', 'c'];
  assert.deepEqual([...await prefs.muted(users, 'news')], ['a']);
  assert.deepEqual([...await prefs.muted(users, 'weather', ['sports'])], ['a']);
  assert.deepEqual([...await prefs.muted(users, 'digest')].sort(), ['a', 'c']);
  assert.deepEqual([...await prefs.muted(users, 'security', ['sports'])], []);
  await prefs.change('a', { types: { news: null }, tags: { sports: false } });
  assert.deepEqual([...await prefs.muted(users, 'news', ['sports'])], []);
  assert.deepEqual(JSON.parse(JSON.stringify(await prefs.get('b'))), { types: { security: { muted: false, critical: true }, digest: { muted: false, critical: false } }, tags: [] });
});

it('refuses to mute a critical type (130) or to keep more than the most choices (106), changing nothing', async () => {
  const store = new MemoryStore();
  const prefs = new Preferences(store, types);
  await assert.rejects(prefs.change('a', { types: { promo: true, security: true } }), { code: ErrorCode.TypeCritical });
  assert.deepEqual(await store.preferences('a'), [], 'not even the other change');
  const many = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`t${i}`, true]));
  for (let i = 0; i < MAX_USER_PREFERENCES / 100; i++) await prefs.change('a', { tags: Object.fromEntries(Object.keys(many).map((k) => [`${i}-${k}`, true])) });
  await assert.rejects(prefs.change('a', { types: { one: true } }), { code: ErrorCode.LimitExceeded });
  assert.equal((await store.preferences('a')).length, MAX_USER_PREFERENCES);
  await prefs.change('a', { tags: { '0-t0': false }, types: { one: true } });
  assert.equal((await store.preferences('a')).length, MAX_USER_PREFERENCES, 'forgetting one makes room for one');
});

it('checks actions: a label and a URL or a payload, bounded', () => {
  assert.deepEqual(parseActions({ primary: { label: 'Go', url: 'https://x.test/a' } }), { primary: { label: 'Go', url: 'https://x.test/a' } });
  for (const bad of [
    [], { secondary: { label: 'x', url: 'https://x.test' } }, { primary: { label: 'x' } }, { primary: { label: 'x', url: 'https://x.test', payload: 1 } },
    { primary: { label: '', payload: 1 } }, { primary: { label: 'x'.repeat(65), payload: 1 } }, { primary: { label: 'x', url: 'javascript:alert(1)' } },
    { primary: { label: 'x', url: `https://x.test/${'a'.repeat(2048)}` } }, { primary: { label: 'x', payload: 'y'.repeat(4096) } },
    { primary: { label: 'x', payload: 1, icon: 'i' } }, { primary: { label: 'x', payload: 1 }, third: {} },
  ]) assert.throws(() => parseActions(bad), { code: ErrorCode.BadRequest }, JSON.stringify(bad).slice(0, 80));
});

it('records a completion before reporting it, says when the report failed, and retries it when the same action is completed again', async () => {
  const store = new MemoryStore();
  const reports: ActionReport[] = [];
  let fail = true;
  const counted: Array<ActionResult['report']> = [];
  const told: string[] = [];
  const actions = new InboxActions(store, async (r) => {
    reports.push(r);
    if (fail) throw new Error('backend down');
  }, async (_user, list) => { told.push(...list.map((n) => `${n.id}:${n.completed?.reported}`)); }, createLogger('silent'), (r) => counted.push(r));
  const { notifications: [n] } = await store.create(['u'], { type: 't', payload: 1, actions: { primary: { label: 'Ok', payload: { k: 1 } } } }, { now: Date.now() });
  const failed = await actions.complete('u', n!.id, 'primary', 'client-1');
  assert.equal(failed.report, 'failed');
  assert.equal(failed.notification.completed?.reported, false);
  assert.deepEqual(told, [`${n!.id}:false`], 'the devices see the recorded completion');
  assert.equal(reports[0]?.client, 'client-1');
  await assert.rejects(actions.complete('u', n!.id, 'secondary'), { code: ErrorCode.BadRequest }, 'no secondary action');
  fail = false;
  const sent = await actions.complete('u', n!.id, 'primary');
  assert.equal(sent.report, 'sent');
  assert.equal(sent.notification.completed?.reported, true);
  assert.equal((await actions.complete('u', n!.id, 'primary')).report, 'sent');
  assert.equal(reports.length, 2, 'reported once after it succeeded');
  assert.deepEqual(counted, ['failed', 'sent']);
  await assert.rejects(actions.complete('v', n!.id, 'primary'), { code: ErrorCode.NotFound });
  const off = new InboxActions(store, undefined, async () => {}, createLogger('silent'), () => {});
  const { notifications: [m] } = await store.create(['u'], { type: 't', payload: 2, actions: { primary: { label: 'Ok', url: 'https://x.test' } } }, { now: Date.now() });
  assert.equal((await off.complete('u', m!.id, 'primary')).report, 'off');
});
