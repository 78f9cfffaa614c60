import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EventSource } from 'eventsource';
import WebSocket from 'ws';
import { Client } from '@tidings/client';
import type { ServerMessage } from '@tidings/protocol';
import { Balancer } from '../helpers/balancer.js';
import { RedisProcess, redisAvailability } from '../helpers/redis.js';
import { configFile, startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { until } from '../helpers/until.js';
import { WsClient } from '../helpers/ws-client.js';

const availability = redisAvailability();

interface PollAnswer { messages: ServerMessage[]; cursor: string }

async function pollOnce(node: TidingsProcess, query: string): Promise<PollAnswer> {
  const res = await fetch(`${node.url}/poll?${query}`);
  assert.equal(res.status, 200);
  return (await res.json()) as PollAnswer;
}

const dataOf = (msgs: ServerMessage[]): unknown[] => msgs.flatMap((m) => (m.type === 'publication' ? [m.data] : []));

describe('three nodes on one Redis', availability, () => {
  let redis: RedisProcess;
  let nodes: TidingsProcess[];

  before(async () => {
    redis = await RedisProcess.start();
    const config = configFile({ namespaces: { room: { presence: true } } });
    nodes = await Promise.all([0, 1, 2].map(() => startTidings({
      args: ['--engine', 'redis', '--redis-url', redis.url, '--history-size', '1000', '--config', config, '--ping-interval', '1'],
    })));
  });
  after(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await redis.kill();
  });

  it('delivers every publication made on any node to WebSocket, SSE and long-poll clients on every node, in order', async () => {
    const ws = await Promise.all(nodes.map(async (n) => {
      const c = await WsClient.connect(n.wsUrl);
      await c.command('subscribe', { channel: 'spread' });
      return c;
    }));
    const sse = nodes.map((n) => {
      const got: ServerMessage[] = [];
      const es = new EventSource(`${n.url}/sse?channel=spread`);
      es.onmessage = (e) => got.push(JSON.parse(e.data as string) as ServerMessage);
      return { es, got };
    });
    await until(() => sse.every((s) => s.got.some((m) => m.type === 'subscribed')), 5000, 'SSE subscribed');
    let cursor = (await pollOnce(nodes[0]!, 'channel=spread&wait=0')).cursor;
    const polled: unknown[] = [];
    const total = 30;
    for (let i = 0; i < total; i++) await nodes[i % 3]!.publish('spread', i);
    // a long poller whose consecutive polls go to different nodes
    for (let i = 0; polled.length < total && i < 60; i++) {
      const a = await pollOnce(nodes[i % 3]!, `cursor=${cursor}&wait=5`);
      polled.push(...dataOf(a.messages));
      cursor = a.cursor;
    }
    const expected = Array.from({ length: total }, (_, i) => i);
    for (const c of ws) await c.until(() => c.pushes('publication').length === total, 10_000, 'ws publications');
    for (const s of sse) await until(() => dataOf(s.got).length === total, 10_000, 'sse publications');
    for (const c of ws) assert.deepEqual(c.pushes('publication').map((p) => p.data), expected);
    for (const s of sse) assert.deepEqual(dataOf(s.got), expected);
    assert.deepEqual(polled, expected);
    ws.forEach((c) => c.close());
    sse.forEach((s) => s.es.close());
  });

  it('reaches a stream session on another node through /emulation', async () => {
    const res = await fetch(`${nodes[0]!.url}/stream?channel=emu-a`);
    const reader = res.body!.getReader() as ReadableStreamDefaultReader<Uint8Array>;
    let text = '';
    while (!text.includes('"connected"')) text += new TextDecoder().decode((await reader.read()).value);
    const { client, secret } = JSON.parse(text.split('\n')[0]!) as { client: string; secret: string };
    const viaOther = await fetch(`${nodes[2]!.url}/emulation`, {
      method: 'POST', body: JSON.stringify({ client, secret, commands: [{ id: 1, type: 'subscribe', channel: 'emu-b' }, { id: 2, type: 'ping' }] }),
    });
    assert.equal(viaOther.status, 200);
    const { replies } = (await viaOther.json()) as { replies: ServerMessage[] };
    assert.deepEqual(replies.map((r) => r.type), ['reply', 'reply']);
    await nodes[1]!.publish('emu-b', 'routed');
    while (!text.includes('"routed"')) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    const missing = await fetch(`${nodes[1]!.url}/emulation`, { method: 'POST', body: JSON.stringify({ client: 'no-such-client', secret, commands: [{ id: 1, type: 'ping' }] }) });
    assert.equal(missing.status, 404);
  });

  it('shares presence across nodes and drops a dead node\'s clients from it by expiry', async () => {
    const a = await WsClient.connect(nodes[0]!.wsUrl);
    const b = await WsClient.connect(nodes[1]!.wsUrl);
    await a.command('subscribe', { channel: 'room:p' });
    await b.command('subscribe', { channel: 'room:p' });
    const present = async (): Promise<number> => Object.keys(((await nodes[2]!.api('GET', '/api/presence?channel=room:p')).body as { clients: object }).clients).length;
    assert.equal(await present(), 2);
    await nodes[1]!.kill('SIGKILL');
    const deadline = Date.now() + 10_000;
    while (await present() !== 1) {
      assert.ok(Date.now() < deadline, 'the dead node\'s client left presence within 10 s');
      await new Promise((r) => setTimeout(r, 200));
    }
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(await present(), 1, 'the living client stays present (refreshed by its node)');
    a.close();
  });
});

