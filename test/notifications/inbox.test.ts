import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { InboxEvent, Notification } from '@tidings/protocol';
import { makeToken, startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { ReplyError, WsClient } from '../helpers/ws-client.js';

type ErrorBody = { error: { code: number; message: string } };
type Created = { notifications: Notification[]; duplicate: boolean };

const events = (c: WsClient): InboxEvent[] => c.pushes('publication').map((p) => p.data as InboxEvent);

describe('notifications: durable inbox with live unread counts', () => {
  let t: TidingsProcess;

  before(async () => {
    t = await startTidings({ args: ['--max-message-size', '4096'] });
  });
  after(async () => {
    await t.stop();
  });

  it('keeps a notification and its unread count across a SIGKILL right after the API answered', async () => {
    const res = await t.api('POST', '/api/notifications', { user: 'kim', type: 'news', payload: { title: 'Breaking' } });
    assert.equal(res.status, 200);
    const id = (res.body as Created).notifications[0]!.id;
    await t.kill('SIGKILL');
    await t.start();
    const list = await t.api('GET', '/api/notifications?user=kim');
    assert.deepEqual((list.body as { notifications: Notification[] }).notifications.map((n) => n.id), [id]);
    assert.deepEqual((await t.api('GET', '/api/notifications/unread-count?user=kim')).body, { unread: 1 });
  });

  it('syncs read state across a user\'s devices live, on any transport', async () => {
    const token = await makeToken('lee');
    const phone = await WsClient.connect(t.wsUrl, token);
    const laptop = await WsClient.connect(t.wsUrl, token);
    for (const d of [phone, laptop]) await d.command('subscribe', { channel: 'inbox:lee' });
    const sse: InboxEvent[] = [];
    const stream = await fetch(`${t.url}/stream?channel=inbox:lee&token=${token}`);
    const reader = stream.body!.getReader() as ReadableStreamDefaultReader<Uint8Array>;
    void (async () => {
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += new TextDecoder().decode(value);
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          const m = line ? JSON.parse(line) as { type: string; data?: InboxEvent } : undefined;
          if (m?.type === 'publication' && m.data) sse.push(m.data);
        }
      }
    })().catch(() => {});
    await t.api('POST', '/api/notifications', { users: ['lee'], type: 'chat', payload: { from: 'a' } });
    await t.api('POST', '/api/notifications', { users: ['lee'], type: 'chat', payload: { from: 'b' } });
    await laptop.until(() => events(laptop).filter((e) => e.type === 'unread.count').length === 2);
    assert.deepEqual(events(laptop).filter((e) => e.type === 'unread.count').map((e) => e.type === 'unread.count' && e.unread), [1, 2]);
    const page = await phone.command<{ notifications: Notification[] }>('inbox.list', { limit: 10 });
    assert.deepEqual(page.notifications.map((n) => (n.payload as { from: string }).from), ['b', 'a']);
    const marked = await phone.command<{ unread: number }>('inbox.mark', { ids: [page.notifications[0]!.id], read: true });
    assert.equal(marked.unread, 1);
    await laptop.until(() => events(laptop).some((e) => e.type === 'unread.count' && e.unread === 1 && events(laptop).indexOf(e) > 2));
    const updated = events(laptop).find((e) => e.type === 'notification.updated');
    assert.ok(updated?.type === 'notification.updated' && updated.notifications[0]!.readAt !== undefined);
    await phone.command('inbox.mark', { all: true, read: true });
    await laptop.until(() => events(laptop).at(-1)?.type === 'unread.count' && (events(laptop).at(-1) as { unread: number }).unread === 0);
    const deadline = Date.now() + 5000;
    while (!(sse.at(-1)?.type === 'unread.count' && (sse.at(-1) as { unread: number }).unread === 0)) {
      assert.ok(Date.now() < deadline, `stream device saw ${JSON.stringify(sse.map((e) => e.type))}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal((await laptop.command<{ unread: number }>('inbox.count')).unread, 0);
    await reader.cancel();
    phone.close();
    laptop.close();
  });

  it('pages a user\'s notifications through the API without gaps or repeats', async () => {
    const users = ['pager'];
    for (let i = 0; i < 45; i++) await t.api('POST', '/api/notifications', { users, type: 't', payload: i });
    const seen: unknown[] = [];
    let cursor = '';
    for (let page = 0; page < 10; page++) {
      const res = await t.api('GET', `/api/notifications?user=pager&limit=10${cursor ? `&cursor=${cursor}` : ''}`);
      const body = res.body as { notifications: Notification[]; cursor?: string };
      seen.push(...body.notifications.map((n) => n.payload));
      if (!body.cursor) break;
      cursor = body.cursor;
    }
    assert.deepEqual(seen, Array.from({ length: 45 }, (_, i) => 44 - i));
  });

  it('refuses the inbox to anonymous connections and other users\' inbox channels', async () => {
    const anon = await WsClient.connect(t.wsUrl);
    await assert.rejects(anon.command('inbox.count'), (e: ReplyError) => e.error.code === 101);
    const bob = await WsClient.connect(t.wsUrl, await makeToken('bob'));
    await assert.rejects(bob.command('subscribe', { channel: 'inbox:lee' }), (e: ReplyError) => e.error.code === 103);
    await assert.rejects(bob.command('inbox.mark', { read: true }), (e: ReplyError) => e.error.code === 107);
    anon.close();
    bob.close();
  });

  it('answers bad input with documented 4xx errors and writes nothing half', async () => {
    const past = new Date(Date.now() - 60_000).toISOString();
    const cases: Array<[string, string, unknown, number, number]> = [
      ['POST', '/api/notifications', { users: [], type: 't', payload: 1 }, 400, 107],
      ['POST', '/api/notifications', { users: Array.from({ length: 10_001 }, (_, i) => `u${i}`), type: 't', payload: 1 }, 400, 107],
      ['POST', '/api/notifications', { users: ['ok-user', 'bad user'], type: 't', payload: 1 }, 400, 107],
      ['POST', '/api/notifications', { user: 'x', type: 't' }, 400, 107],
      ['POST', '/api/notifications', { user: 'x', type: 't', payload: 1, deliverAt: past }, 400, 107],
      ['POST', '/api/notifications', { user: 'x', type: 't', payload: 1, deliverAt: 'tomorrow' }, 400, 107],
      ['POST', '/api/notifications', { user: 'x', type: 't', payload: 'p'.repeat(5000) }, 413, 112],
      ['POST', '/api/schedules', { cron: 'every day at noon', target: { channel: 'news', data: 1 } }, 400, 107],
      ['POST', '/api/schedules', { cron: '* * * * *', timezone: 'Mars/Olympus', target: { channel: 'news', data: 1 } }, 400, 107],
      ['POST', '/api/schedules', { cron: '* * * * *', target: { channel: 'nosuch:x', data: 1 } }, 404, 102],
      ['GET', '/api/notifications?user=x&cursor=garbage!', undefined, 400, 107],
      ['POST', '/api/notifications/read', { user: 'x' }, 400, 107],
      ['DELETE', '/api/schedules/nosuchschedule', undefined, 404, 114],
    ];
    for (const [method, path, body, status, code] of cases) {
      const res = await t.api(method, path, body);
      assert.equal(res.status, status, `${method} ${path} ${JSON.stringify(body)?.slice(0, 80)}`);
      assert.equal((res.body as ErrorBody).error.code, code, `${method} ${path}`);
    }
    assert.deepEqual((await t.api('GET', '/api/notifications/unread-count?user=ok-user')).body, { unread: 0 }, 'nothing half-written');
    const first = await t.api('POST', '/api/notifications', { users: ['i1', 'i2'], type: 't', payload: 1, idempotencyKey: 'job-7' });
    const again = await t.api('POST', '/api/notifications', { users: ['i1', 'i2'], type: 't', payload: 1, idempotencyKey: 'job-7' });
    assert.equal((again.body as Created).duplicate, true);
    assert.deepEqual((again.body as Created).notifications.map((n) => n.id).sort(), (first.body as Created).notifications.map((n) => n.id).sort());
    const conflict = await t.api('POST', '/api/notifications', { users: ['i1', 'i2'], type: 't', payload: 2, idempotencyKey: 'job-7' });
    assert.equal(conflict.status, 409);
    assert.equal((conflict.body as ErrorBody).error.code, 117);
    assert.deepEqual((await t.api('GET', '/api/notifications/unread-count?user=i1')).body, { unread: 1 });
  });
});
