import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect as tcpConnect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import type { ServerMessage } from '@tidings/protocol';
import { Bystander } from '../helpers/bystander.js';
import { makeToken, startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { until } from '../helpers/until.js';
import { WsClient } from '../helpers/ws-client.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/** Opens a `ws` client, recording messages from the very first one (before 'open' resolves). */
async function openRecording(url: string): Promise<{ ws: WebSocket; messages: ServerMessage[] }> {
  const ws = new WebSocket(url);
  const messages: ServerMessage[] = [];
  ws.on('message', (data: WebSocket.RawData) => {
    for (const line of data.toString().split('\n')) if (line !== '') messages.push(JSON.parse(line) as ServerMessage);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`handshake refused: ${res.statusCode}`)));
    ws.once('error', reject);
  });
  return { ws, messages };
}

/** An upgrade request with raw headers; resolves with the status and JSON body of a refusal. */
function refusedUpgrade(port: number, headers: Record<string, string>, method = 'GET'): Promise<{ status: number; headers: Record<string, unknown>; body: { error: { code: number } } }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/ws', method, headers });
    req.on('upgrade', () => reject(new Error('upgraded')));
    req.on('response', (res) => {
      let text = '';
      res.on('data', (c: Buffer) => { text += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) as { error: { code: number } } }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('WebSocket wire behavior against the real server', () => {
  let t: TidingsProcess;
  let port: number;
  let bystander: Bystander;

  before(async () => {
    t = await startTidings({ args: ['--max-message-size', '4096'] });
    port = Number(new URL(t.url).port);
    bystander = await Bystander.start(t);
  });
  after(async () => {
    await t.stop();
  });

  it('reads a command sent in fragments', async () => {
    const c = await WsClient.connect(t.wsUrl);
    const reply = new Promise((resolve) => c.ws.on('message', (d: WebSocket.RawData) => resolve(JSON.parse(d.toString()))));
    c.ws.send('{"id":7,', { fin: false });
    c.ws.send('"type":', { fin: false });
    c.ws.send('"ping"}', { fin: true });
    assert.deepEqual(await reply, { type: 'reply', id: 7, result: {} });
    c.close();
    await bystander.stillReceives();
  });

  it('answers a client ping with a pong carrying the same data', async () => {
    const c = await WsClient.connect(t.wsUrl);
    const pong = new Promise<string>((resolve) => c.ws.once('pong', (d: Buffer) => resolve(d.toString())));
    c.ws.ping('are you there');
    assert.equal(await pong, 'are you there');
    c.close();
  });

  it('echoes a client close, so the client sees its own code', async () => {
    const c = await WsClient.connect(t.wsUrl);
    const started = Date.now();
    c.ws.close(4000, 'bye');
    assert.equal(await c.closed(), 4000);
    assert.ok(Date.now() - started < 2000, 'closed by the echo, not by a timeout');
    await bystander.stillReceives();
  });

  it('closes with 1007 on a text message that is not UTF-8', async () => {
    const c = await WsClient.connect(t.wsUrl);
    c.ws.send(Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), { binary: false });
    assert.equal(await c.closed(), 1007);
    await bystander.stillReceives();
  });

  it('closes with 1002 on an unmasked client frame', async () => {
    const c = await WsClient.connect(t.wsUrl);
    c.ws.send('{"id":1,"type":"ping"}', { mask: false });
    assert.equal(await c.closed(), 1002);
    await bystander.stillReceives();
  });

  it('closes with 1009 on a fragmented message over the maximum size', async () => {
    const c = await WsClient.connect(t.wsUrl);
    c.ws.send('x'.repeat(3000), { fin: false });
    c.ws.send('x'.repeat(3000), { fin: true });
    assert.equal(await c.closed(), 1009);
    await bystander.stillReceives();
  });

  it('refuses handshakes that break RFC 6455 with 400, 405 or 426 and the JSON error body', async () => {
    const base = { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': KEY };
    const badKey = await refusedUpgrade(port, { ...base, 'sec-websocket-key': 'short' });
    assert.equal(badKey.status, 400);
    assert.equal(badKey.body.error.code, 107);
    const version = await refusedUpgrade(port, { ...base, 'sec-websocket-version': '8' });
    assert.equal(version.status, 426);
    assert.equal(version.headers['sec-websocket-version'], '13');
    assert.equal((await refusedUpgrade(port, base, 'POST')).status, 405);
    await bystander.stillReceives();
  });

  it('/ws?connect=1 sends the 101 and `connected` in one write, subscribed to the channel= parameters', async () => {
    const socket = tcpConnect(port, '127.0.0.1');
    const first = new Promise<string>((resolve) => socket.once('data', (d: Buffer) => resolve(d.toString('latin1'))));
    socket.write(`GET /ws?connect=1&channel=news HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
      `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${KEY}\r\n\r\n`);
    const bytes = await first;
    socket.destroy();
    assert.match(bytes, /^HTTP\/1\.1 101 /);
    const body = bytes.slice(bytes.indexOf('\r\n\r\n') + 4);
    assert.match(body, /"type":"connected"/, 'the first read holds the connected message');
    assert.match(body, /"type":"subscribed","channel":"news"/, 'and the subscribe result');

    const token = await makeToken('carol');
    const { ws, messages } = await openRecording(`${t.wsUrl}?connect=1&channel=news&token=${token}`);
    await until(() => messages.length > 0, 5000, 'the first message');
    assert.equal(messages[0]?.type, 'connected');
    assert.equal((messages[0] as Extract<ServerMessage, { type: 'connected' }>).user, 'carol');
    await until(() => messages.some((m) => m.type === 'subscribed' && m.channel === 'news'), 5000, 'subscribed to news');
    await bystander.stillReceives();
    await until(() => messages.some((m) => m.type === 'publication' && m.channel === 'news'), 5000, 'a publication on news');
    ws.close();
  });

  it('/ws?connect=1 refuses a bad token or a channel it may not read with an HTTP error', async () => {
    await assert.rejects(openRecording(`${t.wsUrl}?connect=1&token=garbage`), /handshake refused: 401/);
    await assert.rejects(openRecording(`${t.wsUrl}?connect=1&channel=${encodeURIComponent('has space')}`), /handshake refused: 400/);
    await bystander.stillReceives();
  });

  it('without connect=1 the client still sends connect', async () => {
    const { ws, messages } = await openRecording(t.wsUrl);
    ws.send(JSON.stringify({ id: 1, type: 'connect' }));
    await until(() => messages.length > 0, 5000, 'the connect reply');
    assert.equal(messages[0]?.type, 'reply');
    ws.close();
  });
});
