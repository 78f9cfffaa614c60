/**
 * Digests and throttles on a real `tidings serve` (SQLite store), with real clients: the seed's
 * crawler example end to end, throttling, a digest across a node restart, and bad input.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { Cron } from 'croner';
import WebSocket from 'ws';
import { Client } from '@tidings/client';
import type { InboxEvent, Notification } from '@tidings/protocol';
import { API_KEY, makeToken, startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { WsClient } from '../helpers/ws-client.js';
import { until } from '../helpers/until.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const events = (c: WsClient): InboxEvent[] => c.pushes('publication').map((p) => p.data as InboxEvent);
const counts = (c: WsClient): number[] => events(c).flatMap((e) => (e.type === 'unread.count' ? [e.unread] : []));
const created = (c: WsClient): Notification[] => events(c).flatMap((e) => (e.type === 'notification.created' ? [e.notification] : []));
const updated = (c: WsClient): Notification[] => events(c).flatMap((e) => (e.type === 'notification.updated' ? e.notifications : []));
/** How the bell shows a digest. */
const headline = (n: Notification): string => `${n.digest!.count} new articles`;

async function device(t: TidingsProcess, user: string): Promise<WsClient> {
  const c = await WsClient.connect(t.wsUrl, await makeToken(user));
  await c.command('subscribe', { channel: `inbox:${user}` });
  return c;
}

/** The crawler run of the seed: one cron tick finds `articles` headlines and tells each subscriber, digested. */
function crawlOnce(t: TidingsProcess, users: string[], articles: number, digest: object): Promise<Array<{ status: number; body: unknown }>> {
  return new Promise((resolve, reject) => {
    new Cron('* * * * * *', { maxRuns: 1 }, async () => {
      try {
        const answers = [];
        for (let i = 1; i <= articles; i++) {
          answers.push(await t.api('POST', '/api/notifications', {
            users, type: 'article', payload: { title: `Article ${i}`, url: `https://news.example/${i}` }, digest,
          }));
        }
        resolve(answers);
      } catch (err) {
        reject(err as Error);
      }
    });
  });
}

