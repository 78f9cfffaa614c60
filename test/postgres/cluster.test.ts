/**
 * Two Tidings nodes on one PostgreSQL and one Redis: the inbox and the schedules are the cluster's,
 * not a node's.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { InboxEvent, Publication } from '@tidings/protocol';
import pg from 'pg';
import { PostgresProcess, postgresAvailability } from '../helpers/postgres.js';
import { RedisProcess, redisAvailability } from '../helpers/redis.js';
import { makeToken, startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { WsClient } from '../helpers/ws-client.js';
import { snoozeAcrossRestart } from '../notifications/snooze-scenario.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const events = (c: WsClient): InboxEvent[] => c.pushes('publication').map((p) => p.data as InboxEvent);
const counts = (c: WsClient): number[] => events(c).flatMap((e) => (e.type === 'unread.count' ? [e.unread] : []));

const skip = postgresAvailability().skip || redisAvailability().skip;

describe('two nodes on one PostgreSQL and one Redis', { skip }, () => {
  let db: PostgresProcess;
  let redis: RedisProcess;
  let a: TidingsProcess;
  let b: TidingsProcess;

  before(async () => {
    db = await PostgresProcess.start();
    redis = await RedisProcess.start();
    const args = ['--engine', 'redis', '--redis-url', redis.url, '--store', 'postgres', '--postgres-url', db.url];
    [a, b] = await Promise.all([startTidings({ args, env: { TIDINGS_LOG_LEVEL: 'info' } }), startTidings({ args, env: { TIDINGS_LOG_LEVEL: 'info' } })]);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await redis?.kill();
    await db?.destroy();
  });

  it('migrated once, though both nodes started together', async () => {
    const migrated = [a, b].filter((t) => t.output.includes('"msg":"store migrated"'));
    assert.equal(migrated.length, 1, 'one node applied the migrations');
  });

  it('delivers a notification created on A to the user\'s client on B, and a read on B to A\'s client, with live counts', async () => {
    const token = await makeToken('cho');
    const onA = await WsClient.connect(a.wsUrl, token);
    const onB = await WsClient.connect(b.wsUrl, token);
    for (const c of [onA, onB]) await c.command('subscribe', { channel: 'inbox:cho' });
    const created = await a.api('POST', '/api/notifications', { user: 'cho', type: 'news', payload: { title: 'across nodes' } });
    assert.equal(created.status, 200);
    const id = (created.body as { notifications: Array<{ id: string }> }).notifications[0]!.id;
    await onB.until(() => counts(onB).includes(1), 5000, 'the unread count on B');
    assert.ok(events(onB).some((e) => e.type === 'notification.created' && e.notification.id === id));
    assert.deepEqual(await onB.command('inbox.count'), { unread: 1 }, 'B reads the shared store');

    assert.deepEqual(await onB.command('inbox.mark', { ids: [id], read: true }), { unread: 0 });
    await onA.until(() => counts(onA).at(-1) === 0, 5000, 'the count on A after the read on B');
    assert.ok(events(onA).some((e) => e.type === 'notification.updated' && e.notifications[0]?.id === id && e.notifications[0].readAt !== undefined));
    assert.deepEqual((await a.api('GET', '/api/notifications/unread-count?user=cho')).body, { unread: 0 });
    onA.close();
    onB.close();
  });

  it('fires a cron schedule once per run with both nodes up, and once when the node running it is SIGKILLed mid-run', async () => {
    const created = await a.api('POST', '/api/schedules', { cron: '* * * * * *', target: { channel: 'ticks', data: 'tick' } });
    assert.equal(created.status, 200);
    const scheduleId = (created.body as { schedule: { id: string } }).schedule.id;
    await sleep(4500);
    const history = async (t: TidingsProcess): Promise<Publication[]> => ((await t.api('GET', '/api/history?channel=ticks&limit=100')).body as { publications: Publication[] }).publications;
    const seconds = (ps: Publication[]): number[] => ps.map((p) => Math.floor(p.time / 1000));
    const before = await history(a);
    assert.ok(before.length >= 3 && before.length <= 5, `one run a second, got ${before.length}`);
    assert.equal(new Set(seconds(before)).size, before.length, `no second fired twice: ${seconds(before)}`);

    // freeze Redis so the run that starts next hangs in its publish, holding its lease; kill the node holding it
    const sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    redis.pause();
    let owner: string | undefined;
    for (let i = 0; i < 300 && owner === undefined; i++) {
      owner = (await sql.query<{ lease_owner: string | null }>('SELECT lease_owner FROM schedules WHERE id = $1', [scheduleId])).rows[0]?.lease_owner ?? undefined;
      if (owner === undefined) await sleep(10);
    }
    assert.ok(owner, 'a node leased the run');
    const [victim, survivor] = a.output.includes(`"node":"${owner}"`) ? [a, b] : [b, a];
    assert.ok(victim.output.includes(`"node":"${owner}"`), 'the lease owner is one of the two nodes');
    await victim.kill('SIGKILL');
    const killedAt = Date.now();
    redis.resume();
    const lease = (await sql.query<{ lease_owner: string | null; lease_until: string }>('SELECT lease_owner, lease_until FROM schedules WHERE id = $1', [scheduleId])).rows[0]!;
    assert.equal(lease.lease_owner, owner, 'killed mid-run: the dead node still holds the lease');

    // the survivor takes the run over once the lease has run out, then keeps the beat alone
    const leaseUntil = Number(lease.lease_until);
    await sleep(Math.max(0, leaseUntil - Date.now()) + 3500);
    const after = (await history(survivor)).filter((p) => p.time >= killedAt - 1000);
    const takeover = after.filter((p) => p.time >= leaseUntil);
    assert.ok(takeover.length >= 3, `the survivor fires after the lease: ${after.map((p) => p.time - leaseUntil)}`);
    const all = await history(survivor);
    assert.equal(new Set(seconds(all)).size, all.length, `no second fired twice: ${seconds(all)}`);
    const between = after.filter((p) => p.time > killedAt + 2000 && p.time < leaseUntil);
    assert.deepEqual(between, [], 'no node fired while the dead node\'s lease held');
    await sql.end();
    await survivor.api('DELETE', `/api/schedules/${scheduleId}`);
    await victim.start();
  });

  it('snooze for 2 s: leaves live, comes back live within 1 s of its time though the node that snoozed it was killed, once', async () => {
    await snoozeAcrossRestart(a, b, 'sue');
  });
});
