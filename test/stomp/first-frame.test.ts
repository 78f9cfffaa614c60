import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, Stomp, type IMessage } from '@stomp/stompjs';
import WebSocket from 'ws';
import type { PublishResult, SubscribeResult } from '@tidings/protocol';
import { WsClient } from '../helpers/ws-client.js';
import { Inbox, RawStomp, header, startStompTidings, text, type StompTidings } from './helpers.js';

/** A `ws` WebSocket that offered no subprotocol, recording every message as text. */
async function bareSocket(url: string): Promise<{ ws: WebSocket; got: string[]; next(n: number): Promise<string[]> }> {
  const ws = new WebSocket(url);
  const got: string[] = [];
  ws.on('message', (d: Buffer) => got.push(d.toString('utf8')));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  assert.equal(ws.protocol, '', 'no subprotocol was agreed');
  const next = async (n: number): Promise<string[]> => {
    const deadline = Date.now() + 5000;
    while (got.length < n) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${n} messages (have ${JSON.stringify(got)})`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return got;
  };
  return { ws, got, next };
}

describe('/ws without a subprotocol: a first STOMP CONNECT makes it a STOMP connection', () => {
  let s: StompTidings;

  before(async () => {
    s = await startStompTidings();
  });
  after(async () => {
    await s.t.stop();
  });

  it('serves Stomp.over(new WebSocket(url)): stompjs with no protocols argument connects, subscribes, receives and SENDs', async () => {
    const url = s.t.wsUrl;
    const client = new Client({ webSocketFactory: () => new WebSocket(url), reconnectDelay: 0, heartbeatIncoming: 0, heartbeatOutgoing: 0 });
    const connected = new Promise<Record<string, string>>((resolve, reject) => {
      client.onConnect = (frame) => resolve(frame.headers);
      client.onStompError = (frame) => reject(new Error(frame.headers.message ?? 'ERROR'));
      client.onWebSocketClose = (evt: { code: number }) => reject(new Error(`closed ${evt.code}`));
    });
    client.activate();
    const headers = await connected;
    assert.equal(headers.version, '1.2', 'negotiated from accept-version as with v12.stomp');
    assert.equal(headers.server, 'tidings/0.1.0');

    const inbox = new Inbox();
    const subscribed = new Promise<void>((resolve) => client.watchForReceipt('sub', () => resolve()));
    client.subscribe('/topic/news', inbox.push, { receipt: 'sub' });
    await subscribed;
    const pub = await s.t.publish('news', { title: 'bare' });
    const [m] = await inbox.until(1);
    assert.deepEqual(JSON.parse(m!.body), { title: 'bare' });
    assert.equal(m!.headers['x-offset'], String(pub.offset));

    const json = await WsClient.connect(url);
    await json.command<SubscribeResult>('subscribe', { channel: 'news' });
    client.publish({ destination: '/topic/news', body: JSON.stringify({ from: 'stomp' }), headers: { 'content-type': 'application/json' } });
    await json.until(() => json.pushes('publication').length === 1);
    assert.deepEqual(json.pushes('publication')[0]!.data, { from: 'stomp' });
    const back: IMessage[] = await inbox.until(2);
    assert.equal(back[1]!.body, '{"from":"stomp"}');
    json.close();
    await client.deactivate();
  });

  it('serves the literal Stomp.over(new WebSocket(url)) (stompjs compat API)', { timeout: 10_000 }, async () => {
    const client = Stomp.over(new WebSocket(s.t.wsUrl));
    client.debug = () => {};
    client.heartbeat = { incoming: 0, outgoing: 0 };
    client.reconnect_delay = 0;
    const version = await new Promise<string | undefined>((resolve, reject) => {
      client.onWebSocketClose = (evt: { code: number }) => reject(new Error(`closed ${evt.code}`));
      client.connect({}, (frame: { headers: Record<string, string> }) => resolve(frame.headers.version), (err: unknown) => reject(new Error(String(err))));
    });
    assert.equal(version, '1.2');
    const got = new Promise<string>((resolve) => client.subscribe('/topic/compat', (m) => resolve(m.body), { receipt: 'c' }));
    await new Promise<void>((resolve) => client.watchForReceipt('c', () => resolve()));
    await s.t.publish('compat', 'over');
    assert.equal(await got, '"over"');
    await client.deactivate();
  });

  it('serves a raw CONNECT (LF) or STOMP (CRLF) frame as STOMP, negotiating any version', async () => {
    const raw = await RawStomp.ws(s.t.wsUrl, null);
    const connected = await raw.connect([['accept-version', '1.0,1.1']]);
    assert.equal(header(connected, 'version'), '1.1');
    raw.frame('SUBSCRIBE', [['destination', '/topic/raw'], ['id', 's1'], ['receipt', 'r1']], '', '1.1');
    await raw.next('RECEIPT');
    await s.t.publish('raw', 'hello');
    assert.equal(text(await raw.next('MESSAGE')), '"hello"');
    raw.end();

    const crlf = await RawStomp.ws(s.t.wsUrl, null);
    crlf.send('STOMP\r\naccept-version:1.2\r\nhost:localhost\r\n\r\n\0');
    const c2 = await crlf.next('CONNECTED');
    assert.equal(header(c2, 'version'), '1.2');
    crlf.end();
  });

  it('keeps a JSON-protocol client without subprotocol on the JSON protocol', async () => {
    const json = await WsClient.connect(s.t.wsUrl);
    await json.command<SubscribeResult>('subscribe', { channel: 'plain' });
    await json.command<PublishResult>('publish', { channel: 'plain', data: { ok: true } });
    await json.until(() => json.pushes('publication').length === 1);
    assert.deepEqual(json.pushes('publication')[0]!.data, { ok: true });
    json.close();
  });

  it('does not take CONNECTX for STOMP, nor a CONNECT frame after a first JSON message', async () => {
    const x = await bareSocket(s.t.wsUrl);
    x.ws.send('CONNECTX\naccept-version:1.2\n\n\0');
    const [reply] = await x.next(1);
    assert.ok(!reply!.startsWith('CONNECTED'));
    assert.equal((JSON.parse(reply!) as { type: string }).type, 'disconnect', 'a bad JSON-protocol message, not a STOMP frame');
    x.ws.close();

    const y = await bareSocket(s.t.wsUrl);
    y.ws.send(JSON.stringify({ type: 'connect', id: 1 }));
    await y.next(1);
    assert.equal((JSON.parse(y.got[0]!) as { type: string }).type, 'reply');
    y.ws.send('CONNECT\naccept-version:1.2\nhost:localhost\n\n\0');
    const got = await y.next(2);
    assert.ok(!got[1]!.startsWith('CONNECTED'), 'only the first message can hand over to STOMP');
    assert.equal((JSON.parse(got[1]!) as { type: string }).type, 'disconnect', 'a bad JSON-protocol message');
    y.ws.close();
  });

  it('leaves a `/ws?connect=1` session on the JSON protocol', async () => {
    const z = await bareSocket(`${s.t.wsUrl}?connect=1`);
    await z.next(1);
    assert.equal((JSON.parse(z.got[0]!) as { type: string }).type, 'connected');
    z.ws.send('CONNECT\naccept-version:1.2\nhost:localhost\n\n\0');
    const got = await z.next(2);
    assert.ok(!got[1]!.startsWith('CONNECTED'));
    assert.equal((JSON.parse(got[1]!) as { type: string }).type, 'disconnect', 'a bad JSON-protocol message');
    z.ws.close();
  });
});
