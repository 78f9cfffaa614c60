import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Client, type ClientOptions } from './client.js';
import { TransportPicker } from './picker.js';
import type { Transport, TransportFactory, TransportHandlers } from './transports/transport.js';

type Behaviour = 'refuse' | 'hang' | 'accept';

/** A transport that refuses (1006 before opening), never opens, or accepts `connect`. */
class Fake implements TransportFactory {
  opened = 0;
  private live: TransportHandlers | undefined;
  constructor(readonly name: string, public behaviour: Behaviour) {}

  open(handlers: TransportHandlers): Transport {
    this.opened++;
    const behaviour = this.behaviour;
    this.live = handlers;
    setImmediate(() => {
      if (behaviour === 'refuse') handlers.onClose(1006, 'refused');
      if (behaviour === 'accept') handlers.onOpen();
    });
    return {
      send: (frame) => {
        for (const line of frame.split('\n')) {
          const c = JSON.parse(line) as { id: number; type: string };
          const result = c.type === 'connect' ? { client: 'c', user: '', version: '1' } : {};
          handlers.onFrame(JSON.stringify({ type: 'reply', id: c.id, result }));
        }
      },
      close: () => { this.live = undefined; },
    };
  }

  drop(): void {
    const h = this.live;
    this.live = undefined;
    h?.onClose(1006, 'network');
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function connected(client: Client): Promise<string> {
  return new Promise((resolve) => client.once('connected', (e) => resolve(e.transport)));
}

const clients: Client[] = [];
// a failed assertion skips a test's own disconnect; its reconnect loop must not keep the file from ending
after(() => { for (const c of clients) c.disconnect(); });

function make(transports: Fake[], options: ClientOptions = {}): Client {
  const client = new Client('ws://unused', { transports, minReconnectDelay: 10, maxReconnectDelay: 20, pingInterval: 0, ...options });
  clients.push(client);
  return client;
}

test('a refused transport hands over to the next at once; the one that worked is remembered for reconnects', async () => {
  const ws = new Fake('websocket', 'refuse');
  const stream = new Fake('stream', 'accept');
  const poll = new Fake('poll', 'accept');
  const client = make([ws, stream, poll], { minReconnectDelay: 2000, maxReconnectDelay: 4000 });
  const first = connected(client);
  const started = Date.now();
  client.connect();
  assert.equal(await first, 'stream');
  assert.ok(Date.now() - started < 1000, 'no backoff wait between transports');
  assert.deepEqual([ws.opened, stream.opened, poll.opened], [1, 1, 0]);

  ws.behaviour = 'accept';
  const second = connected(client);
  stream.drop();
  assert.equal(await second, 'stream', 'remembered: WebSocket is not retried yet');
  assert.ok(Date.now() - started < 6000);
  assert.equal(ws.opened, 1);
  client.disconnect();
});

test('WebSocket is tried again once the remembered choice expires', async () => {
  const ws = new Fake('websocket', 'refuse');
  const stream = new Fake('stream', 'accept');
  const client = make([ws, stream], { rememberTransport: 30 });
  const first = connected(client);
  client.connect();
  assert.equal(await first, 'stream');
  await sleep(40);
  ws.behaviour = 'accept';
  const second = connected(client);
  stream.drop();
  assert.equal(await second, 'websocket');
  client.disconnect();
});

test('a transport that does not open within openTimeout is skipped; the last one gets the full timeout', async () => {
  const ws = new Fake('websocket', 'hang');
  const poll = new Fake('poll', 'accept');
  const client = make([ws, poll], { openTimeout: 30, timeout: 1000 });
  const first = connected(client);
  const started = Date.now();
  client.connect();
  assert.equal(await first, 'poll');
  const took = Date.now() - started;
  assert.ok(took >= 25 && took < 500, `${took} ms`);
  client.disconnect();
});

test('when every transport fails the round waits for the backoff and starts again from the first', async () => {
  const ws = new Fake('websocket', 'refuse');
  const poll = new Fake('poll', 'refuse');
  const client = make([ws, poll]);
  client.connect();
  await sleep(100);
  assert.ok(ws.opened >= 2 && Math.abs(ws.opened - poll.opened) <= 1, `${ws.opened} ${poll.opened}`);
  assert.equal(client.state, 'connecting');
  poll.behaviour = 'accept';
  assert.equal(await connected(client), 'poll');
  client.disconnect();
});

test('TransportPicker remembers from the first success, not the latest', () => {
  const a = new Fake('a', 'accept');
  const b = new Fake('b', 'accept');
  const picker = new TransportPicker([a, b], 100);
  assert.equal(picker.beginRound(0), a);
  assert.equal(picker.next(), true);
  picker.succeeded(0);
  assert.equal(picker.beginRound(50), b);
  picker.succeeded(50);
  assert.equal(picker.beginRound(99), b);
  assert.equal(picker.beginRound(100), a);
  assert.equal(picker.next(), true);
  assert.equal(picker.next(), false);
  assert.throws(() => new TransportPicker([], 1));
});

test('a transport that cannot start (no WebSocket in Node) is reported and skipped', { skip: 'WebSocket' in globalThis && 'Node has a global WebSocket' }, async () => {
  const poll = new Fake('poll', 'accept');
  const client = new Client('ws://unused', { transports: ['websocket', poll], pingInterval: 0 });
  const errors: number[] = [];
  client.on('error', (e) => errors.push(e.code));
  const first = connected(client);
  client.connect();
  assert.equal(await first, 'poll');
  assert.deepEqual(errors, [3]);
  client.disconnect();
});
