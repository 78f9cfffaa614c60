import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import { websocketTransport, type WebSocketConstructor } from './websocket.js';

const NodeWebSocket: WebSocketConstructor = WebSocket;

async function server(onMessage: (socket: WebSocket, text: string) => void): Promise<{ url: string; wss: WebSocketServer }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  wss.on('connection', (socket) => socket.on('message', (data) => onMessage(socket, String(data))));
  return { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ws`, wss };
}

test('carries text frames both ways and reports the close code once', async () => {
  const { url, wss } = await server((socket, text) => {
    socket.send(`echo ${text}`);
    socket.close(3004, 'bye');
  });
  const events: string[] = [];
  const closed = new Promise<void>((resolve) => {
    const t = websocketTransport(url, NodeWebSocket).open({
      onOpen: () => { events.push('open'); t.send('hello'); },
      onFrame: (frame) => events.push(frame),
      onClose: (code, reason) => { events.push(`close ${code} ${reason}`); resolve(); },
    });
  });
  await closed;
  assert.deepEqual(events, ['open', 'echo hello', 'close 3004 bye']);
  wss.close();
});

test('a refused connection reports 1006 without opening; close() silences the transport', async () => {
  const { url, wss } = await server(() => {});
  wss.close();
  const code = await new Promise<number>((resolve) => {
    websocketTransport(url, NodeWebSocket).open({
      onOpen: () => assert.fail('opened'),
      onFrame: () => assert.fail('frame'),
      onClose: (c) => resolve(c),
    });
  });
  assert.equal(code, 1006);

  const live = await server(() => {});
  let calls = 0;
  const t = websocketTransport(live.url, NodeWebSocket).open({ onOpen: () => calls++, onFrame: () => calls++, onClose: () => calls++ });
  t.close(1000, 'done');
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(calls, 0);
  live.wss.close();
});

test('without a WebSocket option or global, opening says what to do', () => {
  if ('WebSocket' in globalThis) return;
  assert.throws(() => websocketTransport('ws://x').open({ onOpen() {}, onFrame() {}, onClose() {} }), /WebSocket/);
});
