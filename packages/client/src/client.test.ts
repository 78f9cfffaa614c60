import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ServerMessage } from '@tidings/protocol';
import { Client, type ClientOptions } from './client.js';
import { UnauthorizedError } from './errors.js';
import type { Publication } from './index.js';
import type { Transport, TransportFactory, TransportHandlers } from './transports/transport.js';

type Sent = { type: string; id: number } & Record<string, unknown>;

class FakeConn implements Transport {
  readonly sent: Sent[] = [];
  closedWith: { code: number | undefined; reason: string | undefined } | undefined;
  constructor(private readonly handlers: TransportHandlers) {}
  send(frame: string): void {
    for (const line of frame.split('\n')) this.sent.push(JSON.parse(line) as Sent);
  }
  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason };
  }
  open(): void {
    this.handlers.onOpen();
  }
  push(...messages: ServerMessage[]): void {
    this.handlers.onFrame(messages.map((m) => JSON.stringify(m)).join('\n'));
  }
  drop(code = 1006, reason = ''): void {
    this.handlers.onClose(code, reason);
  }
  last(type: string): Sent {
    const found = this.sent.filter((c) => c.type === type).at(-1);
    assert.ok(found, `no ${type} command sent; sent: ${JSON.stringify(this.sent)}`);
    return found;
  }
  reply(type: string, result: unknown): void {
    this.push({ type: 'reply', id: this.last(type).id, result } as ServerMessage);
  }
  async accept(): Promise<void> {
    this.open();
    await tick();
    this.reply('connect', { client: 'c1', user: 'u1', version: '1' });
    await tick();
  }
}