describe('a node dies mid-stream', availability, () => {
  let redis: RedisProcess;
  let nodes: TidingsProcess[];
  let lb: Balancer;

  before(async () => {
    redis = await RedisProcess.start();
    nodes = await Promise.all([0, 1, 2].map(() => startTidings({ args: ['--engine', 'redis', '--redis-url', redis.url, '--history-size', '10000'] })));
    lb = await Balancer.start(nodes.map((n) => n.port));
  });
  after(async () => {
    await lb.stop();
    await Promise.all(nodes.map((n) => n.stop()));
    await redis.kill();
  });

  it('its SDK clients reconnect through the balancer to the others and the app sees every publication exactly once', async () => {
    const clients = Array.from({ length: 6 }, () => new Client(lb.wsUrl, { WebSocket, minReconnectDelay: 50, maxReconnectDelay: 500 }));
    const seen = clients.map(() => [] as number[]);
    const unrecovered = clients.map(() => 0);
    clients.forEach((c, i) => {
      c.subscribe('seq', {
        publication: ({ data }) => { seen[i]!.push(data as number); },
        subscribed: ({ recovered }) => { if (!recovered && seen[i]!.length > 0) unrecovered[i]!++; },
      });
      c.connect();
    });
    await until(() => clients.every((c) => c.state === 'connected'), 10_000, 'all connected');
    await new Promise((r) => setTimeout(r, 300));
    const total = 300;
    let published = 0;
    const publisher = (async () => {
      for (let i = 0; i < total; i++) {
        const survivor = nodes[1 + (i % 2)]!;
        await survivor.publish('seq', i);
        published++;
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    await until(() => published >= 100, 20_000, '100 published');
    await nodes[0]!.kill('SIGKILL');
    await publisher;
    const expected = Array.from({ length: total }, (_, i) => i);
    await until(() => seen.every((s) => s.length >= total), 20_000, 'every client has every publication');
    await new Promise((r) => setTimeout(r, 300));
    for (const [i, s] of seen.entries()) {
      assert.deepEqual(s, expected, `client ${i}: no loss, no duplicate, in order`);
      assert.equal(unrecovered[i], 0);
    }
    clients.forEach((c) => c.disconnect());
  });
});

describe('Redis itself fails', availability, () => {
  let redis: RedisProcess;
  let node: TidingsProcess;

  before(async () => {
    redis = await RedisProcess.start();
    node = await startTidings({ args: ['--engine', 'redis', '--redis-url', redis.url] });
  });
  after(async () => {
    await node.stop();
    await redis.kill();
  });

  it('answers 503 while Redis is down, keeps clients connected, reports /readyz and resumes by itself', async () => {
    const c = await WsClient.connect(node.wsUrl);
    const before = await c.command<{ position: { epoch: string } }>('subscribe', { channel: 'outage' });
    await node.publish('outage', 'before');
    await c.until(() => c.pushes('publication').length === 1);
    await redis.kill();
    // once the node has seen Redis go, it answers 503 at once (a publish sent before that may have run: 504)
    const seen = Date.now() + 5000;
    while ((await fetch(`${node.url}/readyz`)).status !== 503) {
      assert.ok(Date.now() < seen, '/readyz says 503 within 5 s of Redis dying');
      await new Promise((r) => setTimeout(r, 20));
    }
    const down = await node.api('POST', '/api/publish', { channel: 'outage', data: 'lost?' });
    assert.equal(down.status, 503);
    assert.equal((down.body as { error: { code: number } }).error.code, 113);
    await redis.start();
    const deadline = Date.now() + 15_000;
    while ((await fetch(`${node.url}/readyz`)).status !== 200) {
      assert.ok(Date.now() < deadline, 'ready again within 15 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(c.closeCode, undefined, 'the client stayed connected');
    await node.publish('outage', 'after');
    // Redis lost everything: the new epoch makes the session tell its client to resubscribe
    await c.until(() => c.pushes('unsubscribed').length === 1, 5000, 'resubscribe notice');
    assert.equal(c.pushes('unsubscribed')[0]!.code, 2500);
    const again = await c.command<{ recovered: boolean; position: { epoch: string } }>('subscribe', { channel: 'outage', since: { offset: 1, epoch: before.position.epoch } });
    assert.equal(again.recovered, false);
    assert.notEqual(again.position.epoch, before.position.epoch);
    c.close();
  });
});
