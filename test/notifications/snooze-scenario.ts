/**
 * The snooze must-show, for any two nodes sharing a store and an engine: a notification snoozed
 * for 2 s on node A leaves the user's devices live; A is killed at once; it comes back live on the
 * device on node B within 1 s of its time, once, and still once after A is back.
 */
import assert from 'node:assert/strict';
import type { InboxEvent, Notification } from '@tidings/protocol';
import { makeToken, type TidingsProcess } from '../helpers/tidings.js';
import { WsClient } from '../helpers/ws-client.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function snoozeAcrossRestart(a: TidingsProcess, b: TidingsProcess, user: string): Promise<void> {
  const token = await makeToken(user);
  const onA = await WsClient.connect(a.wsUrl, token);
  const onB = await WsClient.connect(b.wsUrl, token);
  const seen: Array<{ at: number; event: InboxEvent }> = [];
  // first, so `seen` is current when the client's own handler checks `until` conditions
  onB.ws.prependListener('message', (raw: Buffer) => {
    for (const line of raw.toString().split('\n')) {
      const m = JSON.parse(line) as { type: string; data?: InboxEvent };
      if (m.type === 'publication' && m.data) seen.push({ at: Date.now(), event: m.data });
    }
  });
  for (const c of [onA, onB]) await c.command('subscribe', { channel: `inbox:${user}` });
  const created = await a.api('POST', '/api/notifications', { user, type: 'reminder', payload: { title: 'later' } });
  const id = (created.body as { notifications: Notification[] }).notifications[0]!.id;
  await onB.until(() => seen.some((s) => s.event.type === 'unread.count' && s.event.unread === 1), 5000, 'created on B');

  const until = Date.now() + 2000;
  assert.deepEqual(await onA.command('inbox.snooze', { ids: [id], until }), { unread: 0 });
  await onB.until(() => seen.some((s) => s.event.type === 'notification.updated' && s.event.notifications[0]?.snoozedUntil === until), 1500, 'the snooze, live on B');
  const badge = (): number | undefined => seen.flatMap((s) => (s.event.type === 'unread.count' ? [s.event.unread] : [])).at(-1);
  await onB.until(() => badge() === 0, 1500, 'B\'s badge to 0');
  await a.kill('SIGKILL');
  onA.close();
  const listed = (await b.api('GET', `/api/notifications?user=${user}`)).body as { notifications: Notification[] };
  assert.deepEqual(listed.notifications, [], 'out of the default list while snoozed');

  const isWake = (e: InboxEvent): boolean => e.type === 'notification.updated' && e.notifications[0]?.id === id && e.notifications[0].snoozedUntil === undefined;
  await onB.until(() => seen.some((s) => isWake(s.event)), 4000, 'the wake, live on B');
  const wake = seen.find((s) => isWake(s.event))!;
  assert.ok(wake.at >= until && wake.at <= until + 1000, `back ${wake.at - until} ms after its time`);
  await onB.until(() => seen.some((s) => s.at >= wake.at && s.event.type === 'unread.count' && s.event.unread === 1), 2000, 'B\'s badge back to 1');

  await a.start();
  await sleep(1500);
  assert.equal(seen.filter((s) => isWake(s.event)).length, 1, 'woken once, though A came back');
  const after = (await a.api('GET', `/api/notifications?user=${user}`)).body as { notifications: Notification[] };
  assert.deepEqual(after.notifications.map((n) => [n.id, n.snoozedUntil]), [[id, undefined]], 'back in the list, snooze over');
  onB.close();
}
