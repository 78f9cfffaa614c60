/**
 * Every SDK transport against the real server, through one test body: subscribe and receive in
 * order, publish / history / presence through the client, a network drop recovered exactly once,
 * short-lived tokens renewed without a disconnect, and a refused token.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { EventSource } from 'eventsource';
import WebSocket from 'ws';
import { Client, type ClientOptions, type ConnectedEvent, type Publication, type SubscribedEvent, type TransportName } from '@tidings/client/fallback';
import { configFile, makeToken, startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { DropProxy, offsetsOf, publishLoop, range, sleep, waitFor } from './helpers.js';

const TRANSPORTS: TransportName[] = ['websocket', 'stream', 'sse', 'poll'];

function makeClient(url: string, transport: TransportName, options: ClientOptions = {}): Client {
  return new Client(url, { WebSocket, EventSource, transports: [transport], minReconnectDelay: 50, maxReconnectDelay: 400, ...options });
}

interface Watched { pubs: Publication[]; subscribed: SubscribedEvent[]; connected: ConnectedEvent[] }

function watch(client: Client, channel: string): Watched {
  const w: Watched = { pubs: [], subscribed: [], connected: [] };
  client.on('connected', (e) => w.connected.push(e));
  client.subscribe(channel, { publication: (p) => w.pubs.push(p), subscribed: (e) => w.subscribed.push(e) });
  client.connect();
  return w;
}

describe('SDK transports', () => {
  let t: TidingsProcess;
  let proxy: DropProxy;
  const clients: Client[] = [];

  before(async () => {
    const config = configFile({ namespaces: { chat: { presence: true, publish: true, subscribe: 'authenticated', historySize: 500 } } });
    t = await startTidings({ args: ['--config', config, '--history-size', '1000', '--token-refresh-lead', '3'] });
    proxy = await DropProxy.start(t.port);
  });

  after(async () => {
    for (const c of clients) c.disconnect();
    await proxy.close();
    await t.stop();
  });

  const track = (c: Client): Client => {
    clients.push(c);
    return c;
  };

  test('short-lived tokens are renewed through getToken() without a disconnect, on every transport', async () => {
    await Promise.all(TRANSPORTS.map(async (transport) => {
      let calls = 0;
      const client = track(makeClient(t.url, transport, { getToken: () => { calls++; return makeToken(`renew-${transport}`, { expiresIn: 4 }); } }));
      const connecting: number[] = [];
      client.on('connecting', (e) => connecting.push(e.code));
      const w = watch(client, `renew-${transport}`);
      await waitFor('subscribed', () => w.subscribed.length === 1);
      await sleep(7_000);
      await t.publish(`renew-${transport}`, 'still here');
      await waitFor('a publication after several token lifetimes', () => w.pubs.length === 1);
      assert.ok(calls >= 3, `${transport}: getToken() called ${calls} times`);
      assert.deepEqual(connecting, [0], `${transport}: never reconnected`);
      client.disconnect();
    }));
  });

  for (const transport of TRANSPORTS) {
    describe(transport, () => {
      test('subscribes, receives in order, publishes, reads history and presence, with the same API', async () => {
        const token = await makeToken(`user-${transport}`);
        const client = track(makeClient(t.url, transport, { token }));
        const channel = `chat:${transport}`;
        const w = watch(client, channel);
        await waitFor('subscribed', () => w.subscribed.length === 1);
        assert.equal(w.connected[0]?.transport, transport);
        assert.equal(w.connected[0]?.user, `user-${transport}`);
        assert.ok(!('secret' in w.connected[0]!), 'the /emulation secret stays inside the transport');
        assert.deepEqual([w.subscribed[0]?.recovering, w.subscribed[0]?.recovered], [false, false]);

        for (let n = 1; n <= 20; n++) await t.publish(channel, { n });
        const mine = await client.publish(channel, { n: 21 });
        assert.equal(mine.offset, 21);
        await waitFor('21 publications', () => w.pubs.length === 21);
        assert.deepEqual(w.pubs.map((p) => (p.data as { n: number }).n), range(1, 21));
        assert.deepEqual(offsetsOf(w.pubs), range(1, 21));

        const sub = client.getSubscription(channel)!;
        const history = await sub.history({ limit: 5 });
        assert.deepEqual(history.publications.map((p) => p.offset), range(17, 21));
        assert.equal(history.position.offset, 21);
        const presence = await sub.presence();
        const users = Object.values(presence.clients).map((c) => c.user);
        // a poller counts too: its polls carry the transport's lease
        assert.deepEqual(users, [`user-${transport}`]);
        const refused = await client.publish('news', 'x').then(() => undefined, (e: { code: number }) => e.code);
        assert.equal(refused, 103);
        client.disconnect();
      });

      test('a network drop: reconnects and recovers what was missed, exactly once', async () => {
        const client = track(makeClient(proxy.wsUrl, transport));
        const channel = `drop-${transport}`;
        const w = watch(client, channel);
        await waitFor('subscribed', () => w.subscribed.length === 1);
        const loop = publishLoop(t, channel, 3);
        for (let i = 0; i < 3; i++) {
          await sleep(300);
          proxy.drop();
        }
        await sleep(300);
        const acked = await loop.stop();
        const last = acked.at(-1)?.offset ?? 0;
        await waitFor(`offset ${last}`, () => (w.pubs.at(-1)?.offset ?? 0) >= last);
        await sleep(100);
        assert.deepEqual(offsetsOf(w.pubs), range(1, last));
        assert.ok(w.subscribed.length >= 2, `resubscribed (${w.subscribed.length})`);
        assert.ok(w.subscribed.slice(1).every((e) => e.recovering && e.recovered), JSON.stringify(w.subscribed));
        assert.ok(w.connected.every((e) => e.transport === transport));
        client.disconnect();
      });

      test('a refused token stops the client with error 101', async () => {
        const client = track(makeClient(t.url, transport, { token: 'not-a-jwt' }));
        const errors: number[] = [];
        const stopped: number[] = [];
        client.on('error', (e) => errors.push(e.code));
        client.on('disconnected', (e) => stopped.push(e.code));
        client.connect();
        await waitFor('disconnected', () => stopped.length === 1);
        assert.deepEqual(errors, [101]);
      });
    });
  }
});
