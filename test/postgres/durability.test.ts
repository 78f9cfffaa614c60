/**
 * The PostgreSQL store under failure: a node SIGKILLed during 10,000-notification bulk creates
 * loses nothing it acknowledged; PostgreSQL stopped: the notification API answers 503 (120) while
 * channels carry on, and the node recovers by itself when PostgreSQL returns.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { PostgresProcess, postgresAvailability } from '../helpers/postgres.js';
import { API_KEY, TidingsProcess, freePort, makeToken, startTidings } from '../helpers/tidings.js';
import { WsClient } from '../helpers/ws-client.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Created = { notifications: Array<{ id: string }> };
type ErrorBody = { error: { code: number; message: string } };

describe('PostgreSQL store under failure', { skip: postgresAvailability().skip }, () => {
  let db: PostgresProcess;
  const started: TidingsProcess[] = [];

  before(async () => {
    db = await PostgresProcess.start();
  });
  after(async () => {
    await Promise.all(started.map((t) => t.stop()));
    await db?.destroy();
  });

  it('keeps every acknowledged notification of 10,000-user bulk creates when the node is SIGKILLed mid-way; the one cut off is all or nothing', async () => {
    const url = await db.freshDatabase('durability');
    const t = await startTidings({ args: ['--store', 'postgres', '--postgres-url', url, '--max-message-size', '1048576'] });
    started.push(t);
    const users = Array.from({ length: 10_000 }, (_, i) => `bulk-${i}`);
    const acknowledged = new Map<number, string[]>();
    const sent: number[] = [];
    let killed = false;
    const creating = (async () => {
      for (let batch = 0; batch < 50 && !killed; batch++) {
        sent.push(batch);
        try {
          const res = await fetch(`${t.url}/api/notifications`, {
            method: 'POST',
            headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' },
            body: JSON.stringify({ users, type: 'bulk', payload: { batch } }),
          });
          if (res.status !== 200) break;
          acknowledged.set(batch, ((await res.json()) as Created).notifications.map((n) => n.id));
        } catch {
          break; // the connection died with the node
        }
      }
    })();
    while (acknowledged.size < 3) await sleep(5);
    await sleep(40 + Math.floor(Math.random() * 80));
    killed = true;
    await t.kill('SIGKILL');
    await creating;
    assert.ok(acknowledged.size >= 3 && acknowledged.size <= 49, `killed mid-way: ${acknowledged.size} batches acknowledged`);

    await t.start();
    const sql = new pg.Client({ connectionString: url });
    await sql.connect();
    const stored = new Map((await sql.query<{ batch: string; n: string }>(`SELECT payload::jsonb->>'batch' AS batch, count(*) AS n FROM notifications GROUP BY 1`)).rows
      .map((r) => [Number(r.batch), Number(r.n)]));
    for (const [batch, ids] of acknowledged) {
      assert.equal(stored.get(batch), 10_000, `acknowledged batch ${batch} is all there`);
      const present = await sql.query<{ n: string }>('SELECT count(*) AS n FROM notifications WHERE id = ANY($1::text[])', [ids]);
      assert.equal(Number(present.rows[0]!.n), 10_000, `every acknowledged id of batch ${batch}`);
    }
    for (const [batch, n] of stored) {
      if (!acknowledged.has(batch)) assert.ok(n === 10_000 && sent.includes(batch), `an unacknowledged batch is all or nothing: ${batch} has ${n}`);
    }
    await sql.end();
    const count = await t.api('GET', '/api/notifications/unread-count?user=bulk-9999');
    assert.ok((count.body as { unread: number }).unread >= acknowledged.size, 'the restarted node serves them');
  });

  it('answers 503 (120) while PostgreSQL is stopped, keeps channels and clients going, and recovers by itself', async () => {
    const base = await db.freshDatabase('outage');
    // trust authentication ignores the password: it is only there to show it never reaches a log
    const url = base.replace('postgres@', 'postgres:not-a-real-secret@');
    const t = await startTidings({ args: ['--store', 'postgres', '--postgres-statement-timeout', '2000'], env: { TIDINGS_POSTGRES_URL: url, TIDINGS_LOG_LEVEL: 'info' } });
    started.push(t);
    const token = await makeToken('han');
    const client = await WsClient.connect(t.wsUrl, token);
    await client.command('subscribe', { channel: 'news' });
    assert.equal((await t.api('POST', '/api/notifications', { user: 'han', type: 't', payload: 1 })).status, 200);

    await db.stop();
    const create = await t.api('POST', '/api/notifications', { user: 'han', type: 't', payload: 2 });
    assert.equal(create.status, 503);
    assert.equal((create.body as ErrorBody).error.code, 120);
    const list = await t.api('GET', '/api/notifications?user=han');
    assert.deepEqual([list.status, (list.body as ErrorBody).error.code], [503, 120]);
    await assert.rejects(client.command('inbox.count'), (err: Error) => err.message.startsWith('120:'));

    await t.publish('news', { during: 'outage' });
    await client.until(() => client.pushes('publication').length === 1, 5000, 'a publication while PostgreSQL is down');
    await sleep(1000);
    assert.ok(t.pid !== undefined && (await t.api('GET', '/healthz')).status === 200, 'the node is up');
    assert.equal((await t.api('GET', '/readyz')).status, 200, 'still ready: it serves everything but the notifications');

    await db.start();
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      status = (await t.api('GET', '/api/notifications/unread-count?user=han')).status;
      if (status !== 200) await sleep(100);
    }
    assert.equal(status, 200, 'the API works again without a restart');
    assert.deepEqual((await t.api('GET', '/api/notifications/unread-count?user=han')).body, { unread: 1 });
    assert.equal((await t.api('POST', '/api/notifications', { user: 'han', type: 't', payload: 3 })).status, 200);
    assert.deepEqual(await client.command('inbox.count'), { unread: 2 });
    client.close();

    const lines = t.output.split('\n');
    assert.equal(lines.filter((l) => l.includes('"msg":"store down')).length, 1, 'said once');
    assert.equal(lines.filter((l) => l.includes('"msg":"scheduler tick failed')).length, 1, 'said once per outage, not per tick');
    assert.ok(lines.some((l) => l.includes('"msg":"store up')));
    assert.ok(!t.output.includes('not-a-real-secret'), 'the URL\'s password never reaches the log');
  });

  it('exits 1 at start when PostgreSQL cannot be reached, naming the URL without its password', async () => {
    const url = `postgres://tidings:not-a-real-secret@127.0.0.1:${await freePort()}/tidings`;
    const t = new TidingsProcess(await freePort(), { args: ['--store', 'postgres', '--postgres-url', url] });
    await assert.rejects(t.start(), (err: Error) => {
      assert.match(err.message, /exited with 1/);
      assert.match(err.message, /PostgreSQL unavailable: .*ECONNREFUSED.*--postgres-url postgres:\/\/tidings:\[redacted\]@127\.0\.0\.1/s);
      assert.ok(!err.message.includes('not-a-real-secret'), err.message);
      return true;
    });
  });
});