describe('digests and throttles', () => {
  let t: TidingsProcess;
  before(async () => { t = await startTidings(); });
  after(async () => { await t.stop(); });

  it('the seed: a cron crawler run finds 50 articles; each subscriber gets one digest, one badge bump, live on two devices', async () => {
    const phone = await device(t, 'ana');
    const laptop = new Client(t.wsUrl, { WebSocket, token: await makeToken('ana') });
    const laptopCounts: number[] = [];
    laptop.inbox.on('unread', ({ unread }) => laptopCounts.push(unread));
    const laptopCreated: Notification[] = [];
    laptop.inbox.on('created', (n) => laptopCreated.push(n));
    laptop.connect();
    await until(() => laptop.inbox.unreadCount === 0, 8000, 'the laptop connected with its count');
    const ben = await device(t, 'ben');

    const started = Date.now();
    const answers = await crawlOnce(t, ['ana', 'ben'], 50, { key: 'crawl', window: 2500, mode: 'pushed', items: 5 });
    assert.ok(Date.now() - started < 2500, 'the 50 were posted within the window');
    assert.ok(answers.every((a) => a.status === 200), JSON.stringify(answers.find((a) => a.status !== 200)));
    assert.deepEqual(events(phone), [], 'nothing shown while the window is open');
    assert.deepEqual((await t.api('GET', '/api/notifications/unread-count?user=ana')).body, { unread: 0 });

    await until(() => created(phone).length > 0 && created(ben).length > 0 && laptopCreated.length > 0, 6000, 'the digest on every device');
    await sleep(1000);
    for (const c of [phone, ben]) {
      assert.equal(created(c).length, 1, 'one notification');
      assert.deepEqual(counts(c), [1], 'one badge bump');
      assert.deepEqual(updated(c), []);
      const n = created(c)[0]!;
      assert.equal(headline(n), '50 new articles');
      assert.deepEqual(n.digest!.items.map((p) => (p as { title: string }).title), ['Article 50', 'Article 49', 'Article 48', 'Article 47', 'Article 46']);
    }
    assert.equal(laptopCreated.length, 1);
    assert.deepEqual(laptopCounts, [0, 1], 'the second device: one bump');
    const listed = (await t.api('GET', '/api/notifications?user=ana')).body as { notifications: Notification[] };
    assert.deepEqual(listed.notifications.map(headline), ['50 new articles']);
    phone.close();
    ben.close();
    laptop.disconnect();
  });

  it('examples/news-alerts.mjs with CRAWL_DIGEST_MS: 50 headlines of one topic are one notification per subscriber', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tidings-digest-example-'));
    writeFileSync(join(dir, 'news.json'), JSON.stringify(Array.from({ length: 50 }, (_, i) => ({ id: `m${i + 1}`, topic: 'markets', title: `Headline ${i + 1}`, url: `https://example.com/m${i + 1}` }))));
    writeFileSync(join(dir, 'subscribers.json'), JSON.stringify({ markets: ['max'] }));
    const phone = await device(t, 'max');
    const example = fileURLToPath(new URL('../../examples/news-alerts.mjs', import.meta.url));
    const env = { ...process.env, TIDINGS_URL: t.url, TIDINGS_API_KEY: API_KEY, CRAWL_DIGEST_MS: '60000' };
    const run = await promisify(execFile)(process.execPath, [example, '--once', join(dir, 'news.json'), join(dir, 'subscribers.json')], { env, timeout: 30_000 });
    assert.match(run.stdout, /crawled 50 headlines, notified 50 users/);
    await until(() => updated(phone).length === 49, 6000, 'every headline joined');
    assert.equal(created(phone).length, 1);
    assert.deepEqual(counts(phone), [1]);
    const listed = (await t.api('GET', '/api/notifications?user=max')).body as { notifications: Notification[] };
    assert.deepEqual(listed.notifications.map((n) => [headline(n), (n.digest!.items[0] as { title: string }).title]), [['50 new articles', 'Headline 50']]);
    phone.close();
  });

  it('live mode: created at once, updated as items join, the badge bumps once', async () => {
    const phone = await device(t, 'cai');
    const laptop = await device(t, 'cai');
    await crawlOnce(t, ['cai'], 50, { key: 'crawl', window: 60_000, mode: 'live', items: 5 });
    await until(() => updated(phone).length === 49 && updated(laptop).length === 49, 6000, 'every item joined, live');
    await sleep(300);
    for (const c of [phone, laptop]) {
      assert.equal(created(c).length, 1);
      assert.deepEqual(counts(c), [1]);
      const last = updated(c).at(-1)!;
      assert.equal(last.id, created(c)[0]!.id);
      assert.equal(headline(last), '50 new articles');
    }
    phone.close();
    laptop.close();
  });

  it('throttle: at most `limit` per user and key; the rest are counted in the answer and the metric', async () => {
    const before = await throttledMetric(t);
    const answers = [];
    for (let i = 0; i < 5; i++) {
      const res = await t.api('POST', '/api/notifications', { users: ['dan', 'eve'], type: 'alert', payload: i, throttle: { key: 'price', limit: 3, window: 60_000 } });
      assert.equal(res.status, 200);
      answers.push((res.body as { throttled: number; notifications: unknown[] }));
    }
    assert.deepEqual(answers.map((a) => [a.notifications.length, a.throttled]), [[2, 0], [2, 0], [2, 0], [0, 2], [0, 2]]);
    assert.deepEqual((await t.api('GET', '/api/notifications/unread-count?user=dan')).body, { unread: 3 });
    assert.equal(await throttledMetric(t) - before, 4);
  });

  it('refuses digests and throttles out of bounds with code 107, storing nothing', async () => {
    const base = { user: 'fay', type: 'x', payload: 1 };
    const bad = [
      { digest: { key: 'k', window: 999 } },
      { digest: { key: 'k', window: 86_400_001 } },
      { digest: { key: 'k'.repeat(129), window: 5000 } },
      { digest: { key: '', window: 5000 } },
      { digest: { key: 'k', window: 5000, items: 21 } },
      { digest: { key: 'k', window: 5000, mode: 'later' } },
      { digest: { key: 'k', window: 5000 }, deliverAt: Date.now() + 60_000 },
      { throttle: { key: 'k', limit: 0, window: 5000 } },
      { throttle: { key: 'k', limit: 3, window: 500 } },
      { digest: 'crawl' },
    ];
    for (const extra of bad) {
      const res = await t.api('POST', '/api/notifications', { ...base, ...extra });
      assert.equal(res.status, 400, JSON.stringify(extra));
      assert.equal((res.body as { error: { code: number } }).error.code, 107);
    }
    assert.deepEqual((await t.api('GET', '/api/notifications?user=fay')).body, { notifications: [] });
  });

  it('an idempotency key retried joins the digest once', async () => {
    const body = (i: number) => ({ user: 'gus', type: 'article', payload: i, digest: { key: 'k', window: 60_000, mode: 'live' }, idempotencyKey: `crawl-gus-${i}` });
    await t.api('POST', '/api/notifications', body(1));
    await t.api('POST', '/api/notifications', body(2));
    const retry = await t.api('POST', '/api/notifications', body(2));
    assert.equal((retry.body as { duplicate: boolean }).duplicate, true);
    const listed = (await t.api('GET', '/api/notifications?user=gus')).body as { notifications: Notification[] };
    assert.deepEqual(listed.notifications.map((n) => n.digest?.count), [2]);
  });

  it('a cron schedule\'s notification target takes a digest and a throttle', async () => {
    const body = (user: string, extra: object) => ({ cron: '* * * * * *', target: { notification: { users: [user], type: 'tick', payload: 'tick', ...extra } } });
    const bad = await t.api('POST', '/api/schedules', body('ida', { digest: { key: 'k', window: 10 } }));
    assert.equal(bad.status, 400, 'bounds hold for schedules too');
    const ids = [];
    for (const [user, extra] of [['ida', { digest: { key: 'tick', window: 60_000, mode: 'live' } }], ['jay', { throttle: { key: 'tick', limit: 2, window: 60_000 } }]] as const) {
      const res = await t.api('POST', '/api/schedules', body(user, extra));
      assert.equal(res.status, 200, JSON.stringify(res.body));
      ids.push((res.body as { schedule: { id: string } }).schedule.id);
    }
    await sleep(4200);
    for (const id of ids) await t.api('DELETE', `/api/schedules/${id}`);
    const list = async (user: string) => ((await t.api('GET', `/api/notifications?user=${user}`)).body as { notifications: Notification[] }).notifications;
    const ida = await list('ida');
    assert.equal(ida.length, 1, 'one digest');
    assert.ok(ida[0]!.digest!.count >= 3, `runs joined it: ${ida[0]!.digest!.count}`);
    assert.equal((await list('jay')).length, 2, 'the throttle held the rest back');
  });
});

