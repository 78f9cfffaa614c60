/**
 * Server-side subscriptions across two nodes on one Redis: `POST /api/subscribe` reaches every
 * connection of the user (SDK over WebSocket on one node, SDK over SSE on the other), survives a
 * reconnect with recovery, ends with `POST /api/unsubscribe`; the JWT `channels` claim subscribes
 * at connect; other users are untouched.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EventSource } from 'eventsource';
import SockJS from 'sockjs-client';
import WebSocket from 'ws';
import { Client, type Publication, type ServerSubscribedEvent, type ServerUnsubscribedEvent } from '@tidings/client/fallback';
import type { ServerMessage } from '@tidings/protocol';
import { DropProxy, waitFor } from '../client/helpers.js';
import { Inbox, stompJs } from '../stomp/helpers.js';
import { RedisProcess, redisAvailability } from '../helpers/redis.js';
import { configFile, makeToken, startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { WsClient } from '../helpers/ws-client.js';

const availability = redisAvailability();

/** An SDK client that records its server-side subscription events. */
function recorder(client: Client): { pubs: Publication[]; subscribed: ServerSubscribedEvent[]; unsubscribed: ServerUnsubscribedEvent[] } {
  const r = { pubs: [] as Publication[], subscribed: [] as ServerSubscribedEvent[], unsubscribed: [] as ServerUnsubscribedEvent[] };
  client.on('publication', (p) => r.pubs.push(p));
  client.on('subscribed', (e) => r.subscribed.push(e));
  client.on('unsubscribed', (e) => r.unsubscribed.push(e));
  return r;
}

const dataOf = (pubs: Publication[], channel: string): unknown[] => pubs.filter((p) => p.channel === channel).map((p) => p.data);

