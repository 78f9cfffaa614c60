/**
 * A publish Redis did not confirm (SIGSTOP while it is in flight) is reported as an unknown outcome
 * (504, code 119) with the idempotency key it was sent with; retried with that key after Redis goes
 * on, it is published exactly once. While Redis is known to be stalled or down, publishes are
 * refused at once (503, code 113) and nothing is sent. Two nodes on one real redis-server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ProtocolError, Publication } from '@tidings/protocol';
import { RedisProcess, redisAvailability } from '../helpers/redis.js';
import { configFile, makeToken, startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { ReplyError, WsClient } from '../helpers/ws-client.js';
import { RawStomp, header } from '../stomp/helpers.js';

const availability = redisAvailability();
/** The command timeout `tidings serve` gives ioredis, in ms. */
const COMMAND_TIMEOUT = 5000;

interface ApiError { error: ProtocolError }
interface Answer { status: number; body: unknown }

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Repeats `call` while it is refused with 503 (the node has not yet seen Redis answer again). */
async function whileRefused(call: () => Promise<Answer>, ms = 5000): Promise<Answer> {
  const deadline = Date.now() + ms;
  for (;;) {
    const answer = await call();
    if (answer.status !== 503 || Date.now() > deadline) return answer;
    await sleep(50);
  }
}

