import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PublishResult, SubscribeResult } from '@tidings/protocol';
import { makeToken } from '../helpers/tidings.js';
import { WsClient } from '../helpers/ws-client.js';
import { Inbox, RawStomp, header, startStompTidings, stompJs, text, type StompTidings } from './helpers.js';

describe('STOMP over WebSocket with the stock @stomp/stompjs client', () => {
  let s: StompTidings;

  before(async () => {
    s = await startStompTidings();
  });
  after(async () => {
    await s.t.stop();
  });

  it('negotiates v12.stomp and STOMP 1.2, and says who the server is', async () => {
    const { client, connected } = await stompJs(s.t.wsUrl);
    assert.equal(connected.headers.version, '1.2');
    assert.equal(connected.headers.server, 'tidings/0.1.0');
    assert.ok(connected.headers.session);
    assert.equal(connected.headers['heart-beat'], '0,0');
    await client.deactivate();
  });

  it('delivers what POST /api/publish sends to `news` on /topic/news, with x-offset and x-epoch', async () => {
    const { client } = await stompJs(s.t.wsUrl);
    const inbox = new Inbox();
    const subscribed = new Promise<void>((resolve) => client.watchForReceipt('sub-news', () => resolve()));
    client.subscribe('/topic/news', inbox.push, { receipt: 'sub-news' });
    await subscribed;
    const pub = await s.t.publish('news', { title: 'hello', n: 1 });
    const [m] = await inbox.until(1);
    assert.equal(m!.headers.destination, '/topic/news');
    assert.equal(m!.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(m!.body), { title: 'hello', n: 1 });
    assert.equal(m!.headers['x-offset'], String(pub.offset));
    assert.equal(m!.headers['x-epoch'], pub.epoch);
    assert.ok(m!.headers['message-id']);
    await client.deactivate();
  });

  it('client-individual: ACKed messages stay acknowledged, a NACKed one is redelivered', async () => {
    const { client } = await stompJs(s.t.wsUrl);
    const inbox = new Inbox();
    const ready = new Promise<void>((resolve) => client.watchForReceipt('sub-ack', () => resolve()));
    client.subscribe('/topic/acks', inbox.push, { ack: 'client-individual', receipt: 'sub-ack' });
    await ready;
    await s.t.publish('acks', 'one');
    await s.t.publish('acks', 'two');
    const [one, two] = await inbox.until(2);
    assert.ok(one!.headers.ack, 'MESSAGE carries an ack id in 1.2');
    assert.notEqual(one!.headers.ack, two!.headers.ack);
    one!.ack();
    two!.nack();
    const again = (await inbox.until(3))[2]!;
    assert.equal(again.body, '"two"');
    assert.equal(again.headers.redelivered, 'true');
    assert.equal(again.headers['x-offset'], two!.headers['x-offset']);
    again.ack();
    const done = new Promise<void>((resolve) => client.watchForReceipt('after', () => resolve()));
    client.publish({ destination: '/topic/acks', body: 'three', headers: { receipt: 'after' } });
    await done;
    await inbox.until(4);
    assert.deepEqual(inbox.bodies().slice(3), ['three']);
    assert.equal(inbox.messages.length, 4, 'nothing redelivered after ACK');
    await client.deactivate();
  });

  it('answers DISCONNECT with its RECEIPT', async () => {
    const raw = await RawStomp.ws(s.t.wsUrl);
    await raw.connect();
    raw.frame('DISCONNECT', [['receipt', 'bye-1']]);
    const receipt = await raw.next('RECEIPT');
    assert.equal(header(receipt, 'receipt-id'), 'bye-1');
    await raw.until(() => raw.closed, 5000, 'close');
    assert.equal(raw.closeCode, 1000);

    const { client } = await stompJs(s.t.wsUrl);
    let closedCleanly = false;
    client.onWebSocketClose = () => { closedCleanly = true; };
    await client.deactivate();
    assert.ok(closedCleanly);
  });

  it('negotiates heart-beats both ways and keeps a beating stompjs client; drops a silent one', async () => {
    const { client, connected } = await stompJs(s.t.wsUrl, { heartbeatIncoming: 1000, heartbeatOutgoing: 1000 });
    assert.equal(connected.headers['heart-beat'], '1000,1000');
    let lost = false;
    client.onHeartbeatLost = () => { lost = true; };
    const inbox = new Inbox();
    client.subscribe('/topic/beat', inbox.push);

    const silent = await RawStomp.ws(s.t.wsUrl);
    const ok = await silent.connect([['heart-beat', '1000,1000']]);
    assert.equal(header(ok, 'heart-beat'), '1000,1000');
    const started = Date.now();
    await silent.until(() => silent.heartbeats > 0, 3000, 'a server heart-beat');
    const error = await silent.errorThenClose(6000);
    const took = Date.now() - started;
    assert.match(header(error, 'message') ?? '', /heart-beat/);
    assert.equal(silent.closeCode, 3002);
    assert.ok(took >= 1900 && took < 6000, `dropped after ${took} ms`);

    await s.t.publish('beat', 'still here');
    await inbox.until(1);
    assert.equal(lost, false);
    assert.ok(client.connected);
    await client.deactivate();
  });

  it('shares channels with the JSON protocol both ways', async () => {
    const json = await WsClient.connect(s.t.wsUrl);
    await json.command<SubscribeResult>('subscribe', { channel: 'chat:lobby' });
    const { client } = await stompJs(s.t.wsUrl);
    const inbox = new Inbox();
    const ready = new Promise<void>((resolve) => client.watchForReceipt('r', () => resolve()));
    client.subscribe('/topic/chat:lobby', inbox.push, { receipt: 'r' });
    await ready;

    await json.command<PublishResult>('publish', { channel: 'chat:lobby', data: { from: 'json', text: 'hi' } });
    const [fromJson] = await inbox.until(1);
    assert.deepEqual(JSON.parse(fromJson!.body), { from: 'json', text: 'hi' });
    assert.equal(fromJson!.headers['x-user'], '');

    client.publish({ destination: '/topic/chat:lobby', body: JSON.stringify({ from: 'stomp', text: 'hey' }), headers: { 'content-type': 'application/json' } });
    client.publish({ destination: '/topic/chat:lobby', body: 'plain words' });
    await json.until(() => json.pushes('publication').length === 3);
    const datas = json.pushes('publication').map((p) => p.data);
    assert.deepEqual(datas, [{ from: 'json', text: 'hi' }, { from: 'stomp', text: 'hey' }, { $stomp: { text: 'plain words' } }]);
    const back = await inbox.until(3);
    assert.equal(back[1]!.body, '{"from":"stomp","text":"hey"}');
    assert.equal(back[2]!.body, 'plain words');
    assert.equal(back[2]!.headers['content-type'], undefined);
    json.close();
    await client.deactivate();
  });

  it('carries non-UTF-8 bodies byte for byte, in binary WebSocket messages', async () => {
    const { client } = await stompJs(s.t.wsUrl);
    const inbox = new Inbox();
    const ready = new Promise<void>((resolve) => client.watchForReceipt('r', () => resolve()));
    client.subscribe('/topic/bytes', inbox.push, { receipt: 'r' });
    await ready;
    const bytes = new Uint8Array([0, 1, 2, 0xff, 0xfe, 0, 10, 13, 0x80]);
    client.publish({ destination: '/topic/bytes', binaryBody: bytes, headers: { 'content-type': 'application/octet-stream' } });
    const [m] = await inbox.until(1);
    assert.deepEqual([...m!.binaryBody], [...bytes]);
    assert.equal(m!.headers['content-type'], 'application/octet-stream');
    const raw = await RawStomp.ws(s.t.wsUrl);
    await raw.connect();
    raw.frame('SUBSCRIBE', [['id', '0'], ['destination', '/topic/bytes'], ['x-since-offset', String(Number(m!.headers['x-offset']) - 1)], ['x-epoch', m!.headers['x-epoch']!]]);
    const replayed = await raw.next('MESSAGE');
    assert.deepEqual([...replayed.body], [...bytes]);
    assert.ok(raw.binaryMessages > 0, 'a non-UTF-8 body goes out in a binary message');
    raw.end();
    await client.deactivate();
  });

  it('recovers missed publications with x-since-offset and x-epoch, and says so in the RECEIPT', async () => {
    const first = await s.t.publish('recover', { n: 0 });
    for (const n of [1, 2, 3]) await s.t.publish('recover', { n });
    const raw = await RawStomp.ws(s.t.wsUrl);
    await raw.connect();
    raw.frame('SUBSCRIBE', [['id', 's1'], ['destination', '/topic/recover'], ['x-since-offset', String(first.offset)], ['x-epoch', first.epoch], ['receipt', 'rec']]);
    const receipt = await raw.next('RECEIPT');
    assert.equal(header(receipt, 'x-recovered'), 'true');
    assert.equal(header(receipt, 'x-offset'), String(first.offset + 3));
    const replay = raw.frames.filter((f) => f.command === 'MESSAGE').map((f) => JSON.parse(text(f)) as { n: number });
    assert.deepEqual(replay, [{ n: 1 }, { n: 2 }, { n: 3 }]);
    raw.frame('SUBSCRIBE', [['id', 's2'], ['destination', '/topic/recover'], ['x-since-offset', '0'], ['x-epoch', 'wrong'], ['receipt', 'rec2']]);
    const lost = await raw.next('RECEIPT');
    assert.equal(header(lost, 'x-recovered'), 'false');
    raw.end();
  });

  it('authenticates with the handshake token, a passcode or an Authorization header, with JSON-protocol permissions', async () => {
    const token = await makeToken('alice');
    for (const how of ['query', 'passcode', 'authorization'] as const) {
      const url = how === 'query' ? `${s.t.wsUrl}?token=${token}` : s.t.wsUrl;
      const connectHeaders: Record<string, string> = how === 'passcode' ? { login: 'alice', passcode: token } : how === 'authorization' ? { Authorization: `Bearer ${token}` } : {};
      const { client, connected } = await stompJs(url, { connectHeaders });
      assert.equal(connected.headers['user-name'], 'alice', how);
      const inbox = new Inbox();
      const ready = new Promise<void>((resolve) => client.watchForReceipt('r', () => resolve()));
      client.subscribe('/user/queue/notifications', inbox.push, { receipt: 'r' });
      await ready;
      await s.t.publish('user:alice', { unread: 3 });
      const [m] = await inbox.until(1);
      assert.equal(m!.headers.destination, '/user/queue/notifications');
      assert.deepEqual(JSON.parse(m!.body), { unread: 3 });
      await client.deactivate();
    }

    const anon = await RawStomp.ws(s.t.wsUrl);
    await anon.connect();
    anon.frame('SUBSCRIBE', [['id', '1'], ['destination', '/topic/private:room']]);
    const denied = await anon.errorThenClose();
    assert.match(header(denied, 'message') ?? '', /authenticated/);
    assert.equal(header(denied, 'x-code'), '103');
    assert.equal(anon.closeCode, 3503);

    const bad = await RawStomp.ws(s.t.wsUrl);
    bad.frame('CONNECT', [['accept-version', '1.2'], ['passcode', 'not-a-jwt']]);
    const refused = await bad.errorThenClose();
    assert.match(header(refused, 'message') ?? '', /invalid token/);
    assert.equal(bad.closeCode, 3500);

    const ro = await RawStomp.ws(s.t.wsUrl);
    await ro.connect();
    ro.frame('SEND', [['destination', '/topic/readonly:x']], 'no');
    const noPublish = await ro.errorThenClose();
    assert.match(header(noPublish, 'message') ?? '', /may not publish/);
  });

  it('negotiates 1.1 and 1.0 through v11.stomp and v10.stomp', async () => {
    const v11 = await stompJs(s.t.wsUrl, { protocols: ['v11.stomp'] });
    assert.equal(v11.connected.headers.version, '1.1');
    const inbox = new Inbox();
    const ready = new Promise<void>((resolve) => v11.client.watchForReceipt('r', () => resolve()));
    v11.client.subscribe('/topic/v11', inbox.push, { ack: 'client', receipt: 'r' });
    await ready;
    await s.t.publish('v11', 'a');
    await s.t.publish('v11', 'b');
    const [, b] = await inbox.until(2);
    assert.equal(b!.headers.destination, '/topic/v11');
    b!.ack();
    await v11.client.deactivate();

    const v10 = await RawStomp.ws(s.t.wsUrl, 'v10.stomp');
    v10.frame('CONNECT', [['login', 'x']], '', '1.0');
    const ok = await v10.next('CONNECTED');
    assert.equal(header(ok, 'version'), '1.0');
    v10.frame('SUBSCRIBE', [['destination', '/topic/chat:v10']], '', '1.0');
    v10.frame('SEND', [['destination', '/topic/chat:v10'], ['receipt', 'sent']], 'ten', '1.0');
    await v10.next('RECEIPT');
    const m = await v10.next('MESSAGE');
    assert.equal(text(m), 'ten');
    assert.equal(header(m, 'destination'), '/topic/chat:v10');
    v10.end();
  });
});
