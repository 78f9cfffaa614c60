import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SubscribeResult } from '@tidings/protocol';
import { RedisProcess, redisAvailability } from '../helpers/redis.js';
import { WsClient } from '../helpers/ws-client.js';
import { RawStomp, header, startStompTidings, text, type StompTidings } from './helpers.js';

/** A raw STOMP 1.2 client over WebSocket, subscribed to `destination` (with any extra headers), live. */
async function subscriber(url: string, destination: string, extra: Array<[string, string]> = []): Promise<RawStomp> {
  const raw = await RawStomp.ws(url);
  await raw.connect();
  raw.frame('SUBSCRIBE', [['destination', destination], ['id', 's'], ['receipt', 'sub'], ...extra]);
  await raw.next('RECEIPT');
  return raw;
}

/** SENDs and waits for its RECEIPT. */
async function sendWithReceipt(raw: RawStomp, headers: Array<[string, string]>, body: string): Promise<void> {
  raw.frame('SEND', [...headers, ['receipt', 'sent']], body);
  await raw.next('RECEIPT');
}

describe('what a STOMP SEND to a topic carries', () => {
  let s: StompTidings;

  before(async () => {
    s = await startStompTidings();
  });
  after(async () => {
    await s.t.stop();
  });

  it('carries user headers to MESSAGE frames (STOMP 1.2), and to JSON clients as `headers`', async () => {
    const sub = await subscriber(s.t.wsUrl, '/topic/t');
    const json = await WsClient.connect(s.t.wsUrl);
    await json.command<SubscribeResult>('subscribe', { channel: 't' });
    const pub = await RawStomp.ws(s.t.wsUrl);
    await pub.connect();
    await sendWithReceipt(pub, [['destination', '/topic/t'], ['x-foo', 'bar'], ['priority', '5'], ['x-user', 'mallory'], ['content-type', 'application/json']], '{"n":1}');
    const m = await sub.next('MESSAGE');
    assert.equal(header(m, 'x-foo'), 'bar');
    assert.equal(header(m, 'priority'), '5');
    assert.equal(header(m, 'x-user'), '', 'the publisher\'s own user, not a forged one');
    assert.equal(m.headers.filter(([n]) => n === 'x-user').length, 1);
    assert.equal(text(m), '{"n":1}');
    await json.until(() => json.pushes('publication').length === 1);
    const p = json.pushes('publication')[0]!;
    assert.deepEqual(p.data, { n: 1 }, 'plain data for a JSON body');
    assert.deepEqual(p.headers, { 'x-foo': 'bar', priority: '5' });
    for (const c of [sub, pub]) c.end();
    json.close();
  });

  it('keeps user headers in history: GET /api/history and recovery with x-since-offset', async () => {
    const pub = await RawStomp.ws(s.t.wsUrl);
    await pub.connect();
    await sendWithReceipt(pub, [['destination', '/topic/replayed'], ['x-foo', 'kept']], 'first');
    pub.end();
    const h = await s.t.api('GET', '/api/history?channel=replayed&since=0');
    assert.equal(h.status, 200);
    const { publications } = h.body as { publications: Array<{ epoch: string; headers?: Record<string, string> }> };
    assert.deepEqual(publications[0]!.headers, { 'x-foo': 'kept' });
    const again = await RawStomp.ws(s.t.wsUrl);
    await again.connect();
    again.frame('SUBSCRIBE', [['destination', '/topic/replayed'], ['id', 'r'], ['x-since-offset', '0'], ['x-epoch', publications[0]!.epoch], ['receipt', 'rr']]);
    const m = await again.next('MESSAGE');
    assert.equal(text(m), 'first');
    assert.equal(header(m, 'x-foo'), 'kept');
    assert.equal(header(await again.next('RECEIPT'), 'x-recovered'), 'true');
    again.end();
  });

  it('refuses a SEND with more than 32 user headers or over 4096 bytes of them (112)', async () => {
    const many = await RawStomp.ws(s.t.wsUrl);
    await many.connect();
    many.frame('SEND', [['destination', '/topic/t'], ...Array.from({ length: 33 }, (_, i): [string, string] => [`h${i}`, 'v'])], 'x');
    const e1 = await many.errorThenClose();
    assert.equal(header(e1, 'x-code'), '112');
    assert.equal(header(e1, 'message'), 'too many user headers');

    const big = await RawStomp.ws(s.t.wsUrl);
    await big.connect();
    big.frame('SEND', [['destination', '/topic/t'], ['a', 'x'.repeat(3000)], ['b', 'y'.repeat(3000)]], 'x');
    const e2 = await big.errorThenClose();
    assert.equal(header(e2, 'x-code'), '112');
    assert.equal(header(e2, 'message'), 'user headers too large');
  });

  it('delivers an application/json body with spaces (Python json.dumps) to JSON clients as JSON', async () => {
    const json = await WsClient.connect(s.t.wsUrl);
    await json.command<SubscribeResult>('subscribe', { channel: 'spaced' });
    const sub = await subscriber(s.t.wsUrl, '/topic/spaced');
    const pub = await RawStomp.ws(s.t.wsUrl);
    await pub.connect();
    await sendWithReceipt(pub, [['destination', '/topic/spaced'], ['content-type', 'application/json']], '{"a": 1, "b": [1, 2], "c": "caf\\u00e9"}');
    await json.until(() => json.pushes('publication').length === 1);
    assert.deepEqual(json.pushes('publication')[0]!.data, { a: 1, b: [1, 2], c: 'café' });
    const m = await sub.next('MESSAGE');
    assert.equal(text(m), '{"a":1,"b":[1,2],"c":"café"}', 'STOMP subscribers get the same JSON, canonically spelled');
    assert.equal(header(m, 'content-type'), 'application/json');
    for (const c of [sub, pub]) c.end();
    json.close();
  });
});

const availability = redisAvailability();

describe('STOMP user headers across two nodes on Redis', availability, () => {
  let redis: RedisProcess;
  let nodes: StompTidings[];

  before(async () => {
    redis = await RedisProcess.start();
    nodes = await Promise.all([0, 1].map(() => startStompTidings(['--engine', 'redis', '--redis-url', redis.url])));
  });
  after(async () => {
    await Promise.all(nodes.map((n) => n.t.stop()));
    await redis.kill();
  });

  it('a SEND on one node reaches a subscriber on the other with its user headers, live and replayed', async () => {
    const sub = await subscriber(nodes[1]!.t.wsUrl, '/topic/t');
    const pub = await RawStomp.ws(nodes[0]!.t.wsUrl);
    await pub.connect();
    await sendWithReceipt(pub, [['destination', '/topic/t'], ['x-foo', 'bar'], ['priority', '5']], 'across');
    const m = await sub.next('MESSAGE');
    assert.equal(text(m), 'across');
    assert.equal(header(m, 'x-foo'), 'bar');
    assert.equal(header(m, 'priority'), '5');

    const late = await RawStomp.ws(nodes[1]!.t.wsUrl);
    await late.connect();
    late.frame('SUBSCRIBE', [['destination', '/topic/t'], ['id', 'r'], ['x-since-offset', String(Number(header(m, 'x-offset')) - 1)], ['x-epoch', header(m, 'x-epoch')!]]);
    const replayed = await late.next('MESSAGE');
    assert.equal(text(replayed), 'across');
    assert.equal(header(replayed, 'x-foo'), 'bar');
    for (const c of [sub, pub, late]) c.end();
  });
});