it('a pushed digest whose window closes while the node is down fires once after the restart', async () => {
  const t = await startTidings();
  try {
    let closesAt = 0;
    for (let i = 1; i <= 3; i++) {
      const res = await t.api('POST', '/api/notifications', { user: 'hal', type: 'article', payload: i, digest: { key: 'crawl', window: 8000 } });
      assert.equal(res.status, 200);
      closesAt = (res.body as { notifications: Notification[] }).notifications[0]!.digest!.closesAt;
    }
    await t.restart();
    const phone = await device(t, 'hal');
    assert.ok(Date.now() < closesAt, 'back up and listening before the window closed');
    await until(() => created(phone).length > 0, closesAt - Date.now() + 5000, 'the digest after the restart');
    assert.ok(Date.now() >= closesAt - 50, 'not before the window closed');
    await sleep(1000);
    assert.equal(created(phone).length, 1);
    assert.equal(created(phone)[0]!.digest!.count, 3);
    assert.deepEqual(counts(phone), [1]);
    const listed = (await t.api('GET', '/api/notifications?user=hal')).body as { notifications: Notification[] };
    assert.equal(listed.notifications.length, 1);
    phone.close();
  } finally {
    await t.stop();
  }
});

async function throttledMetric(t: TidingsProcess): Promise<number> {
  const text = await (await fetch(`${t.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('tidings_notifications_throttled_total '));
  return Number(line?.split(' ')[1] ?? 0);
}
