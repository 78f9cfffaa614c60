/**
 * Two Tidings nodes on one PostgreSQL and one Redis: a user's preferences and a notification's
 * action completion are the cluster's, not a node's.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { InboxEvent, Notification } from '@tidings/protocol';
import { PostgresProcess, postgresAvailability } from '../helpers/postgres.js';
import { RedisProcess, redisAvailability } from '../helpers/redis.js';
import { makeToken, startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { WsClient } from '../helpers/ws-client.js';

const events = (c: WsClient): InboxEvent[] => c.pushes('publication').map((p) => p.data as InboxEvent);
const skip = postgresAvailability().skip || redisAvailability().skip;

describe('preferences and actions on two nodes sharing PostgreSQL and Redis', { skip }, () => {
  let db: PostgresProcess;
  let redis: RedisProcess;
  let a: TidingsProcess;
  let b: TidingsProcess;
  let backend: Server;
  const reports: Array<Record<string, unknown>> = [];

  before(async () => {
    backend = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        reports.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"result":{}}');
      });
    });
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    db = await PostgresProcess.start();
    redis = await RedisProcess.start();
    const args = ['--engine', 'redis', '--redis-url', redis.url, '--store', 'postgres', '--postgres-url', db.url, '--critical-notification-types', 'security',
      '--notification-action-proxy', `http://127.0.0.1:${(backend.address() as AddressInfo).port}/actions`];
    [a, b] = await Promise.all([startTidings({ args }), startTidings({ args })]);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await redis?.kill();
    await db?.destroy();
    await new Promise((resolve) => backend?.close(resolve));
  });

  it('a mute made on A skips the user on a create through B; an action completed on B shows on A and is reported once', async () => {
    const token = await makeToken('han');
    const onA = await WsClient.connect(a.wsUrl, token);
    const onB = await WsClient.connect(b.wsUrl, token);
    try {
      for (const c of [onA, onB]) await c.command('subscribe', { channel: 'inbox:han' });
      const prefs = await onA.command<{ tags: string[] }>('inbox.preferences', { tags: { sports: true } });
      assert.deepEqual(prefs.tags, ['sports']);
      await onB.until(() => events(onB).some((e) => e.type === 'preferences.updated' && e.preferences.tags.includes('sports')), 5000, 'B told of the mute');
      await assert.rejects(onB.command('inbox.preferences', { types: { security: true } }), (err: Error) => err.message.includes('130') || err.message.includes('critical'));

      const muted = await b.api('POST', '/api/notifications', { users: ['han', 'kim'], type: 'news', tags: ['sports'], payload: { title: 'Goal' } });
      assert.equal((muted.body as { skipped: number }).skipped, 1);
      const actions = { primary: { label: 'Read', url: 'https://example.com/r/1' } };
      const made = await b.api('POST', '/api/notifications', { user: 'han', type: 'news', tags: ['politics'], payload: { title: 'Vote' }, actions });
      const id = (made.body as { notifications: Notification[] }).notifications[0]!.id;
      assert.deepEqual(await onA.command('inbox.count'), { unread: 1 }, 'only the unmuted one is there');

      const done = await onB.command<{ report: string; notification: Notification }>('inbox.action', { notification: id, action: 'primary' });
      assert.equal(done.report, 'sent');
      await onA.until(() => events(onA).some((e) => e.type === 'notification.updated' && e.notifications[0]?.id === id && e.notifications[0].completed?.reported === true), 5000, 'A sees the completion');
      const again = await onA.command<{ report: string }>('inbox.action', { notification: id, action: 'primary' });
      assert.equal(again.report, 'sent');
      assert.deepEqual(reports.map((r) => [r.user, (r.notification as { id: string }).id, r.action, r.url]), [['han', id, 'primary', 'https://example.com/r/1']]);
    } finally {
      onA.close();
      onB.close();
    }
  });
});
