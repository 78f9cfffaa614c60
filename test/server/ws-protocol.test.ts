import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { HistoryResult, PublishResult, SubscribeResult } from '@tidings/protocol';
import { API_KEY, makeToken, startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { ReplyError, WsClient } from '../helpers/ws-client.js';

const run = promisify(execFile);

describe('WebSocket JSON protocol against the real server', () => {
  let t: TidingsProcess;
  let small: TidingsProcess;

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tidings-'));
    const config = join(dir, 'tidings.json');
    writeFileSync(config, JSON.stringify({
      namespaces: { chat: { presence: true, joinLeave: true, publish: true, subscribe: 'authenticated', historySize: 50 } },
    }));
    [t, small] = await Promise.all([startTidings({ args: ['--config', config] }), startTidings({ args: ['--history-size', '2'] })]);
  });
  after(async () => {
    await Promise.all([t.stop(), small.stop()]);
  });

  it('delivers a publication made with curl, with its offset, and recovers exactly what was missed', async () => {
    const c = await WsClient.connect(t.wsUrl);
    const sub = await c.command<SubscribeResult>('subscribe', { channel: 'news' });
    assert.equal(sub.recovered, false);
    const { stdout } = await run('curl', ['-s', '-X', 'POST', `${t.url}/api/publish`, '-H', `X-API-Key: ${API_KEY}`,
      '-H', 'Content-Type: application/json', '-d', '{"channel":"news","data":{"title":"hello"}}']);
    const published = JSON.parse(stdout) as PublishResult;
    assert.equal(published.offset, sub.position.offset + 1);
    await c.until(() => c.pushes('publication').length === 1, 5000, 'publication');
    const first = c.pushes('publication')[0]!;
    assert.deepEqual(first.data, { title: 'hello' });
    assert.equal(first.offset, published.offset);
    assert.equal(first.epoch, published.epoch);
    assert.equal(first.channel, 'news');
    c.close();
    await c.closed();

    for (const n of [1, 2, 3]) await t.publish('news', { n });
    const again = await WsClient.connect(t.wsUrl);
    const resumed = await again.command<SubscribeResult>('subscribe', { channel: 'news', since: { offset: first.offset, epoch: first.epoch } });
    assert.equal(resumed.recovered, true);
    assert.deepEqual(resumed.publications.map((p) => p.data), [{ n: 1 }, { n: 2 }, { n: 3 }]);
    assert.deepEqual(resumed.publications.map((p) => p.offset), [first.offset + 1, first.offset + 2, first.offset + 3]);
    await t.publish('news', { n: 4 });
    await again.until(() => again.pushes('publication').length === 1);
    assert.equal(again.pushes('publication')[0]!.offset, first.offset + 4);
    again.close();
  });

  it('says recovered: false when history no longer holds the gap, never a silent gap', async () => {
    const first = await small.publish('news', { n: 0 });
    for (let n = 1; n <= 5; n++) await small.publish('news', { n });
    const c = await WsClient.connect(small.wsUrl);
    const res = await c.command<SubscribeResult>('subscribe', { channel: 'news', since: first });
    assert.equal(res.recovered, false);
    assert.deepEqual(res.publications, []);
    assert.equal(res.position.offset, first.offset + 5);
    const wrongEpoch = await c.command<SubscribeResult>('subscribe', { channel: 'other', since: { offset: 0, epoch: 'not-the-epoch' } });
    assert.equal(wrongEpoch.recovered, false);
    c.close();
  });

  it('never delivers a live publication twice or before the replay, under concurrent publishing', async () => {
    const start = await t.publish('race', 0);
    let publishing = true;
    const publisher = (async () => { let n = 1; while (publishing && n < 500) await t.publish('race', n++); })();
    await new Promise((r) => setTimeout(r, 30));
    const c = await WsClient.connect(t.wsUrl);
    const res = await c.command<SubscribeResult>('subscribe', { channel: 'race', since: start });
    publishing = false;
    await publisher;
    const last = (await t.api('GET', '/api/history?channel=race&limit=1')).body as HistoryResult;
    const top = last.position.offset;
    await c.until(() => (c.pushes('publication').at(-1)?.offset ?? res.position.offset) === top || res.position.offset === top);
    const offsets = [...res.publications.map((p) => p.offset), ...c.pushes('publication').map((p) => p.offset)];
    assert.equal(res.recovered, true);
    assert.deepEqual(offsets, Array.from({ length: top - start.offset }, (_, i) => start.offset + 1 + i));
    c.close();
  });

  it('answers history, presence, join/leave and client publish where the namespace allows', async () => {
    const alice = await WsClient.connect(t.wsUrl, await makeToken('alice'));
    const bob = await WsClient.connect(t.wsUrl, await makeToken('bob'));
    await alice.command('subscribe', { channel: 'chat:lobby' });
    await bob.command('subscribe', { channel: 'chat:lobby' });
    await alice.until(() => alice.pushes('join').some((j) => j.info.user === 'bob'), 5000, 'join');
    const presence = await alice.command<{ clients: Record<string, { user: string }> }>('presence', { channel: 'chat:lobby' });
    assert.deepEqual(Object.values(presence.clients).map((c) => c.user).sort(), ['alice', 'bob']);
    const pub = await bob.command<PublishResult>('publish', { channel: 'chat:lobby', data: { text: 'hi' } });
    await alice.until(() => alice.pushes('publication').length === 1);
    const got = alice.pushes('publication')[0]!;
    assert.equal(got.offset, pub.offset);
    assert.equal(got.info?.user, 'bob');
    const hist = await alice.command<HistoryResult>('history', { channel: 'chat:lobby', limit: 10 });
    assert.deepEqual(hist.publications.map((p) => p.data), [{ text: 'hi' }]);
    bob.close();
    await alice.until(() => alice.pushes('leave').some((l) => l.info.user === 'bob'), 5000, 'leave');
    const after = await alice.command<{ clients: Record<string, unknown> }>('presence', { channel: 'chat:lobby' });
    assert.equal(Object.keys(after.clients).length, 1);
    await assert.rejects(alice.command('publish', { channel: 'news', data: 1 }), (e: ReplyError) => e.error.code === 103);
    await assert.rejects(alice.command('presence', { channel: 'news' }), (e: ReplyError) => e.error.code === 108);
    alice.close();
  });

  it('answers ping, unsubscribe and refuses a second subscribe or an unknown unsubscribe', async () => {
    const c = await WsClient.connect(t.wsUrl);
    assert.deepEqual(await c.command('ping'), {});
    await c.command('subscribe', { channel: 'news' });
    await assert.rejects(c.command('subscribe', { channel: 'news' }), (e: ReplyError) => e.error.code === 105);
    await c.command('unsubscribe', { channel: 'news' });
    await assert.rejects(c.command('unsubscribe', { channel: 'news' }), (e: ReplyError) => e.error.code === 110);
    await t.publish('news', 'after unsubscribe');
    await c.command('ping');
    assert.equal(c.pushes('publication').length, 0);
    c.close();
  });

  it('pushes a server-side unsubscribe and disconnects a user on POST /api/disconnect', async () => {
    const c = await WsClient.connect(t.wsUrl, await makeToken('carol'));
    await c.command('subscribe', { channel: 'news' });
    assert.equal((await t.api('POST', '/api/unsubscribe', { user: 'carol', channel: 'news' })).status, 200);
    await c.until(() => c.pushes('unsubscribed').length === 1);
    assert.equal(c.pushes('unsubscribed')[0]!.code, 2000);
    assert.equal((await t.api('POST', '/api/disconnect', { user: 'carol' })).status, 200);
    assert.equal(await c.closed(), 3502);
    const d = c.pushes('disconnect')[0]!;
    assert.equal(d.code, 3502);
    assert.equal(d.reconnect, false);
  });
});
