import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { HistoryResult, InboxEvent, Publication } from '@tidings/protocol';
import { startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { WsClient } from '../helpers/ws-client.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function channelHistory(t: TidingsProcess, channel: string): Promise<Publication[]> {
  return ((await t.api('GET', `/api/history?channel=${channel}`)).body as HistoryResult).publications;
}

describe('delayed and scheduled delivery', () => {
  const started: TidingsProcess[] = [];
  after(async () => {
    await Promise.all(started.map((t) => t.stop()));
  });

  it('fires a delayed notification that came due while the server was down, once, after restart', async () => {
    const t = await startTidings();
    started.push(t);
    const deliverAt = Date.now() + 1500;
    const res = await t.api('POST', '/api/notifications', { user: 'park', type: 'reminder', payload: 'wake up', deliverAt });
    assert.equal(res.status, 200);
    assert.deepEqual((await t.api('GET', '/api/notifications/unread-count?user=park')).body, { unread: 0 }, 'invisible before it is due');
    await t.kill('SIGKILL');
    await sleep(Math.max(0, deliverAt - Date.now()) + 500);
    await t.start();
    let created: InboxEvent[] = [];
    for (let i = 0; i < 40 && created.length === 0; i++) {
      await sleep(100);
      created = (await channelHistory(t, 'inbox:park')).map((p) => p.data as InboxEvent).filter((e) => e.type === 'notification.created');
    }
    assert.equal(created.length, 1, 'announced once after the restart');
    assert.deepEqual((await t.api('GET', '/api/notifications/unread-count?user=park')).body, { unread: 1 });
    await t.restart();
    await sleep(800);
    const again = (await channelHistory(t, 'inbox:park')).filter((p) => (p.data as InboxEvent).type === 'notification.created');
    assert.equal(again.length, 0, 'not announced a second time by the next start');
  });

  it('fires a cron schedule on time, once per run, across a restart; a run missed while down fires once on start', async () => {
    const t = await startTidings();
    started.push(t);
    const created = await t.api('POST', '/api/schedules', { cron: '*/2 * * * * *', timezone: 'Asia/Seoul', target: { channel: 'ticks', data: { kind: 'tick' } } });
    assert.equal(created.status, 200);
    const listed = (await t.api('GET', '/api/schedules')).body as { schedules: Array<{ id: string; nextRunAt: number }> };
    assert.equal(listed.schedules.length, 1);
    assert.equal(listed.schedules[0]!.nextRunAt % 2000, 0);

    const watch = async (): Promise<WsClient> => {
      const c = await WsClient.connect(t.wsUrl);
      await c.command('subscribe', { channel: 'ticks' });
      return c;
    };
    let c = await watch();
    await c.until(() => c.pushes('publication').length >= 2, 6000, 'two ticks');
    const lateness = (p: Publication) => p.time % 2000;
    for (const p of c.pushes('publication')) assert.ok(lateness(p) < 700, `fired ${lateness(p)} ms after its second`);
    const gaps = c.pushes('publication').slice(1).map((p, i) => p.time - c.pushes('publication')[i]!.time);
    for (const g of gaps) assert.ok(g > 1300 && g < 2700, `one run per 2 s, got a gap of ${g} ms`);

    await t.kill('SIGKILL');
    await sleep(4500);
    const restartedAt = Date.now();
    await t.start();
    c = await watch();
    await c.until(() => c.pushes('publication').length >= 3, 8000, 'ticks after the restart');
    const history = await channelHistory(t, 'ticks');
    const afterRestart = history.filter((p) => p.time >= restartedAt);
    const catchUp = afterRestart.filter((p) => p.time % 2000 >= 700);
    assert.ok(catchUp.length <= 1, `missed runs fire once, not once each: ${afterRestart.map((p) => p.time % 2000)}`);
    const onTime = c.pushes('publication').filter((p) => p.time % 2000 < 700);
    assert.ok(onTime.length >= 2, 'back on the 2-second beat after the restart');

    const id = listed.schedules[0]!.id;
    assert.equal((await t.api('DELETE', `/api/schedules/${id}`)).status, 200);
    const count = c.pushes('publication').length;
    await sleep(2500);
    assert.equal(c.pushes('publication').length, count, 'a cancelled schedule stops');
    c.close();
  });

  it('schedules notifications to users, each run once, and logs each run', async () => {
    const t = await startTidings({ env: { TIDINGS_LOG_LEVEL: 'info' } });
    started.push(t);
    const res = await t.api('POST', '/api/schedules', { cron: '* * * * * *', target: { notification: { users: ['s1', 's2'], type: 'digest', payload: { n: 1 } } } });
    assert.equal(res.status, 200);
    await sleep(2600);
    const id = ((res.body as { schedule: { id: string } }).schedule).id;
    await t.api('DELETE', `/api/schedules/${id}`);
    const s1 = ((await t.api('GET', '/api/notifications/unread-count?user=s1')).body as { unread: number }).unread;
    const s2 = ((await t.api('GET', '/api/notifications/unread-count?user=s2')).body as { unread: number }).unread;
    assert.ok(s1 >= 2 && s1 <= 3, `one notification per run, got ${s1}`);
    assert.equal(s1, s2);
    await sleep(100);
    const runs = t.output.split('\n').filter((l) => l.includes('"msg":"schedule ran"') && l.includes(`"schedule":"${id}"`) && l.includes('"target":"notification"'));
    assert.equal(runs.length, s1, 'one info line per run');
  });

  it('fires each run once when two nodes share the store', async () => {
    const a = await startTidings();
    const b = await startTidings({ args: ['--data-dir', a.dataDir] });
    started.push(a, b);
    const res = await a.api('POST', '/api/schedules', { cron: '* * * * * *', target: { notification: { users: ['shared'], type: 'digest', payload: 1 } } });
    const firstRun = (res.body as { schedule: { nextRunAt: number } }).schedule.nextRunAt;
    await sleep(firstRun + 3300 - Date.now());
    await b.api('DELETE', `/api/schedules/${(res.body as { schedule: { id: string } }).schedule.id}`);
    const list = (await b.api('GET', '/api/notifications?user=shared&limit=100')).body as { notifications: Array<{ createdAt: number }> };
    const seconds = list.notifications.map((n) => Math.floor(n.createdAt / 1000));
    assert.ok(seconds.length >= 3 && seconds.length <= 4, `runs: ${seconds}`);
    assert.equal(new Set(seconds).size, seconds.length, 'no second fired twice');
  });
});
