/**
 * The SDK's fallback against the real server behind proxies that refuse or swallow WebSocket
 * upgrades: the app receives every publication, in order, with the same API; and recovery
 * works across a switch from WebSocket to an HTTP transport.
 */
import assert from 'node:assert/strict';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { EventSource } from 'eventsource';
import WebSocket from 'ws';
import { Client, type ClientOptions, type ConnectedEvent, type Publication, type SubscribedEvent } from '@tidings/client/fallback';
import { TestProxy } from '../helpers/proxy.js';
import { startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { offsetsOf, publishLoop, range, sleep, waitFor } from './helpers.js';

/** Forwards plain HTTP but holds WebSocket upgrade requests unanswered (a black hole). */
async function swallowUpgrades(targetPort: number): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('error', () => client.destroy());
    client.once('data', (first: Buffer) => {
      if (/^upgrade:\s*websocket/im.test(first.toString('latin1'))) return;
      const upstream = createConnection(targetPort, '127.0.0.1');
      sockets.add(upstream);
      upstream.on('error', () => client.destroy());
      upstream.on('close', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.write(first);
      client.pipe(upstream);
      upstream.pipe(client);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

interface Watched { pubs: Publication[]; subscribed: SubscribedEvent[]; connected: ConnectedEvent[] }

describe('SDK fallback', () => {
  let t: TidingsProcess;
  const clients: Client[] = [];

  before(async () => {
    t = await startTidings({ args: ['--history-size', '5000'] });
  });

  after(async () => {
    for (const c of clients) c.disconnect();
    await t.stop();
  });

  function start(url: string, channel: string, options: ClientOptions = {}): Watched {
    const client = new Client(url, { WebSocket, EventSource, minReconnectDelay: 50, maxReconnectDelay: 400, ...options });
    clients.push(client);
    const w: Watched = { pubs: [], subscribed: [], connected: [] };
    client.on('connected', (e) => w.connected.push(e));
    client.subscribe(channel, { publication: (p) => w.pubs.push(p), subscribed: (e) => w.subscribed.push(e) });
    client.connect();
    return w;
  }

  test('a proxy answering upgrades with 400: the default client falls back to HTTP streaming and gets everything in order', async () => {
    const proxy = await TestProxy.start(t.port, { rejectUpgrades: true });
    const w = start(`ws://127.0.0.1:${proxy.port}/ws`, 'refused');
    await waitFor('subscribed', () => w.subscribed.length === 1);
    assert.equal(w.connected[0]?.transport, 'stream');
    for (let n = 1; n <= 50; n++) await t.publish('refused', { n });
    await waitFor('50 publications', () => w.pubs.length === 50);
    assert.deepEqual(w.pubs.map((p) => (p.data as { n: number }).n), range(1, 50));
    assert.deepEqual(offsetsOf(w.pubs), range(1, 50));
    await proxy.stop();
  });

  test('with SSE and long polling as the fallbacks, SSE is chosen; without them, long polling', async () => {
    const proxy = await TestProxy.start(t.port, { rejectUpgrades: true });
    const sse = start(proxy.url, 'choice', { transports: ['websocket', 'sse', 'poll'] });
    const poll = start(proxy.url, 'choice', { transports: ['websocket', 'poll'] });
    await waitFor('subscribed', () => sse.subscribed.length === 1 && poll.subscribed.length === 1);
    assert.deepEqual([sse.connected[0]?.transport, poll.connected[0]?.transport], ['sse', 'poll']);
    for (let n = 1; n <= 30; n++) await t.publish('choice', n);
    await waitFor('30 publications each', () => sse.pubs.length === 30 && poll.pubs.length === 30);
    assert.deepEqual(sse.pubs.map((p) => p.data), range(1, 30));
    assert.deepEqual(poll.pubs.map((p) => p.data), range(1, 30));
    await proxy.stop();
  });

  test('a proxy that swallows upgrades: WebSocket is skipped after openTimeout', async () => {
    const hole = await swallowUpgrades(t.port);
    const started = Date.now();
    const w = start(hole.url, 'swallowed', { openTimeout: 500 });
    await waitFor('subscribed', () => w.subscribed.length === 1);
    const took = Date.now() - started;
    assert.equal(w.connected[0]?.transport, 'stream');
    assert.ok(took >= 450 && took < 3000, `connected after ${took} ms`);
    await t.publish('swallowed', 'through');
    await waitFor('publication', () => w.pubs.length === 1);
    await hole.close();
  });

  test('a half-open stream (a proxy that goes silent): the SDK notices from the missing keepalives, reconnects and recovers', async () => {
    const fast = await startTidings({ args: ['--ping-interval', '1', '--history-size', '100'] });
    const proxy = await TestProxy.start(fast.port);
    try {
      const watched = (['stream', 'sse'] as const).map((transport) => start(proxy.url, `silent-${transport}`, { transports: [transport] }));
      await waitFor('subscribed', () => watched.every((w) => w.subscribed.length === 1));
      proxy.freezeAll();
      const frozenAt = Date.now();
      for (let n = 1; n <= 5; n++) for (const transport of ['stream', 'sse']) await fast.publish(`silent-${transport}`, n);
      await waitFor('reconnected', () => watched.every((w) => w.connected.length === 2), 10_000);
      const took = Date.now() - frozenAt;
      // ping 1 s: dead after 3 s of silence, checked every second; the last keepalive came up to 1 s before the freeze
      assert.ok(took >= 1900 && took < 7000, `reconnected ${took} ms after the proxy went silent`);
      await waitFor('5 publications each', () => watched.every((w) => w.pubs.length === 5));
      for (const w of watched) {
        assert.deepEqual(w.pubs.map((p) => p.data), range(1, 5));
        assert.deepEqual([w.subscribed[1]?.recovering, w.subscribed[1]?.recovered], [true, true]);
      }
    } finally {
      await proxy.stop();
      await fast.stop();
    }
  });

  for (const fallback of ['stream', 'sse', 'poll'] as const) {
    test(`recovery across a switch from WebSocket to ${fallback}: the missed publications exactly once, in order`, async () => {
      const proxy = await TestProxy.start(t.port);
      const channel = `switch-${fallback}`;
      const w = start(proxy.url, channel, { transports: ['websocket', fallback] });
      await waitFor('subscribed', () => w.subscribed.length === 1);
      assert.equal(w.connected[0]?.transport, 'websocket');
      const loop = publishLoop(t, channel, 3);
      await sleep(300);
      proxy.rejectUpgrades = true;
      proxy.dropAll();
      await waitFor('reconnected', () => w.connected.length === 2);
      await sleep(300);
      const acked = await loop.stop();
      const last = acked.at(-1)?.offset ?? 0;
      await waitFor(`offset ${last}`, () => (w.pubs.at(-1)?.offset ?? 0) >= last);
      await sleep(100);
      assert.equal(w.connected[1]?.transport, fallback);
      assert.equal(acked.length, last);
      assert.deepEqual(offsetsOf(w.pubs), range(1, last), 'every publication once, in order');
      assert.equal(w.subscribed.length, 2);
      assert.deepEqual([w.subscribed[1]?.recovering, w.subscribed[1]?.recovered], [true, true]);
      await proxy.stop();
    });
  }
});
