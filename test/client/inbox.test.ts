import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { Client } from '@tidings/client';
import { Client as FallbackClient } from '@tidings/client/fallback';
import { makeToken, startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { until } from '../helpers/until.js';

describe('client.inbox', () => {
  let t: TidingsProcess;
  before(async () => { t = await startTidings(); });
  after(async () => { await t.stop(); });

  it('two devices of one user: marking read on one updates the other\'s unread count live', async () => {
    const token = await makeToken('yoon');
    const phone = new Client(t.wsUrl, { WebSocket, token });
    const laptop = new FallbackClient(t.url, { token, transports: ['stream'] });
    const laptopCounts: number[] = [];
    laptop.inbox.on('unread', ({ unread }) => laptopCounts.push(unread));
    const created: string[] = [];
    laptop.inbox.on('created', (n) => created.push(n.type));
    phone.connect();
    laptop.connect();
    await until(() => phone.state === 'connected' && laptop.state === 'connected', 8000, 'both connected');
    await until(() => laptop.inbox.unreadCount === 0 && phone.inbox.unreadCount === 0, 8000, 'initial counts');

    await t.api('POST', '/api/notifications', { user: 'yoon', type: 'like', payload: { by: 'a' } });
    await t.api('POST', '/api/notifications', { user: 'yoon', type: 'comment', payload: { by: 'b' } });
    await until(() => laptop.inbox.unreadCount === 2 && phone.inbox.unreadCount === 2, 8000, 'counts of 2');
    assert.deepEqual(created, ['like', 'comment']);

    const page = await phone.inbox.list({ limit: 10 });
    assert.deepEqual(page.notifications.map((n) => n.type), ['comment', 'like']);
    assert.equal(await phone.inbox.markRead([page.notifications[0]!.id]), 1);
    await until(() => laptop.inbox.unreadCount === 1, 5000, 'laptop badge 1');
    assert.equal(await laptop.inbox.markAllRead(), 0);
    await until(() => phone.inbox.unreadCount === 0, 5000, 'phone badge 0');
    assert.equal(await phone.inbox.markUnread([page.notifications[1]!.id]), 1);
    await until(() => laptop.inbox.unreadCount === 1, 5000, 'laptop badge back to 1');
    assert.equal(await laptop.inbox.delete([page.notifications[1]!.id]), 0);
    await until(() => phone.inbox.unreadCount === 0, 5000, 'phone badge 0 after delete');
    assert.deepEqual(laptopCounts, [0, 1, 2, 1, 0, 1, 0], 'the laptop badge followed every change');
    phone.disconnect();
    laptop.disconnect();
  });
});