class FakeServer implements TransportFactory {
  readonly name = 'fake';
  readonly conns: FakeConn[] = [];
  open(handlers: TransportHandlers): Transport {
    const c = new FakeConn(handlers);
    this.conns.push(c);
    return c;
  }
  get last(): FakeConn {
    const c = this.conns.at(-1);
    assert.ok(c, 'no transport opened');
    return c;
  }
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function setup(options: ClientOptions = {}): { client: Client; server: FakeServer; events: string[] } {
  const server = new FakeServer();
  const client = new Client('ws://unused', { transport: server, minReconnectDelay: 20, maxReconnectDelay: 40, pingInterval: 0, ...options });
  const events: string[] = [];
  client.on('connecting', (e) => events.push(`connecting ${e.code}`));
  client.on('connected', () => events.push('connected'));
  client.on('disconnected', (e) => events.push(`disconnected ${e.code}`));
  client.on('error', (e) => events.push(`error ${e.code}`));
  return { client, server, events };
}

function pub(offset: number, epoch = 'e1', channel = 'news'): ServerMessage {
  return { type: 'publication', channel, offset, epoch, data: { n: offset }, time: 0 };
}

test('disconnected → connecting → connected, with the token in connect', async () => {
  const { client, server, events } = setup({ token: 'tok' });
  assert.equal(client.state, 'disconnected');
  client.connect();
  assert.equal(client.state, 'connecting');
  await tick();
  server.last.open();
  await tick();
  assert.equal(server.last.last('connect').token, 'tok');
  server.last.reply('connect', { client: 'c1', user: 'u1', version: '1' });
  assert.equal(client.state, 'connected');
  client.disconnect();
  assert.equal(client.state, 'disconnected');
  assert.deepEqual(events, ['connecting 0', 'connected', 'disconnected 1000']);
  assert.equal(server.last.closedWith?.code, 1000);
});

test('callbacks from an earlier attempt are ignored', async () => {
  const { client, server, events } = setup();
  client.connect();
  await tick();
  const stale = server.last;
  client.disconnect();
  client.connect();
  await tick();
  assert.equal(server.conns.length, 2);
  stale.open();
  stale.push({ type: 'reply', id: 1, result: { client: 'old', user: 'u', version: '1' } }, { type: 'refresh_required', expiresIn: 1 });
  stale.drop(3000, 'late');
  await tick();
  assert.deepEqual(stale.sent, []);
  assert.equal(client.state, 'connecting');
  await server.last.accept();
  assert.equal(client.state, 'connected');
  assert.deepEqual(events, ['connecting 0', 'disconnected 1000', 'connecting 0', 'connected']);
  client.disconnect();
});

test('a getToken() that resolves after disconnect() opens nothing', async () => {
  let resolve: (t: string) => void = () => {};
  const { client, server } = setup({ getToken: () => new Promise((r) => { resolve = r; }) });
  client.connect();
  client.disconnect();
  resolve('late');
  await tick();
  assert.equal(server.conns.length, 0);
});

test('a dropped connection reconnects within the backoff window and resets it after connecting', async () => {
  const { client, server, events } = setup();
  client.connect();
  await tick();
  await server.last.accept();
  for (let round = 0; round < 3; round++) {
    const before = server.conns.length;
    const dropped = Date.now();
    server.last.drop(1006, 'gone');
    while (server.conns.length === before) await sleep(1);
    const waited = Date.now() - dropped;
    assert.ok(waited >= 19 && waited < 40 + 15, `reconnected after ${waited} ms`);
    await server.last.accept();
  }
  assert.deepEqual(events, ['connecting 0', 'connected', 'connecting 1006', 'connected', 'connecting 1006', 'connected', 'connecting 1006', 'connected']);
  client.disconnect();
});

test('a terminal close code stops the client; 3500 reports an unauthorized error', async () => {
  const { client, server, events } = setup();
  client.connect();
  await tick();
  await server.last.accept();
  server.last.push({ type: 'disconnect', code: 3500, reason: 'invalid token', reconnect: false });
  server.last.drop(3500, 'invalid token');
  await sleep(60);
  assert.equal(server.conns.length, 1);
  assert.equal(client.state, 'disconnected');
  assert.deepEqual(events, ['connecting 0', 'connected', 'error 101', 'disconnected 3500']);
});

test('a disconnect message saying reconnect:false wins over the transport close code', async () => {
  const { client, server, events } = setup();
  client.connect();
  await tick();
  await server.last.accept();
  server.last.push({ type: 'disconnect', code: 3502, reason: 'kicked', reconnect: false });
  server.last.drop(1006, '');
  assert.deepEqual(events, ['connecting 0', 'connected', 'disconnected 3502']);
});

test('a connect refused as unauthorized stops the client', async () => {
  const { client, server, events } = setup({ token: 'bad' });
  client.connect();
  await tick();
  server.last.open();
  await tick();
  server.last.push({ type: 'error', id: server.last.last('connect').id, error: { code: 101, message: 'bad token' } });
  await sleep(60);
  assert.equal(server.conns.length, 1);
  assert.deepEqual(events, ['connecting 0', 'error 101', 'disconnected 3500']);
});

test('3005 with getToken() reconnects with a new token; with a fixed token it stops', async () => {
  let n = 0;
  const { client, server } = setup({ getToken: async () => `t${++n}` });
  client.connect();
  await tick();
  await server.last.accept();
  server.last.drop(3005, 'token expired');
  while (server.conns.length < 2) await sleep(1);
  server.last.open();
  await tick();
  assert.equal(server.last.last('connect').token, 't2');
  client.disconnect();

  const fixed = setup({ token: 'fixed' });
  fixed.client.connect();
  await tick();
  await fixed.server.last.accept();
  fixed.server.last.drop(3005, 'token expired');
  assert.deepEqual(fixed.events, ['connecting 0', 'connected', 'error 109', 'disconnected 3005']);
});

test('getToken() throwing UnauthorizedError stops; another error retries', async () => {
  const refused = setup({ getToken: async () => { throw new UnauthorizedError('no session'); } });
  refused.client.connect();
  await sleep(30);
  assert.equal(refused.server.conns.length, 0);
  assert.deepEqual(refused.events, ['connecting 0', 'error 101', 'disconnected 3500']);

  let calls = 0;
  const flaky = setup({ getToken: async () => { if (++calls === 1) throw new Error('backend down'); return 'ok'; } });
  flaky.client.connect();
  while (flaky.server.conns.length === 0) await sleep(1);
  await flaky.server.last.accept();
  assert.deepEqual(flaky.events, ['connecting 0', 'error 4', 'connected']);
  flaky.client.disconnect();
});

test('refresh_required is answered with a refresh command without reconnecting', async () => {
  let n = 0;
  const { client, server, events } = setup({ getToken: async () => `t${++n}` });
  client.connect();
  await tick();
  await server.last.accept();
  server.last.push({ type: 'refresh_required', expiresIn: 5 });
  await tick();
  await tick();
  assert.equal(server.last.last('refresh').token, 't2');
  server.last.reply('refresh', { expires: 123 });
  assert.equal(server.conns.length, 1);
  assert.deepEqual(events, ['connecting 0', 'connected']);
  client.disconnect();
});

test('subscriptions resubscribe with since, drop duplicates and report recovery', async () => {
  const { client, server } = setup();
  const got: number[] = [];
  const log: string[] = [];
  const sub = client.subscribe('news', {
    publication: (p: Publication) => got.push(p.offset),
    subscribed: (e) => log.push(`subscribed recovering=${e.recovering} recovered=${e.recovered}`),
    subscribing: () => log.push('subscribing'),
  });
  assert.equal(sub.state, 'subscribing');
  client.connect();
  await tick();
  await server.last.accept();
  assert.equal(server.last.last('subscribe').since, undefined);
  server.last.reply('subscribe', { position: { offset: 2, epoch: 'e1' }, recovered: false, publications: [] });
  assert.equal(sub.state, 'subscribed');
  server.last.push(pub(3), pub(3), pub(4), pub(2));
  assert.deepEqual(got, [3, 4]);

  server.last.drop(1006, 'network');
  assert.equal(sub.state, 'subscribing');
  while (server.conns.length < 2) await sleep(1);
  await server.last.accept();
  assert.deepEqual(server.last.last('subscribe').since, { offset: 4, epoch: 'e1' });
  server.last.reply('subscribe', { position: { offset: 6, epoch: 'e1' }, recovered: true, publications: [pub(4), pub(5), pub(6)] });
  server.last.push(pub(6), pub(7));
  assert.deepEqual(got, [3, 4, 5, 6, 7]);

  server.last.drop(1006, 'network');
  while (server.conns.length < 3) await sleep(1);
  await server.last.accept();
  server.last.reply('subscribe', { position: { offset: 1, epoch: 'e2' }, recovered: false, publications: [] });
  server.last.push(pub(2, 'e2'));
  assert.deepEqual(got, [3, 4, 5, 6, 7, 2]);
  assert.deepEqual(sub.position, { offset: 2, epoch: 'e2' });
  assert.deepEqual(log, [
    'subscribed recovering=false recovered=false', 'subscribing', 'subscribed recovering=true recovered=true',
    'subscribing', 'subscribed recovering=true recovered=false',
  ]);
  client.disconnect();
});

test('a refused subscribe ends the subscription; unsubscribe() tells the server', async () => {
  const { client, server } = setup();
  client.connect();
  await tick();
  await server.last.accept();
  const denied = client.subscribe('secret');
  const ended: number[] = [];
  denied.on('unsubscribed', (e) => ended.push(e.code));
  await tick();
  server.last.push({ type: 'error', id: server.last.last('subscribe').id, error: { code: 103, message: 'permission denied' } });
  assert.equal(denied.state, 'unsubscribed');
  assert.deepEqual(ended, [103]);
  assert.equal(client.getSubscription('secret'), undefined);

  const sub = client.subscribe('news');
  await tick();
  server.last.reply('subscribe', { position: { offset: 0, epoch: 'e' }, recovered: false, publications: [] });
  sub.unsubscribe();
  await tick();
  assert.equal(server.last.last('unsubscribe').channel, 'news');
  assert.equal(sub.state, 'unsubscribed');
  assert.doesNotThrow(() => client.subscribe('news'));
  client.disconnect();
});

test('a reply without a result rejects with a TidingsError, not with undefined', async () => {
  const { client, server } = setup();
  client.connect();
  await tick();
  await server.last.accept();
  const published = client.publish('news', 1);
  await tick();
  server.last.push({ type: 'reply', id: server.last.last('publish').id } as ServerMessage);
  await assert.rejects(published, { name: 'TidingsError', code: 3, message: 'the reply to publish has no result' });
  client.disconnect();
});

test('commands wait for the connection, reject with the server code, and fail when disconnected', async () => {
  const { client, server } = setup();
  await assert.rejects(client.publish('news', 1), { code: 115 });
  client.connect();
  const published = client.publish('news', { a: 1 });
  await tick();
  await server.last.accept();
  server.last.reply('publish', { offset: 1, epoch: 'e' });
  assert.deepEqual(await published, { offset: 1, epoch: 'e' });

  const unknown = client.publish('news', { a: 2 }, { idempotencyKey: 'k1' });
  await tick();
  assert.equal(server.last.last('publish').idempotencyKey, 'k1');
  server.last.push({ type: 'error', id: server.last.last('publish').id, error: { code: 119, message: 'not confirmed', idempotencyKey: 'k1' } });
  await assert.rejects(unknown, { code: 119, idempotencyKey: 'k1' });

  const history = client.history('news', { limit: 5 });
  await tick();
  assert.equal(server.last.last('history').limit, 5);
  server.last.push({ type: 'error', id: server.last.last('history').id, error: { code: 108, message: 'history disabled' } });
  await assert.rejects(history, { code: 108 });

  const presence = client.presence('news');
  await tick();
  server.last.drop(1006, '');
  await assert.rejects(presence, { code: 2 });
  client.disconnect();
});

test('unsubscribed 2500–2999 resubscribes from the last position; 2000–2499 ends the subscription', async () => {
  const { client, server } = setup();
  const got: number[] = [];
  const log: string[] = [];
  const sub = client.subscribe('news', {
    publication: (p: Publication) => got.push(p.offset),
    subscribed: (e) => log.push(`subscribed ${e.recovering} ${e.recovered}`),
    subscribing: (e) => log.push(`subscribing ${e.reason}`),
    unsubscribed: (e) => log.push(`unsubscribed ${e.code}`),
  });
  client.connect();
  await tick();
  await server.last.accept();
  server.last.reply('subscribe', { position: { offset: 1, epoch: 'e1' }, recovered: false, publications: [] });
  server.last.push(pub(2), { type: 'unsubscribed', channel: 'news', code: 2500, reason: 'stream jumped' });
  await tick();
  assert.deepEqual(server.last.last('subscribe').since, { offset: 2, epoch: 'e1' });
  assert.equal(sub.state, 'subscribing');
  server.last.reply('subscribe', { position: { offset: 5, epoch: 'e2' }, recovered: false, publications: [] });
  server.last.push(pub(6, 'e2'));
  assert.equal(server.conns.length, 1, 'on the same connection');
  assert.deepEqual(got, [2, 6]);

  server.last.push({ type: 'unsubscribed', channel: 'news', code: 2000, reason: 'by the backend' });
  await tick();
  assert.equal(sub.state, 'unsubscribed');
  assert.equal(client.getSubscription('news'), undefined);
  assert.equal(server.last.sent.filter((c) => c.type === 'subscribe').length, 2);
  assert.deepEqual(log, ['subscribed false false', 'subscribing stream jumped', 'subscribed true false', 'unsubscribed 2000']);
  client.disconnect();
});
