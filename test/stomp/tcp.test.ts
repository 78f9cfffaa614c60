import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SubscribeResult } from '@tidings/protocol';
import { makeToken } from '../helpers/tidings.js';
import { WsClient } from '../helpers/ws-client.js';
import { Inbox, RawStomp, StompitInbox, header, startStompTidings, stompJs, stompit, type StompTidings } from './helpers.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function receipt(client: { send: (h: Record<string, string>, o: { onReceipt: () => void; onError: (e: Error) => void }) => NodeJS.WritableStream }, headers: Record<string, string>, body: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const frame = client.send(headers, { onReceipt: resolve, onError: reject });
    frame.end(body);
  });
}

describe('STOMP over TCP with the independent stompit client', () => {
  let s: StompTidings;

  before(async () => {
    s = await startStompTidings();
  });
  after(async () => {
    await s.t.stop();
  });

  it('subscribes to /topic/news and receives what POST /api/publish sends to `news`', async () => {
    const client = await stompit(s.stompPort);
    const inbox = new StompitInbox();
    client.subscribe({ destination: '/topic/news' }, inbox.listener);
    await sleep(100);
    const pub = await s.t.publish('news', { headline: 'tcp works' });
    const [m] = await inbox.until(1);
    assert.deepEqual(JSON.parse(m!.body.toString()), { headline: 'tcp works' });
    assert.equal((m!.message as unknown as { headers: Record<string, string> }).headers['x-offset'], String(pub.offset));
    await new Promise<void>((resolve) => client.disconnect(() => resolve()));
  });

  it('client-individual acks: a NACKed message comes back, an ACKed one does not', async () => {
    const client = await stompit(s.stompPort);
    const inbox = new StompitInbox();
    client.subscribe({ destination: '/topic/tcp-acks', ack: 'client-individual' }, inbox.listener);
    await sleep(100);
    await s.t.publish('tcp-acks', 1);
    await s.t.publish('tcp-acks', 2);
    const [one, two] = await inbox.until(2);
    client.ack(one!.message);
    client.nack(two!.message);
    const again = (await inbox.until(3))[2]!;
    assert.equal(again.body.toString(), '2');
    client.ack(again.message);
    await sleep(200);
    assert.equal(inbox.messages.length, 3);
    await new Promise<void>((resolve) => client.disconnect(() => resolve()));
  });

  it('answers DISCONNECT with a RECEIPT (stompit waits for it)', async () => {
    const client = await stompit(s.stompPort);
    const done = await new Promise<Error | null>((resolve) => client.disconnect((err) => resolve(err)));
    assert.equal(done, null);
    const raw = await RawStomp.tcp(s.stompPort);
    await raw.connect();
    raw.frame('DISCONNECT', [['receipt', '77']]);
    assert.equal(header(await raw.next('RECEIPT'), 'receipt-id'), '77');
    await raw.until(() => raw.closed, 3000, 'close');
  });

  it('sends heart-beats to a client that wants them and drops one that goes silent', async () => {
    const beating = await stompit(s.stompPort, {}, [1000, 1000]);
    const silent = await RawStomp.tcp(s.stompPort);
    const ok = await silent.connect([['heart-beat', '1000,1000']]);
    assert.equal(header(ok, 'heart-beat'), '1000,1000');
    const error = await silent.errorThenClose(6000);
    assert.match(header(error, 'message') ?? '', /heart-beat/);
    assert.ok(silent.heartbeats >= 1, 'the server beat while waiting');
    let beatingFailed = false;
    beating.on('error', () => { beatingFailed = true; });
    const inbox = new StompitInbox();
    beating.subscribe({ destination: '/topic/alive' }, inbox.listener);
    await sleep(100);
    await s.t.publish('alive', 'yes');
    await inbox.until(1);
    assert.equal(beatingFailed, false);
    await new Promise<void>((resolve) => beating.disconnect(() => resolve()));
  });

  it('crosses protocols: stompit SEND reaches stompjs over WebSocket and a JSON client, byte for byte (JSON bodies as the same JSON)', async () => {
    const json = await WsClient.connect(s.t.wsUrl);
    await json.command<SubscribeResult>('subscribe', { channel: 'chat:mixed' });
    const ws = await stompJs(s.t.wsUrl);
    const wsInbox = new Inbox();
    const ready = new Promise<void>((resolve) => ws.client.watchForReceipt('r', () => resolve()));
    ws.client.subscribe('/topic/chat:mixed', wsInbox.push, { receipt: 'r' });
    await ready;

    const tcp = await stompit(s.stompPort);
    const binary = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0, 1, 2]);
    await receipt(tcp, { destination: '/topic/chat:mixed', 'content-type': 'application/json', receipt: 'a' }, '{"from":"tcp"}');
    await receipt(tcp, { destination: '/topic/chat:mixed', 'content-type': 'application/octet-stream', 'content-length': String(binary.length), receipt: 'b' }, binary);
    await receipt(tcp, { destination: '/topic/chat:mixed', 'content-type': 'application/json', receipt: 'c' }, '{ "spaced": true }');
    const got = await wsInbox.until(3);
    assert.equal(got[0]!.body, '{"from":"tcp"}');
    assert.deepEqual(Buffer.from(got[1]!.binaryBody), binary);
    assert.equal(got[1]!.headers['content-type'], 'application/octet-stream');
    assert.equal(got[2]!.body, '{"spaced":true}', 'spaced JSON is taken as its value and comes back canonically spelled');
    await json.until(() => json.pushes('publication').length === 3);
    assert.deepEqual(json.pushes('publication').map((p) => p.data), [
      { from: 'tcp' },
      { $stomp: { base64: binary.toString('base64'), contentType: 'application/octet-stream' } },
      { spaced: true },
    ]);
    json.close();
    await ws.client.deactivate();
    await new Promise<void>((resolve) => tcp.disconnect(() => resolve()));
  });

  it('commits and aborts transactions', async () => {
    const client = await stompit(s.stompPort);
    const inbox = new StompitInbox();
    client.subscribe({ destination: '/topic/tx' }, inbox.listener);
    await sleep(100);
    const keep = client.begin();
    keep.send({ destination: '/topic/tx' }).end('first');
    keep.send({ destination: '/topic/tx' }).end('second');
    const drop = client.begin();
    drop.send({ destination: '/topic/tx' }).end('dropped');
    await sleep(100);
    assert.equal(inbox.messages.length, 0, 'nothing before COMMIT');
    drop.abort();
    keep.commit();
    await inbox.until(2);
    await sleep(150);
    assert.deepEqual(inbox.texts(), ['first', 'second']);
    await new Promise<void>((resolve) => client.disconnect(() => resolve()));
  });

  it('authenticates with a passcode and feeds /user/queue/… from the user channel', async () => {
    const token = await makeToken('bob');
    const client = await stompit(s.stompPort, { login: 'bob', passcode: token });
    const inbox = new StompitInbox();
    client.subscribe({ destination: '/user/queue/inbox' }, inbox.listener);
    await sleep(100);
    await s.t.publish('user:bob', { unread: 1 });
    const [m] = await inbox.until(1);
    assert.deepEqual(JSON.parse(m!.body.toString()), { unread: 1 });
    await new Promise<void>((resolve) => client.disconnect(() => resolve()));
  });
});
