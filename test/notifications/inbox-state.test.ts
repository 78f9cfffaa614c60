import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { Client } from '@tidings/client';
import { Client as FallbackClient } from '@tidings/client/fallback';
import type { InboxEvent, Notification } from '@tidings/protocol';
import { RedisProcess, redisAvailability } from '../helpers/redis.js';
import { makeToken, startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { ReplyError, WsClient } from '../helpers/ws-client.js';
import { snoozeAcrossRestart } from './snooze-scenario.js';
import { until } from '../helpers/until.js';

type ErrorBody = { error: { code: number; message: string } };
type Page = { notifications: Notification[]; cursor?: string };

describe('inbox state: archive, snooze, tags, severity, filters', () => {
  let t: TidingsProcess;
  before(async () => { t = await startTidings(); });
  after(async () => { await t.stop(); });

  const create = async (user: string, body: object): Promise<string> => {
    const res = await t.api('POST', '/api/notifications', { user, payload: {}, ...body });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return (res.body as Page).notifications[0]!.id;
  };
  const list = async (user: string, query = ''): Promise<string[]> =>
    ((await t.api('GET', `/api/notifications?user=${user}${query}`)).body as Page).notifications.map((n) => n.id);

  it('stores tags and severity, and lists and counts by them through the API', async () => {
    const a = await create('tae', { type: 'news', tags: ['sports', 'local'], severity: 'warning' });
    const b = await create('tae', { type: 'news', tags: ['politics'] });
    const c = await create('tae', { type: 'alert', severity: 'critical' });
    const page = (await t.api('GET', '/api/notifications?user=tae&tag=local')).body as Page;
    assert.deepEqual(page.notifications.map((n) => [n.id, n.tags, n.severity]), [[a, ['sports', 'local'], 'warning']]);
    assert.deepEqual(await list('tae', '&tag=politics&tag=sports'), [b, a]);
    assert.deepEqual(await list('tae', '&severity=info'), [b]);
    assert.deepEqual(await list('tae', '&type=alert&type=news&severity=critical'), [c]);
    await t.api('POST', '/api/notifications/read', { user: 'tae', ids: [c] });
    assert.deepEqual((await t.api('GET', '/api/notifications/count?user=tae&read=false&type=news')).body, { count: 2, unread: 2 });
    assert.deepEqual((await t.api('GET', '/api/notifications/count?user=tae&read=true')).body, { count: 1, unread: 2 });
    assert.equal((await t.api('GET', '/api/notifications?user=tae&tag=bad%20tag')).status, 400);
    assert.equal((await t.api('GET', '/api/notifications?user=tae&archived=maybe')).status, 400);
  });

  it('refuses bad input with its documented code, changing nothing', async () => {
    const mine = await create('ines', { type: 't' });
    const theirs = await create('other', { type: 't' });
    const refused = async (path: string, body: object, code: number): Promise<void> => {
      const res = await t.api('POST', path, body);
      assert.equal((res.body as ErrorBody).error?.code, code, `${path} ${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
    };
    await refused('/api/notifications', { user: 'ines', type: 't', payload: 1, tags: Array.from({ length: 11 }, (_, i) => `t${i}`) }, 107);
    await refused('/api/notifications', { user: 'ines', type: 't', payload: 1, tags: ['x'.repeat(65)] }, 107);
    await refused('/api/notifications', { user: 'ines', type: 't', payload: 1, severity: 'urgent' }, 107);
    await refused('/api/notifications/snooze', { user: 'ines', ids: [mine], until: Date.now() - 1000 }, 128);
    await refused('/api/notifications/snooze', { user: 'ines', ids: [mine], until: Date.now() + 91 * 86_400_000 }, 128);
    await refused('/api/notifications/snooze', { user: 'ines', ids: [mine, 'nope'], until: Date.now() + 60_000 }, 129);
    await refused('/api/notifications/archive', { user: 'ines', ids: [mine, theirs] }, 129);
    const res = await t.api('POST', '/api/notifications/archive', { user: 'ines', ids: [mine, theirs] });
    assert.equal(res.status, 404);
    assert.deepEqual(await list('ines'), [mine], 'nothing archived or snoozed');
    assert.deepEqual(await list('other'), [theirs]);
    assert.deepEqual((await t.api('GET', '/api/notifications?user=ines&tag=x')).body, { notifications: [] }, 'no refused create was stored');
    const ws = await WsClient.connect(t.wsUrl, await makeToken('ines'));
    await assert.rejects(ws.command('inbox.snooze', { ids: [mine], until: Date.now() + 500 }), (e: unknown) => e instanceof ReplyError && e.error.code === 128);
    await assert.rejects(ws.command('inbox.archive', { ids: [theirs] }), (e: unknown) => e instanceof ReplyError && e.error.code === 129);
    await assert.rejects(ws.command('inbox.list', { filter: { tags: ['ok', 'not ok'] } }), (e: unknown) => e instanceof ReplyError && e.error.code === 107);
    assert.deepEqual(await ws.command('inbox.count', { filters: [{}, { archived: true }] }), { unread: 1, counts: [1, 0] });
    ws.close();
  });

  it('archive on one device removes the notification from the other device\'s list and live counts', async () => {
    const token = await makeToken('ana');
    const phone = new Client(t.wsUrl, { WebSocket, token });
    const laptop = new FallbackClient(t.url, { token, transports: ['stream'] });
    phone.connect();
    laptop.connect();
    await until(() => phone.state === 'connected' && laptop.state === 'connected', 8000, 'both connected');
    const inbox = laptop.inbox.watch({});
    const archived = laptop.inbox.watch({ archived: true });
    const sports = laptop.inbox.watch({ tags: ['sports'] });
    await until(() => inbox.value === 0 && archived.value === 0 && sports.value === 0, 8000, 'first counts');
    const [x, y] = [await create('ana', { type: 'score', tags: ['sports'] }), await create('ana', { type: 'news' })];
    await until(() => inbox.value === 2 && sports.value === 1 && laptop.inbox.unreadCount === 2, 8000, 'counts after two creates');
    let shown = (await laptop.inbox.list()).notifications.map((n) => n.id);
    assert.deepEqual(shown, [y, x]);
    const updates: Notification[] = [];
    laptop.inbox.on('updated', (ns) => updates.push(...ns));

    assert.equal(await phone.inbox.archive([x]), 1);
    await until(() => inbox.value === 1 && archived.value === 1 && sports.value === 0 && laptop.inbox.unreadCount === 1, 5000, 'the laptop counts after the archive');
    assert.ok(updates.some((n) => n.id === x && n.archivedAt !== undefined), 'the laptop was told which one');
    shown = (await laptop.inbox.list()).notifications.map((n) => n.id);
    assert.deepEqual(shown, [y]);
    assert.deepEqual((await laptop.inbox.list({ filter: { archived: true } })).notifications.map((n) => n.id), [x]);

    assert.equal(await phone.inbox.unarchive('all'), 2);
    await until(() => inbox.value === 2 && archived.value === 0 && sports.value === 1, 5000, 'back after unarchive');
    assert.equal(await laptop.inbox.archive('all'), 0);
    await until(() => phone.inbox.unreadCount === 0, 5000, 'the phone badge after archive all');
    sports.close();
    phone.disconnect();
    laptop.disconnect();
  });

  it('snooze for 2 s on the only node, which is killed and restarted: back live within 1 s of its time (or of the start, when that is later), once', async () => {
    const id = await create('sol', { type: 't' });
    const ws = await WsClient.connect(t.wsUrl, await makeToken('sol'));
    await ws.command('subscribe', { channel: 'inbox:sol' });
    const snoozeEnds = Date.now() + 2000;
    assert.deepEqual(await ws.command('inbox.snooze', { ids: [id], until: snoozeEnds }), { unread: 0 });
    await ws.until(() => ws.pushes('publication').some((p) => (p.data as InboxEvent).type === 'notification.updated'), 2000, 'the snooze event');
    await t.kill('SIGKILL');
    ws.close();
    await t.start();
    const started = Date.now();
    const device = await WsClient.connect(t.wsUrl, await makeToken('sol'));
    const seen: Array<{ at: number; event: InboxEvent }> = [];
    device.ws.on('message', (data: WebSocket.RawData) => {
      for (const line of data.toString().split('\n')) {
        const msg = line === '' ? undefined : JSON.parse(line) as { type: string; data?: unknown };
        if (msg?.type === 'publication') seen.push({ at: Date.now(), event: msg.data as InboxEvent });
      }
    });
    await device.command('subscribe', { channel: 'inbox:sol' });
    const isWake = (e: InboxEvent): boolean => e.type === 'notification.updated' && e.notifications[0]?.id === id && e.notifications[0].snoozedUntil === undefined;
    const woken = (): Array<{ at: number }> => seen.filter((x) => isWake(x.event));
    if (started < snoozeEnds) {
      // the node is back before the snooze ends: the wake must be live
      await until(() => woken().length > 0, 5000, 'the wake, live after the restart');
      const late = woken()[0]!.at - snoozeEnds;
      assert.ok(late >= -50 && late <= 1000, `back ${late} ms after its time`);
    }
    // listed again, no longer snoozed, counted
    let page: Page = { notifications: [] };
    const deadline = Date.now() + 8000;
    do {
      page = (await t.api('GET', '/api/notifications?user=sol')).body as Page;
      if (page.notifications.length === 1 && page.notifications[0]!.snoozedUntil === undefined) break;
      await new Promise((r) => setTimeout(r, 100));
    } while (Date.now() < deadline);
    assert.deepEqual(page.notifications.map((n) => [n.id, n.snoozedUntil]), [[id, undefined]]);
    assert.ok(Date.now() - Math.max(snoozeEnds, started) <= 9000);
    assert.deepEqual((await t.api('GET', '/api/notifications/unread-count?user=sol')).body, { unread: 1 });
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(woken().length <= 1, `woken once, not ${woken().length} times`);
    device.close();
  });
});

describe('snooze on two nodes sharing one SQLite file and Redis', { skip: redisAvailability().skip }, () => {
  let redis: RedisProcess;
  let a: TidingsProcess;
  let b: TidingsProcess;
  before(async () => {
    redis = await RedisProcess.start();
    a = await startTidings({ args: ['--engine', 'redis', '--redis-url', redis.url] });
    b = await startTidings({ args: ['--engine', 'redis', '--redis-url', redis.url, '--data-dir', a.dataDir] });
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await redis?.kill();
  });

  it('snooze for 2 s: leaves live, comes back live within 1 s of its time though the node that snoozed it was killed, once', async () => {
    await snoozeAcrossRestart(a, b, 'sam');
  });
});