describe('publishing while Redis does not answer', availability, () => {
  let redis: RedisProcess;
  let a: TidingsProcess;
  let b: TidingsProcess;

  before(async () => {
    redis = await RedisProcess.start();
    const config = configFile({ namespaces: { room: { publish: true, historySize: 100 } } });
    const nodes = await Promise.all([0, 1].map(() => startTidings({ args: ['--engine', 'redis', '--redis-url', redis.url, '--config', config] })));
    a = nodes[0]!;
    b = nodes[1]!;
  });
  after(async () => {
    redis.resume();
    await Promise.all([a, b].map((n) => n.stop()));
    await redis.kill();
  });

  /** Publications of `channel` in history (node b) and those delivered to `sub`, with `data`. */
  async function counts(channel: string, data: unknown, sub: WsClient): Promise<{ history: Publication[]; delivered: number }> {
    const h = await b.api('GET', `/api/history?channel=${channel}`);
    assert.equal(h.status, 200, JSON.stringify(h.body));
    const history = (h.body as { publications: Publication[] }).publications.filter((p) => JSON.stringify(p.data) === JSON.stringify(data));
    await sleep(300); // a second delivery would come with the first
    const delivered = sub.pushes('publication').filter((p) => p.channel === channel && JSON.stringify(p.data) === JSON.stringify(data)).length;
    return { history, delivered };
  }

  async function subscriber(...channels: string[]): Promise<WsClient> {
    const sub = await WsClient.connect(b.wsUrl);
    for (const channel of channels) await sub.command('subscribe', { channel });
    return sub;
  }

  it('API publish: 504 (119) with an idempotency key; then 503 (113) at once; the retry with the key publishes exactly once', async () => {
    const sub = await subscriber('room:api');
    let stalled: Answer;
    let refused: Answer;
    let refusedMs: number;
    redis.pause();
    try {
      stalled = await a.api('POST', '/api/publish', { channel: 'room:api', data: { n: 'stalled' } });
      const t = Date.now();
      refused = await a.api('POST', '/api/publish', { channel: 'room:api', data: { n: 'refused' } });
      refusedMs = Date.now() - t;
    } finally {
      redis.resume();
    }
    assert.equal(stalled.status, 504, JSON.stringify(stalled.body));
    const { error } = stalled.body as ApiError;
    assert.equal(error.code, 119);
    assert.equal(typeof error.idempotencyKey, 'string');
    assert.equal(refused.status, 503, JSON.stringify(refused.body));
    assert.equal((refused.body as ApiError).error.code, 113);
    assert.ok(refusedMs < COMMAND_TIMEOUT / 5, `refused after ${refusedMs} ms`);

    const retry = await whileRefused(() => a.api('POST', '/api/publish', { channel: 'room:api', data: { n: 'stalled' }, idempotencyKey: error.idempotencyKey }));
    assert.equal(retry.status, 200, JSON.stringify(retry.body));
    const { history, delivered } = await counts('room:api', { n: 'stalled' }, sub);
    assert.equal(history.length, 1);
    assert.equal(history[0]!.offset, (retry.body as { offset: number }).offset);
    assert.equal(delivered, 1);
    assert.equal((await counts('room:api', { n: 'refused' }, sub)).history.length, 0, 'the refused publish was not sent');
    sub.close();
  });

  it('client publish over WebSocket: the error reply carries code 119 and the key; the retry with it publishes exactly once', async () => {
    const sub = await subscriber('room:ws');
    const publisher = await WsClient.connect(a.wsUrl);
    let stalled: unknown;
    let refused: unknown;
    let refusedMs: number;
    redis.pause();
    try {
      stalled = await publisher.command('publish', { channel: 'room:ws', data: 'stalled' }).catch((e: unknown) => e);
      const t = Date.now();
      refused = await publisher.command('publish', { channel: 'room:ws', data: 'refused' }).catch((e: unknown) => e);
      refusedMs = Date.now() - t;
    } finally {
      redis.resume();
    }
    assert.ok(stalled instanceof ReplyError, String(stalled));
    assert.equal(stalled.error.code, 119);
    const key = stalled.error.idempotencyKey;
    assert.equal(typeof key, 'string');
    assert.ok(refused instanceof ReplyError, String(refused));
    assert.equal(refused.error.code, 113);
    assert.ok(refusedMs < COMMAND_TIMEOUT / 5, `refused after ${refusedMs} ms`);

    const retry = await whileRefused(async () => {
      try {
        return { status: 200, body: await publisher.command('publish', { channel: 'room:ws', data: 'stalled', idempotencyKey: key }) };
      } catch (e) {
        if (e instanceof ReplyError && e.error.code === 113) return { status: 503, body: e.error };
        throw e;
      }
    });
    assert.equal(retry.status, 200);
    const { history, delivered } = await counts('room:ws', 'stalled', sub);
    assert.equal(history.length, 1);
    assert.equal(history[0]!.offset, (retry.body as { offset: number }).offset);
    assert.equal(delivered, 1);
    publisher.close();
    sub.close();
  });

  it('broadcast: each channel reports 119 with the broadcast\'s one key; the whole broadcast retried with it publishes once per channel', async () => {
    const channels = ['room:b1', 'room:b2'];
    const sub = await subscriber(...channels);
    let stalled: Answer;
    redis.pause();
    try {
      stalled = await a.api('POST', '/api/broadcast', { channels, data: 'stalled' });
    } finally {
      redis.resume();
    }
    assert.equal(stalled.status, 200, JSON.stringify(stalled.body));
    const body = stalled.body as { idempotencyKey: string; results: Array<{ channel: string; error?: ProtocolError }> };
    assert.equal(typeof body.idempotencyKey, 'string');
    assert.deepEqual(body.results.map((r) => [r.channel, r.error?.code, r.error?.idempotencyKey]), channels.map((c) => [c, 119, body.idempotencyKey]));

    const retry = await whileRefused(async () => {
      const r = await a.api('POST', '/api/broadcast', { channels, data: 'stalled', idempotencyKey: body.idempotencyKey });
      const refused = (r.body as { results: Array<{ error?: ProtocolError }> }).results.some((x) => x.error?.code === 113);
      return refused ? { status: 503, body: r.body } : r;
    });
    const results = (retry.body as { results: Array<{ channel: string; offset?: number }> }).results;
    assert.ok(results.every((r) => typeof r.offset === 'number'), JSON.stringify(retry.body));
    for (const channel of channels) {
      const { history, delivered } = await counts(channel, 'stalled', sub);
      assert.equal(history.length, 1, channel);
      assert.equal(history[0]!.offset, results.find((r) => r.channel === channel)!.offset);
      assert.equal(delivered, 1, channel);
    }
    sub.close();
  });

  it('STOMP SEND: the ERROR frame carries code 119 and x-idempotency-key; a SEND with it publishes exactly once', async () => {
    const sub = await subscriber('room:stomp');
    const send = (stomp: RawStomp, extra: Array<[string, string]>): void => stomp.frame('SEND', [['destination', '/topic/room:stomp'], ['content-type', 'application/json'], ['receipt', 'r1'], ...extra], '"stalled"');
    const first = await RawStomp.ws(a.wsUrl);
    await first.connect();
    redis.pause();
    let error;
    try {
      send(first, []);
      error = await first.errorThenClose(COMMAND_TIMEOUT + 3000);
    } finally {
      redis.resume();
    }
    assert.equal(header(error, 'x-code'), '119');
    const key = header(error, 'x-idempotency-key');
    assert.equal(typeof key, 'string');

    let receipt;
    for (let i = 0; i < 100 && receipt === undefined; i++) {
      const again = await RawStomp.ws(a.wsUrl);
      await again.connect();
      send(again, [['x-idempotency-key', key!]]);
      await again.until(() => again.frames.some((f) => f.command === 'RECEIPT' || f.command === 'ERROR'));
      receipt = again.frames.find((f) => f.command === 'RECEIPT');
      if (!receipt) assert.equal(header(again.frames.find((f) => f.command === 'ERROR')!, 'x-code'), '113');
      again.end();
      if (!receipt) await sleep(50);
    }
    assert.ok(receipt, 'the retry was receipted');
    const { history, delivered } = await counts('room:stomp', 'stalled', sub);
    assert.equal(history.length, 1);
    assert.equal(String(history[0]!.offset), header(receipt, 'x-offset'));
    assert.equal(delivered, 1);
    sub.close();
  });

  it('notification creation answers once stored even while Redis is stalled; a retry with its key is a duplicate; the live event comes once', async () => {
    const device = await WsClient.connect(b.wsUrl, await makeToken('stalled-user'));
    await device.command('subscribe', { channel: 'inbox:stalled-user' });
    const create = { user: 'stalled-user', type: 'note', payload: { n: 1 }, idempotencyKey: 'note-1' };
    let answer: Answer;
    let ms: number;
    redis.pause();
    try {
      const t = Date.now();
      answer = await a.api('POST', '/api/notifications', create);
      ms = Date.now() - t;
    } finally {
      redis.resume();
    }
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.ok(ms < COMMAND_TIMEOUT / 5, `answered after ${ms} ms`);
    const first = answer.body as { notifications: Array<{ id: string }>; duplicate: boolean };
    assert.equal(first.duplicate, false);
    const retry = await a.api('POST', '/api/notifications', create);
    assert.equal(retry.status, 200, JSON.stringify(retry.body));
    assert.equal((retry.body as { duplicate: boolean }).duplicate, true);
    assert.equal((retry.body as { notifications: Array<{ id: string }> }).notifications[0]!.id, first.notifications[0]!.id);
    const created = (): number => device.pushes('publication').filter((p) => (p.data as { type?: string }).type === 'notification.created').length;
    await device.until(() => created() >= 1, 5000, 'notification.created');
    await sleep(300);
    assert.equal(created(), 1);
    const list = await a.api('GET', '/api/notifications?user=stalled-user');
    assert.equal((list.body as { notifications: unknown[] }).notifications.length, 1);
    device.close();
  });

  it('with Redis down, publish, client publish and broadcast are refused at once with 503 (113)', async () => {
    const publisher = await WsClient.connect(a.wsUrl);
    await redis.kill();
    // "known to be down": the node has seen the connection close (a command sent before that may have run: 504)
    const seen = Date.now() + 5000;
    while ((await fetch(`${a.url}/readyz`)).status !== 503) {
      assert.ok(Date.now() < seen, 'the node noticed Redis is gone within 5 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    const t = Date.now();
    const api = await a.api('POST', '/api/publish', { channel: 'room:down', data: 1 });
    const ws = await publisher.command('publish', { channel: 'room:down', data: 1 }).catch((e: unknown) => e);
    const broadcast = await a.api('POST', '/api/broadcast', { channels: ['room:down'], data: 1 });
    const ms = Date.now() - t;
    assert.equal(api.status, 503, JSON.stringify(api.body));
    assert.equal((api.body as ApiError).error.code, 113);
    assert.ok(ws instanceof ReplyError && ws.error.code === 113, String(ws));
    assert.equal((broadcast.body as { results: Array<{ error?: ProtocolError }> }).results[0]!.error?.code, 113);
    assert.ok(ms < COMMAND_TIMEOUT / 5, `answered after ${ms} ms`);
    publisher.close();
  });
});
