import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { EventSource } from 'eventsource';
import WebSocket from 'ws';
import { Client } from '@tidings/client';
import { Client as FallbackClient } from '@tidings/client/fallback';
import type { Notification, NotificationPreferences } from '@tidings/protocol';
import { configFile, makeToken, startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { until } from '../helpers/until.js';

const SECRET = 'action-proxy-secret-for-tests';

/** The app's backend behind `--notification-action-proxy`: records each report; answers HTTP 500 while `failing`. */
class ActionBackend {
  readonly reports: Array<{ body: Record<string, unknown>; secret: string | undefined }> = [];
  failing = false;
  private constructor(private readonly server: Server, readonly url: string) {}

  static async start(): Promise<ActionBackend> {
    let backend: ActionBackend | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const secret = req.headers['x-tidings-proxy-secret'];
        backend!.reports.push({ body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>, secret: typeof secret === 'string' ? secret : undefined });
        if (backend!.failing) {
          res.writeHead(500).end();
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"result":{}}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    backend = new ActionBackend(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/actions`);
    return backend;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/** The value of one sample of the server's /metrics, 0 when absent. */
async function metric(t: TidingsProcess, sample: string): Promise<number> {
  const text = await (await fetch(`${t.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? 0 : Number(line.slice(sample.length + 1));
}

describe('notification preferences and actions', () => {
  let t: TidingsProcess;
  let backend: ActionBackend;
  before(async () => {
    backend = await ActionBackend.start();
    const config = configFile({ notificationTypes: { security: { critical: true }, digest: { muted: true } } });
    t = await startTidings({ args: ['--config', config, '--notification-action-proxy', backend.url, '--proxy-secret', SECRET, '--proxy-timeout', '2000'] });
  });
  after(async () => {
    await t.stop();
    await backend.stop();
  });

  it('a muted type or tag is not delivered (no list entry, no badge bump, counted as skipped); a critical type cannot be muted', async () => {
    const token = await makeToken('mia');
    const phone = new Client(t.wsUrl, { WebSocket, token });
    const laptop = new FallbackClient(t.url, { token, transports: ['stream'] });
    const laptopCounts: number[] = [];
    const laptopPreferences: NotificationPreferences[] = [];
    laptop.inbox.on('unread', ({ unread }) => laptopCounts.push(unread));
    laptop.inbox.on('preferences', (p) => laptopPreferences.push(p));
    phone.connect();
    laptop.connect();
    try {
      await until(() => phone.inbox.unreadCount === 0 && laptop.inbox.unreadCount === 0, 8000, 'both connected with a count');
      const initial = await phone.inbox.preferences();
      assert.deepEqual(initial, { types: { security: { muted: false, critical: true }, digest: { muted: true, critical: false } }, tags: [] });

      const mine = await phone.inbox.setPreferences({ types: { promo: true }, tags: { sports: true } });
      assert.deepEqual(mine.types.promo, { muted: true, critical: false });
      assert.deepEqual(mine.tags, ['sports']);
      await until(() => laptopPreferences.length === 1, 5000, 'the laptop told of the change');
      assert.deepEqual(laptopPreferences[0], mine);

      await assert.rejects(phone.inbox.setPreferences({ types: { security: true } }), { code: 130 });
      const refused = await t.api('POST', '/api/notifications/preferences', { user: 'mia', types: { security: true, promo: false } });
      assert.equal(refused.status, 409);
      assert.equal((refused.body as { error: { code: number } }).error.code, 130);
      assert.deepEqual(await laptop.inbox.preferences(), mine, 'a refused change changes nothing, not even its other entries');

      const skippedBefore = await metric(t, 'tidings_notifications_skipped_total{reason="muted"}');
      const promo = await t.api('POST', '/api/notifications', { users: ['mia', 'leo'], type: 'promo', payload: { title: 'Sale' } });
      assert.equal(promo.status, 200);
      assert.deepEqual((promo.body as { notifications: Notification[]; skipped: number }).notifications.map((n) => n.user), ['leo']);
      assert.equal((promo.body as { skipped: number }).skipped, 1);
      const sports = await t.api('POST', '/api/notifications', { users: ['mia', 'leo'], type: 'news', tags: ['sports', 'local'], payload: { title: 'Score' } });
      assert.equal((sports.body as { skipped: number }).skipped, 1, 'a muted tag skips the user');
      const digest = await t.api('POST', '/api/notifications', { users: ['mia', 'leo'], type: 'digest', payload: { title: 'Weekly' } });
      assert.equal((digest.body as { skipped: number }).skipped, 2, 'muted by default for both');
      const leo = await t.api('POST', '/api/notifications/preferences', { user: 'leo', types: { digest: false } });
      assert.deepEqual((leo.body as { preferences: NotificationPreferences }).preferences.types.digest, { muted: false, critical: false }, 'the server API sets any user\'s preferences');
      const digest2 = await t.api('POST', '/api/notifications', { users: ['mia', 'leo'], type: 'digest', payload: { title: 'Weekly 2' } });
      assert.equal((digest2.body as { skipped: number }).skipped, 1);
      const security = await t.api('POST', '/api/notifications', { users: ['mia'], type: 'security', tags: ['sports'], payload: { title: 'New login' } });
      assert.equal((security.body as { skipped: number }).skipped, 0, 'a critical type reaches even a user who muted its tag');

      await until(() => laptop.inbox.unreadCount === 1 && phone.inbox.unreadCount === 1, 5000, 'the critical one counted');
      assert.deepEqual(laptopCounts, [0, 1], 'the badge moved only for the delivered one');
      assert.deepEqual((await phone.inbox.list()).notifications.map((n) => n.type), ['security']);
      assert.deepEqual((await t.api('GET', '/api/notifications/unread-count?user=leo')).body, { unread: 3 }, 'promo, news and the second digest');
      assert.equal(await metric(t, 'tidings_notifications_skipped_total{reason="muted"}') - skippedBefore, 5);
      const got = await t.api('GET', '/api/notifications/preferences?user=leo');
      assert.deepEqual(got.body, { preferences: { types: { security: { muted: false, critical: true }, digest: { muted: false, critical: false } }, tags: [] } });
    } finally {
      phone.disconnect();
      laptop.disconnect();
    }
  });

  it('an action completed on one device shows on the other live and reaches the app backend; a failing backend leaves it recorded, unreported', async () => {
    const token = await makeToken('ana');
    const phone = new Client(t.wsUrl, { WebSocket, token });
    const laptop = new FallbackClient(t.url, { token, EventSource, transports: ['sse'] });
    const seen: Notification[] = [];
    laptop.inbox.on('updated', (list) => seen.push(...list));
    phone.connect();
    laptop.connect();
    try {
      await until(() => phone.inbox.unreadCount !== undefined && laptop.inbox.unreadCount !== undefined, 8000, 'both connected');
      const actions = { primary: { label: 'Accept', payload: { invite: 7 } }, secondary: { label: 'View', url: 'https://example.com/i/7' } };
      const made = await t.api('POST', '/api/notifications', { user: 'ana', type: 'invite', payload: { title: 'Join us' }, actions });
      const invite = (made.body as { notifications: Notification[] }).notifications[0]!;
      assert.deepEqual(invite.actions, actions);

      const done = await phone.inbox.completeAction(invite.id, 'primary');
      assert.equal(done.report, 'sent');
      assert.deepEqual({ ...done.notification.completed, at: 0 }, { action: 'primary', at: 0, reported: true });
      await until(() => seen.some((n) => n.id === invite.id && n.completed?.reported === true), 5000, 'the laptop sees the completion');
      assert.equal(backend.reports.length, 1);
      const report = backend.reports[0]!;
      assert.equal(report.secret, SECRET);
      assert.deepEqual({ ...report.body, client: typeof report.body.client, completedAt: typeof report.body.completedAt }, {
        user: 'ana', action: 'primary', label: 'Accept', payload: { invite: 7 }, client: 'string', completedAt: 'number',
        notification: { id: invite.id, type: 'invite', payload: { title: 'Join us' }, createdAt: invite.createdAt },
      });

      await assert.rejects(laptop.inbox.completeAction(invite.id, 'secondary'), { code: 131 });
      assert.equal((await phone.inbox.completeAction(invite.id, 'primary')).report, 'sent', 'completing again is answered, not reported twice');
      assert.equal(backend.reports.length, 1);
      const stranger = await t.api('POST', '/api/notifications/action', { user: 'leo', id: invite.id, action: 'primary' });
      assert.equal(stranger.status, 404, 'another user\'s notification is not found');

      backend.failing = true;
      const failedBefore = await metric(t, 'tidings_notification_actions_total{report="failed"}');
      const second = (await t.api('POST', '/api/notifications', { user: 'ana', type: 'invite', payload: { title: 'Again' }, actions })).body as { notifications: Notification[] };
      const id = second.notifications[0]!.id;
      const failed = await t.api('POST', '/api/notifications/action', { user: 'ana', id, action: 'secondary' });
      assert.equal(failed.status, 200, 'the completion is recorded even though the app was not told');
      assert.equal((failed.body as { report: string }).report, 'failed');
      assert.deepEqual((failed.body as { notification: Notification }).notification.completed?.reported, false);
      await until(() => seen.some((n) => n.id === id && n.completed?.action === 'secondary' && !n.completed.reported), 5000, 'the laptop sees it, unreported');
      assert.equal(await metric(t, 'tidings_notification_actions_total{report="failed"}') - failedBefore, 1);
      assert.ok(await metric(t, 'tidings_proxy_calls_total{proxy="action",outcome="unavailable"}') >= 1);

      backend.failing = false;
      const retried = await phone.inbox.completeAction(id, 'secondary');
      assert.equal(retried.report, 'sent', 'completing the same action again retries the report');
      assert.equal(retried.notification.completed?.reported, true);
      assert.equal(backend.reports.at(-1)!.body.url, 'https://example.com/i/7');
      await until(() => seen.some((n) => n.id === id && n.completed?.reported === true), 5000, 'the laptop sees it reported');
    } finally {
      phone.disconnect();
      laptop.disconnect();
    }
  });
});
