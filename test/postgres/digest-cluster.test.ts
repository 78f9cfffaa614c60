/**
 * Two Tidings nodes on one PostgreSQL and one Redis racing creates with the same digest and
 * throttle keys: one digest per user, fired once; the throttle's limit holds across nodes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { InboxEvent, Notification } from '@tidings/protocol';
import { PostgresProcess, postgresAvailability } from '../helpers/postgres.js';
import { RedisProcess, redisAvailability } from '../helpers/redis.js';
import { makeToken, startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { WsClient } from '../helpers/ws-client.js';
import { until } from '../helpers/until.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const events = (c: WsClient): InboxEvent[] => c.pushes('publication').map((p) => p.data as InboxEvent);
const counts = (c: WsClient): number[] => events(c).flatMap((e) => (e.type === 'unread.count' ? [e.unread] : []));
const created = (c: WsClient): Notification[] => events(c).flatMap((e) => (e.type === 'notification.created' ? [e.notification] : []));

const skip = postgresAvailability().skip || redisAvailability().skip;

describe('digests and throttles on two nodes (PostgreSQL + Redis)', { skip }, () => {
  let db: PostgresProcess;
  let redis: RedisProcess;
  let a: TidingsProcess;
  let b: TidingsProcess;

  before(async () => {
    db = await PostgresProcess.start();
    redis = await RedisProcess.start();
    const args = ['--engine', 'redis', '--redis-url', redis.url, '--store', 'postgres', '--postgres-url', db.url];
    [a, b] = await Promise.all([startTidings({ args }), startTidings({ args })]);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await redis?.kill();
    await db?.destroy();
  });

  async function device(t: TidingsProcess, user: string): Promise<WsClient> {
    const c = await WsClient.connect(t.wsUrl, await makeToken(user));
    await c.command('subscribe', { channel: `inbox:${user}` });
    return c;
  }

  /** 40 creates at once, half through each node. */
  async function race(body: (i: number) => object): Promise<Array<{ status: number; body: unknown }>> {
    return Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? b : a).api('POST', '/api/notifications', body(i))));
  }

  it('pushed: racing creates through both nodes make one digest per user, fired once when the window closes', async () => {
    const onA = await device(a, 'ivy');
    const onB = await device(b, 'ivy');
    const answers = await race((i) => ({ users: ['ivy', 'jon'], type: 'article', payload: { title: `Article ${i}` }, digest: { key: 'crawl', window: 2000 } }));
    assert.ok(answers.every((r) => r.status === 200), JSON.stringify(answers.find((r) => r.status !== 200)));
    const ids = new Set(answers.flatMap((r) => (r.body as { notifications: Notification[] }).notifications.filter((n) => n.user === 'ivy').map((n) => n.id)));
    assert.equal(ids.size, 1, 'every create joined one digest');
    await until(() => created(onA).length > 0 && created(onB).length > 0, 8000, 'the digest on both devices');
    await sleep(1500);
    for (const c of [onA, onB]) {
      assert.equal(created(c).length, 1, 'announced once, by one node');
      assert.equal(created(c)[0]!.digest!.count, 40);
      assert.deepEqual(counts(c), [1]);
    }
    for (const t of [a, b]) {
      const listed = (await t.api('GET', '/api/notifications?user=jon')).body as { notifications: Notification[] };
      assert.deepEqual(listed.notifications.map((n) => n.digest?.count), [40]);
    }
    onA.close();
    onB.close();
  });

  it('live: one digest created, every item joined, one badge bump on each node\'s device', async () => {
    const onA = await device(a, 'kai');
    const onB = await device(b, 'kai');
    await race((i) => ({ user: 'kai', type: 'article', payload: i, digest: { key: 'crawl', window: 60_000, mode: 'live' } }));
    const updates = (c: WsClient) => events(c).filter((e) => e.type === 'notification.updated').length;
    await until(() => updates(onA) === 39 && updates(onB) === 39, 8000, '39 updates on each device');
    await sleep(500);
    for (const c of [onA, onB]) {
      assert.equal(created(c).length, 1);
      assert.deepEqual(counts(c), [1]);
    }
    const listed = (await b.api('GET', '/api/notifications?user=kai')).body as { notifications: Notification[] };
    assert.deepEqual(listed.notifications.map((n) => n.digest?.count), [40]);
    onA.close();
    onB.close();
  });

  it('throttle: racing creates through both nodes let exactly `limit` through', async () => {
    const answers = await race((i) => ({ user: 'lea', type: 'alert', payload: i, throttle: { key: 'price', limit: 5, window: 60_000 } }));
    const bodies = answers.map((r) => r.body as { notifications: unknown[]; throttled: number });
    assert.equal(bodies.reduce((n, x) => n + x.notifications.length, 0), 5);
    assert.equal(bodies.reduce((n, x) => n + x.throttled, 0), 35);
    assert.deepEqual((await a.api('GET', '/api/notifications/unread-count?user=lea')).body, { unread: 5 });
  });
});
