import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { IMessage } from '@stomp/stompjs';
import { Inbox, RawStomp, header, startStompTidings, stompJs, type StompJs, type StompTidings } from './helpers.js';

/** Bytes that are not UTF-8 (0xff, 0xfe, a lone continuation byte) and hold no NUL. */
const BINARY = Buffer.from([0xff, 0xfe, 0x01, 0x80, 0x41, 0x0a, 0x3a, 0x5c, 0xc3, 0x7f, 0x20, 0xe2, 0x82]);
/** UTF-8 with two-, three- and four-byte characters, and a line break and colon. */
const MULTIBYTE = 'héllo 日本語\n😀: ünïcödé';

/** Resolves when the client sees RECEIPT `id`; fails after 5 s (e.g. when an ERROR closed it). */
function receipt(conn: StompJs, id: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no RECEIPT ${id} (errors: ${conn.errors.map((e) => e.headers.message).join('; ')})`)), 5000);
    conn.client.watchForReceipt(id, () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

interface Subscriber {
  name: string;
  id: string;
  ack: 'auto' | 'client' | 'client-individual';
  protocols?: string[];
}

/**
 * Subscriptions on one destination differ only in the `subscription` and `ack` lines; the rest of
 * the frame is built once per publication and written after each one's own lines (or, for
 * subscriptions with the same id and ack:auto, as the very same frame).
 */
const SUBSCRIBERS: Subscriber[] = [
  { name: 'auto sub-0 (a)', id: 'sub-0', ack: 'auto' },
  { name: 'auto sub-0 (b)', id: 'sub-0', ack: 'auto' },
  { name: 'auto, its own id', id: 'mine:ü\\x', ack: 'auto' },
  { name: 'client', id: 'sub-0', ack: 'client' },
  { name: 'client-individual', id: 'ci', ack: 'client-individual' },
  { name: 'STOMP 1.1, client-individual', id: 'sub-0', ack: 'client-individual', protocols: ['v11.stomp'] },
  { name: 'auto sub-0 (c)', id: 'sub-0', ack: 'auto' },
];

describe('STOMP MESSAGE frames shared between subscriptions', () => {
  let s: StompTidings;
  const clients: Array<{ sub: Subscriber; conn: StompJs; inbox: Inbox }> = [];

  before(async () => {
    s = await startStompTidings();
    for (const sub of SUBSCRIBERS) {
      const conn = await stompJs(s.t.wsUrl, sub.protocols ? { protocols: sub.protocols } : {});
      const inbox = new Inbox();
      const ready = receipt(conn, `r-${clients.length}`);
      conn.client.subscribe('/topic/mixed', inbox.push, { id: sub.id, ack: sub.ack, receipt: `r-${clients.length}` });
      await ready;
      clients.push({ sub, conn, inbox });
    }
  });
  after(async () => {
    for (const { conn } of clients) await conn.client.deactivate();
    await s.t.stop();
  });

  it('each subscriber gets its own subscription and ack lines around the same headers and body bytes', async () => {
    const binary = await s.t.publish('mixed', { $stomp: { base64: BINARY.toString('base64'), contentType: 'application/octet-stream' } });
    const text = await s.t.publish('mixed', { $stomp: { text: MULTIBYTE, contentType: 'text/plain;charset=utf-8' } });
    const json = await s.t.publish('mixed', { n: 1, s: 'ü' });
    const expected = [
      { pub: binary, bytes: BINARY, type: 'application/octet-stream' },
      { pub: text, bytes: Buffer.from(MULTIBYTE, 'utf8'), type: 'text/plain;charset=utf-8' },
      { pub: json, bytes: Buffer.from('{"n":1,"s":"ü"}', 'utf8'), type: 'application/json' },
    ];
    const first: IMessage[] = [];
    for (const { sub, conn, inbox } of clients) {
      const got = await inbox.until(3);
      assert.equal(got.length, 3, sub.name);
      for (const [i, m] of got.entries()) {
        const want = expected[i]!;
        assert.equal(m.command, 'MESSAGE');
        assert.deepEqual(Buffer.from(m.binaryBody), want.bytes, `${sub.name}: body ${i}`);
        assert.equal(m.headers['content-length'], String(want.bytes.length), `${sub.name}: content-length ${i}`);
        assert.equal(m.headers['content-type'], want.type);
        assert.equal(m.headers.subscription, sub.id, sub.name);
        assert.equal(m.headers.destination, '/topic/mixed');
        assert.equal(m.headers['x-offset'], String(want.pub.offset));
        assert.equal(m.headers['x-epoch'], want.pub.epoch);
        const is12 = conn.connected.headers.version === '1.2';
        assert.equal(m.headers.ack !== undefined, is12 && sub.ack !== 'auto', `${sub.name}: ack header`);
        // the shared headers read the same for everyone (1.1 escapes like 1.2 for these values)
        const shared = { ...m.headers };
        for (const own of ['subscription', 'ack']) delete shared[own];
        if (first[i] === undefined) first[i] = m;
        const ref = { ...first[i]!.headers };
        for (const own of ['subscription', 'ack']) delete ref[own];
        assert.deepEqual(shared, ref, `${sub.name}: shared headers of message ${i}`);
      }
    }
    // the per-connection ack ids are live: acknowledging them raises no ERROR
    for (const { sub, conn, inbox } of clients) {
      if (sub.ack === 'auto') continue;
      for (const m of inbox.messages) m.ack();
      const done = receipt(conn, `after-${sub.name}`);
      conn.client.publish({ destination: '/topic/elsewhere', body: 'x', headers: { receipt: `after-${sub.name}` } });
      await done;
      assert.deepEqual(conn.errors, [], sub.name);
    }
  });

  it('two subscriptions of one connection get both frames in one WebSocket message, each with its own id', async () => {
    const raw = await RawStomp.ws(s.t.wsUrl);
    await raw.connect();
    raw.frame('SUBSCRIBE', [['id', 'one'], ['destination', '/topic/pair'], ['receipt', 'a']]);
    await raw.next('RECEIPT');
    raw.frame('SUBSCRIBE', [['id', 'two'], ['destination', '/topic/pair'], ['ack', 'client-individual'], ['receipt', 'b']]);
    await raw.next('RECEIPT');
    const before = raw.binaryMessages;
    await s.t.publish('pair', { $stomp: { base64: BINARY.toString('base64') } });
    const one = await raw.next('MESSAGE');
    const two = await raw.next('MESSAGE');
    assert.equal(raw.binaryMessages - before, 1, 'one binary WebSocket message for both frames');
    assert.deepEqual([header(one, 'subscription'), header(two, 'subscription')], ['one', 'two']);
    assert.equal(header(one, 'ack'), undefined);
    assert.ok(header(two, 'ack'));
    for (const f of [one, two]) {
      assert.deepEqual(Buffer.from(f.body), BINARY);
      assert.equal(header(f, 'content-length'), String(BINARY.length));
    }
    raw.end();
  });

  it('over TCP, subscribers with different ids get the same body bytes after their own lines', async () => {
    const raws = await Promise.all(['t1', 't2', 't2'].map(async (id, i) => {
      const raw = await RawStomp.tcp(s.stompPort);
      await raw.connect();
      raw.frame('SUBSCRIBE', [['id', id], ['destination', '/topic/tcp-mixed'], ['ack', i === 0 ? 'client' : 'auto'], ['receipt', 'r']]);
      await raw.next('RECEIPT');
      return { id, raw };
    }));
    await s.t.publish('tcp-mixed', { $stomp: { text: MULTIBYTE } });
    for (const { id, raw } of raws) {
      const m = await raw.next('MESSAGE');
      assert.equal(header(m, 'subscription'), id);
      assert.equal(Buffer.from(m.body).toString('utf8'), MULTIBYTE);
      assert.equal(header(m, 'content-length'), String(Buffer.byteLength(MULTIBYTE)));
      raw.end();
    }
  });
});