describe('server-side subscriptions on two nodes sharing Redis', availability, () => {
  let redis: RedisProcess;
  let nodes: TidingsProcess[];
  const clients: Client[] = [];

  before(async () => {
    redis = await RedisProcess.start();
    // `team:` channels are owner-only: alice may not subscribe to `team:blue` herself
    const config = configFile({ namespaces: { team: { subscribe: 'owner' } } });
    nodes = await Promise.all([0, 1].map(() => startTidings({
      args: ['--engine', 'redis', '--redis-url', redis.url, '--history-size', '100', '--config', config],
    })));
  });
  after(async () => {
    for (const c of clients) c.disconnect();
    await Promise.all(nodes.map((n) => n.stop()));
    await redis.kill();
  });

  it('POST /api/subscribe reaches both of a user\'s connections on two nodes, recovers after a reconnect, and /api/unsubscribe ends it', async () => {
    const [n0, n1] = nodes as [TidingsProcess, TidingsProcess];
    const wsProxy = await DropProxy.start(n0.port);
    const sseProxy = await DropProxy.start(n1.port);
    const token = await makeToken('alice');
    const ws = new Client(wsProxy.wsUrl, { WebSocket, transports: ['websocket'], token, minReconnectDelay: 50, maxReconnectDelay: 200 });
    const sse = new Client(`http://127.0.0.1:${sseProxy.port}`, { EventSource, transports: ['sse'], token, minReconnectDelay: 50, maxReconnectDelay: 200 });
    clients.push(ws, sse);
    const got = [recorder(ws), recorder(sse)];
    const bob = await WsClient.connect(n1.wsUrl, await makeToken('bob'));
    for (const c of [ws, sse]) c.connect();
    await waitFor('both connected', () => ws.state === 'connected' && sse.state === 'connected');

    // alice cannot subscribe herself: the namespace is owner-only
    await assert.rejects(new Promise((_, reject) => ws.subscribe('team:blue', { error: reject })), { code: 103 });

    const answer = await n1.api('POST', '/api/subscribe', { user: 'alice', channel: 'team:blue' });
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, { remembered: true, sent: 'cluster' });
    await waitFor('both subscribed', () => got.every((g) => g.subscribed.length === 1));
    for (const g of got) assert.deepEqual({ ...g.subscribed[0], position: undefined }, { channel: 'team:blue', server: true, recovered: false, position: undefined });
    assert.deepEqual(ws.serverSubscriptions, ['team:blue']);

    await n0.publish('team:blue', 'p1');
    await waitFor('p1 on both', () => got.every((g) => g.pubs.length === 1));
    for (const g of got) assert.deepEqual(dataOf(g.pubs, 'team:blue'), ['p1']);

    // both connections drop; what is published meanwhile arrives after the reconnect
    wsProxy.block();
    sseProxy.block();
    await waitFor('both reconnecting', () => ws.state === 'connecting' && sse.state === 'connecting');
    await n0.publish('team:blue', 'p2');
    await n1.publish('team:blue', 'p3');
    wsProxy.allow();
    sseProxy.allow();
    await waitFor('p2, p3 on both', () => got.every((g) => g.pubs.length === 3), 20_000);
    for (const g of got) {
      assert.deepEqual(dataOf(g.pubs, 'team:blue'), ['p1', 'p2', 'p3']);
      assert.equal(g.subscribed.length, 2);
      assert.equal(g.subscribed[1]!.recovered, true);
    }

    // bob, on node 1 all along, was never subscribed
    await bob.command('ping');
    assert.equal(bob.pushes('subscribed').length, 0);
    assert.equal(bob.pushes('publication').length, 0);

    const off = await n0.api('POST', '/api/unsubscribe', { user: 'alice', channel: 'team:blue' });
    assert.equal(off.status, 200);
    await waitFor('both unsubscribed', () => got.every((g) => g.unsubscribed.length === 1));
    for (const g of got) assert.deepEqual(g.unsubscribed[0], { channel: 'team:blue', server: true, code: 2000, reason: 'unsubscribed by the server' });
    await n0.publish('team:blue', 'p4');
    // forgotten: a reconnect does not bring it back
    wsProxy.drop();
    await waitFor('ws reconnected', () => ws.state === 'connecting');
    await waitFor('ws connected', () => ws.state === 'connected');
    await ws.presence('team:blue').catch(() => undefined); // a round trip after the reconnect's server-side subscribing
    await n1.publish('team:blue', 'p5');
    await new Promise((r) => setTimeout(r, 300));
    for (const g of got) assert.deepEqual(dataOf(g.pubs, 'team:blue'), ['p1', 'p2', 'p3']);
    assert.equal(got[0]!.subscribed.length, 2);
    bob.close();
    await wsProxy.close();
    await sseProxy.close();
  });

  it('the JWT `subs` claim subscribes at connect, on WebSocket and SSE; `channels` alone does not; a client subscribe takes it over', async () => {
    const [n0, n1] = nodes as [TidingsProcess, TidingsProcess];
    // `channels` keeps its meaning, a grant: it subscribes nothing
    const granted = await WsClient.connect(n0.wsUrl, await makeToken('carol', { channels: ['team:red'] }));
    const token = await makeToken('carol', { channels: ['team:red'], subs: ['team:red'] });
    const c = await WsClient.connect(n0.wsUrl, token);
    await c.until(() => c.pushes('subscribed').length === 1, 5000, 'subscribed push');
    assert.deepEqual({ ...c.pushes('subscribed')[0], position: undefined }, { type: 'subscribed', channel: 'team:red', recovered: false, server: true, position: undefined });

    const got: ServerMessage[] = [];
    const es = new EventSource(`${n1.url}/sse?token=${token}`);
    es.onmessage = (e) => got.push(JSON.parse(e.data as string) as ServerMessage);
    await waitFor('SSE subscribed', () => got.some((m) => m.type === 'subscribed'));
    const pushed = got.find((m) => m.type === 'subscribed');
    assert.ok(pushed?.type === 'subscribed' && pushed.server === true && pushed.channel === 'team:red', JSON.stringify(pushed));

    await n1.publish('team:red', 'r1');
    await c.until(() => c.pushes('publication').length === 1, 5000, 'publication');
    await waitFor('SSE publication', () => got.some((m) => m.type === 'publication'));
    assert.deepEqual(c.pushes('publication').map((p) => p.data), ['r1']);

    assert.equal(granted.pushes('subscribed').length, 0);
    assert.equal(granted.pushes('publication').length, 0);
    granted.close();
    // the `channels` claim grants the channel: the client's own subscribe works, and takes it over
    const reply = await c.command<{ position: { offset: number } }>('subscribe', { channel: 'team:red' });
    assert.equal(reply.position.offset, 1);
    await n0.publish('team:red', 'r2');
    await c.until(() => c.pushes('publication').length === 2, 5000, 'second publication');
    assert.deepEqual(c.pushes('publication').map((p) => p.data), ['r1', 'r2']);
    c.close();
    es.close();
  });

  it('STOMP: server-side subscriptions arrive on the client\'s /user/subscriptions subscription, as /topic/<channel> MESSAGEs', async () => {
    const [n0, n1] = nodes as [TidingsProcess, TidingsProcess];
    const token = await makeToken('dave', { subs: ['team:green'] });
    const plain = await stompJs(n1.wsUrl, { connectHeaders: { passcode: token } });
    const { client } = await stompJs(n0.wsUrl, { connectHeaders: { passcode: token } });
    const unhandled: string[] = [];
    plain.client.onUnhandledMessage = (m) => unhandled.push(m.body);
    const inbox = new Inbox();
    const receipt = new Promise<string | undefined>((resolve) => client.watchForReceipt('r1', (f) => resolve(f.headers['x-channels'])));
    client.subscribe('/user/subscriptions', inbox.push, { id: 'mine', receipt: 'r1' });
    assert.equal(await receipt, '1');
    const answer = await n1.api('POST', '/api/subscribe', { user: 'dave', channel: 'team:blue' });
    assert.equal(answer.status, 200);
    await new Promise((r) => setTimeout(r, 200));
    await n1.publish('team:green', 'g1');
    await n0.publish('team:blue', 'b1');
    const got = await inbox.until(2);
    assert.deepEqual(got.map((m) => [m.headers.subscription, m.headers.destination, m.body]),
      [['mine', '/topic/team:green', '"g1"'], ['mine', '/topic/team:blue', '"b1"']]);
    // API unsubscribe drops it quietly: the connection stays, other channels keep coming
    await n0.api('POST', '/api/unsubscribe', { user: 'dave', channel: 'team:blue' });
    await new Promise((r) => setTimeout(r, 200));
    await n0.publish('team:blue', 'b2');
    await n0.publish('team:green', 'g2');
    await inbox.until(3);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(inbox.bodies(), ['"g1"', '"b1"', '"g2"']);
    assert.equal(client.connected, true);
    // a STOMP connection that did not SUBSCRIBE to /user/subscriptions gets nothing unasked
    assert.deepEqual(unhandled, []);
    await client.deactivate();
    await plain.client.deactivate();
  });

  it('/poll: an authenticated poll carries the user\'s server-side subscriptions, and one ended is dropped with `unsubscribed`', async () => {
    const [n0, n1] = nodes as [TidingsProcess, TidingsProcess];
    const headers = { authorization: `Bearer ${await makeToken('erin')}` };
    const poll = async (node: TidingsProcess, query: string): Promise<{ messages: ServerMessage[]; cursor: string }> => {
      const res = await fetch(`${node.url}/poll?${query}`, { headers });
      assert.equal(res.status, 200, await res.clone().text());
      return (await res.json()) as { messages: ServerMessage[]; cursor: string };
    };
    assert.equal((await n0.api('POST', '/api/subscribe', { user: 'erin', channel: 'team:blue' })).status, 200);
    const first = await poll(n0, 'wait=0');
    const pushed = first.messages.find((m) => m.type === 'subscribed');
    assert.ok(pushed?.type === 'subscribed' && pushed.server === true && pushed.channel === 'team:blue', JSON.stringify(first));
    await n1.publish('team:blue', 'e1');
    const second = await poll(n1, `wait=5&cursor=${encodeURIComponent(first.cursor)}`);
    assert.deepEqual(second.messages.flatMap((m) => (m.type === 'publication' ? [m.data] : [])), ['e1']);
    // without a token the same cursor is refused: the server-side subscription is erin's, not the cursor's
    const anonymous = await fetch(`${n0.url}/poll?wait=0&cursor=${encodeURIComponent(second.cursor)}`);
    assert.equal(anonymous.status, 403);
    assert.equal((await n0.api('POST', '/api/unsubscribe', { user: 'erin', channel: 'team:blue' })).status, 200);
    const third = await poll(n0, `wait=5&cursor=${encodeURIComponent(second.cursor)}`);
    assert.deepEqual(third.messages, [{ type: 'unsubscribed', channel: 'team:blue', code: 2000, reason: 'not subscribed any more', server: true }]);
    assert.equal(third.cursor, '');
  });

  it('SockJS (JSON protocol): `POST /api/subscribe` reaches the session, with `connect.subs` resuming it on a new session', async () => {
    const [n0, n1] = nodes as [TidingsProcess, TidingsProcess];
    const token = await makeToken('frank');
    const open = async (node: TidingsProcess, subs?: Record<string, { offset: number; epoch: string }>): Promise<{ sock: WebSocket; messages: ServerMessage[] }> => {
      const sock = new SockJS(`${node.url}/sockjs?token=${token}`, null, { transports: ['xhr-streaming'] }) as unknown as WebSocket;
      const messages: ServerMessage[] = [];
      sock.onmessage = (e) => {
        for (const line of String(e.data).split('\n')) messages.push(JSON.parse(line) as ServerMessage);
      };
      await new Promise<void>((resolve) => { sock.onopen = () => resolve(); });
      sock.send(JSON.stringify({ id: 1, type: 'connect', ...(subs ? { subs } : {}) }));
      await waitFor('connect reply', () => messages.some((m) => m.type === 'reply'));
      return { sock, messages };
    };
    const first = await open(n0);
    assert.equal((await n1.api('POST', '/api/subscribe', { user: 'frank', channel: 'team:blue' })).status, 200);
    await waitFor('subscribed', () => first.messages.some((m) => m.type === 'subscribed'));
    const top = await n1.publish('team:blue', 'f1');
    await waitFor('f1', () => first.messages.some((m) => m.type === 'publication'));
    first.sock.close();
    await n1.publish('team:blue', 'f2');
    const second = await open(n1, { 'team:blue': top });
    await waitFor('f2 replayed', () => second.messages.some((m) => m.type === 'publication'));
    const sub = second.messages.find((m) => m.type === 'subscribed');
    assert.ok(sub?.type === 'subscribed' && sub.server === true && sub.recovered === true, JSON.stringify(sub));
    assert.deepEqual(second.messages.flatMap((m) => (m.type === 'publication' ? [m.data] : [])), ['f2']);
    second.sock.close();
    await n0.api('POST', '/api/unsubscribe', { user: 'frank', channel: 'team:blue' });
  });

  it('SDK over long polling: follows a server-side subscription while it polls, and resumes it after a reconnect', async () => {
    const [n0, n1] = nodes as [TidingsProcess, TidingsProcess];
    const proxy = await DropProxy.start(n0.port);
    const client = new Client(`http://127.0.0.1:${proxy.port}`, { transports: ['poll'], pollWait: 2, token: await makeToken('gina'), minReconnectDelay: 50, maxReconnectDelay: 200 });
    clients.push(client);
    const got = recorder(client);
    const own: unknown[] = [];
    client.subscribe('lobby', { publication: (p) => own.push(p.data) }); // the poll loop runs for a channel of its own
    client.connect();
    await waitFor('connected', () => client.state === 'connected');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await n1.api('POST', '/api/subscribe', { user: 'gina', channel: 'team:blue' })).status, 200);
    await n1.publish('lobby', 'wake'); // answers the waiting poll, so the next one carries the new subscription
    await waitFor('subscribed', () => got.subscribed.length === 1, 10_000);
    await n1.publish('team:blue', 'g1');
    await waitFor('g1', () => got.pubs.length === 1, 10_000);
    proxy.block();
    await waitFor('reconnecting', () => client.state === 'connecting', 10_000);
    await n1.publish('team:blue', 'g2');
    proxy.allow();
    await waitFor('g2 after the reconnect', () => got.pubs.length === 2, 15_000);
    assert.deepEqual(dataOf(got.pubs, 'team:blue'), ['g1', 'g2']);
    assert.deepEqual(own, ['wake']);
    client.disconnect();
    await proxy.close();
    await n0.api('POST', '/api/unsubscribe', { user: 'gina', channel: 'team:blue' });
  });

  it('refuses a channel in an unknown namespace or with a bad name, and a missing user', async () => {
    const n0 = nodes[0]!;
    const unknown = await n0.api('POST', '/api/subscribe', { user: 'alice', channel: 'nowhere:x' });
    assert.equal(unknown.status, 404);
    assert.equal((unknown.body as { error: { code: number } }).error.code, 102);
    const bad = await n0.api('POST', '/api/subscribe', { user: 'alice', channel: 'bad channel' });
    assert.equal((bad.body as { error: { code: number } }).error.code, 111);
    const noUser = await n0.api('POST', '/api/subscribe', { channel: 'team:x' });
    assert.equal((noUser.body as { error: { code: number } }).error.code, 107);
    const since = await n0.api('POST', '/api/subscribe', { user: 'alice', channel: 'team:x', since: { offset: -1, epoch: 'e' } });
    assert.equal((since.body as { error: { code: number } }).error.code, 107);
  });
});
