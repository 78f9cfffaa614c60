import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Inbox, RawStomp, StompitInbox, header, startStompTidings, stompJs, stompit, text, type StompTidings } from './helpers.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('/queue/… point-to-point with competing consumers', () => {
  let s: StompTidings;

  before(async () => {
    s = await startStompTidings();
  });
  after(async () => {
    await s.t.stop();
  });

  it('/queue/jobs with two consumers: each message goes to exactly one of them', async () => {
    const a = await stompit(s.stompPort);
    const aInbox = new StompitInbox();
    a.subscribe({ destination: '/queue/jobs', ack: 'client-individual' }, (err, m) => {
      aInbox.listener(err, m);
      if (!err) a.ack(m);
    });
    const b = await stompJs(s.t.wsUrl);
    const bInbox = new Inbox();
    const ready = new Promise<void>((resolve) => b.client.watchForReceipt('r', () => resolve()));
    b.client.subscribe('/queue/jobs', (m) => {
      bInbox.push(m);
      m.ack();
    }, { ack: 'client-individual', receipt: 'r' });
    await ready;
    await sleep(100);

    const producer = await RawStomp.tcp(s.stompPort);
    await producer.connect();
    const n = 40;
    for (let i = 0; i < n; i++) producer.frame('SEND', [['destination', '/queue/jobs'], ['content-type', 'text/plain']], `job-${i}`);
    producer.frame('SEND', [['destination', '/queue/jobs'], ['receipt', 'last']], 'job-last');
    await producer.next('RECEIPT');
    await sleep(300);
    const got = [...aInbox.texts(), ...bInbox.bodies()];
    assert.equal(got.length, n + 1, `got ${got.length}`);
    assert.equal(new Set(got).size, n + 1, 'no message twice');
    assert.ok(aInbox.messages.length > 5 && bInbox.messages.length > 5, `shared: ${aInbox.messages.length} / ${bInbox.messages.length}`);
    producer.end();
    await new Promise<void>((resolve) => a.disconnect(() => resolve()));
    await b.client.deactivate();
  });

  it('redelivers what a consumer held unacknowledged when it dies, and what it NACKs', async () => {
    const dying = await RawStomp.tcp(s.stompPort);
    await dying.connect();
    dying.frame('SUBSCRIBE', [['id', '1'], ['destination', '/queue/work'], ['ack', 'client'], ['receipt', 'r']]);
    await dying.next('RECEIPT');
    const producer = await RawStomp.tcp(s.stompPort);
    await producer.connect();
    for (const job of ['w1', 'w2', 'w3']) producer.frame('SEND', [['destination', '/queue/work']], job);
    producer.frame('SEND', [['destination', '/queue/work'], ['receipt', 'sent']], 'w4');
    await producer.next('RECEIPT');
    await dying.until(() => dying.frames.filter((f) => f.command === 'MESSAGE').length === 4, 3000, '4 messages');
    const held = dying.frames.filter((f) => f.command === 'MESSAGE');
    dying.frame('ACK', [['id', header(held[0]!, 'ack')!]]);
    await sleep(100);

    const survivor = await stompit(s.stompPort);
    const inbox = new StompitInbox();
    survivor.subscribe({ destination: '/queue/work', ack: 'client-individual' }, inbox.listener);
    await sleep(200);
    assert.equal(inbox.messages.length, 0, 'nothing while the first consumer holds them');
    dying.destroy();
    const redelivered = await inbox.until(3);
    assert.deepEqual(inbox.texts(), ['w2', 'w3', 'w4']);
    for (const m of redelivered) assert.equal((m.message as unknown as { headers: Record<string, string> }).headers.redelivered, 'true');

    survivor.nack(redelivered[0]!.message);
    const again = (await inbox.until(4))[3]!;
    assert.equal(again.body.toString(), 'w2');
    for (const m of inbox.messages.slice(1)) survivor.ack(m.message);
    await sleep(200);
    assert.equal(inbox.messages.length, 4);
    producer.end();
    await new Promise<void>((resolve) => survivor.disconnect(() => resolve()));
  });

  it('keeps messages until a consumer comes, byte for byte with content type and user headers', async () => {
    const producer = await RawStomp.tcp(s.stompPort);
    await producer.connect();
    const bytes = Uint8Array.from([0, 255, 10, 0, 13, 58]);
    producer.frame('SEND', [['destination', '/queue/later'], ['content-type', 'application/x-thing'], ['correlation-id', 'c:42'], ['receipt', 'k']], bytes);
    await producer.next('RECEIPT');
    const consumer = await RawStomp.ws(s.t.wsUrl);
    await consumer.connect();
    consumer.frame('SUBSCRIBE', [['id', 'x'], ['destination', '/queue/later']]);
    const m = await consumer.next('MESSAGE');
    assert.deepEqual([...m.body], [...bytes]);
    assert.equal(header(m, 'content-type'), 'application/x-thing');
    assert.equal(header(m, 'correlation-id'), 'c:42');
    assert.equal(header(m, 'destination'), '/queue/later');
    assert.equal(header(m, 'subscription'), 'x');
    assert.ok(consumer.binaryMessages > 0);
    consumer.frame('SEND', [['destination', '/queue/later'], ['receipt', 'again']], 'text body');
    await consumer.next('RECEIPT');
    assert.equal(text(await consumer.next('MESSAGE')), 'text body');
    producer.end();
    consumer.end();
  });

  it('refuses a JSON body nested deeper than maxDepth like a topic SEND (ERROR 107), and queues nothing of it', async () => {
    const deep = (levels: number): string => '['.repeat(levels) + ']'.repeat(levels);
    for (const [destination, type] of [['/queue/deep', 'application/json'], ['/queue/chat:q', 'application/json; charset=utf-8'], ['/topic/deep', 'application/json']]) {
      const producer = await RawStomp.tcp(s.stompPort);
      await producer.connect();
      producer.frame('SEND', [['destination', destination!], ['content-type', type!], ['receipt', 'deep']], deep(65));
      const error = await producer.next('ERROR');
      assert.equal(header(error, 'x-code'), '107', destination);
      assert.match(header(error, 'message') ?? '', /maxDepth/);
      assert.ok(!producer.frames.some((f) => f.command === 'RECEIPT'), `${destination}: no RECEIPT`);
      producer.end();
    }
    const producer = await RawStomp.tcp(s.stompPort);
    await producer.connect();
    producer.frame('SEND', [['destination', '/queue/deep'], ['content-type', 'text/plain'], ['receipt', 'text']], deep(65));
    await producer.next('RECEIPT');
    producer.frame('SEND', [['destination', '/queue/deep'], ['content-type', 'application/json'], ['receipt', 'limit']], deep(64));
    await producer.next('RECEIPT');
    const consumer = await RawStomp.tcp(s.stompPort);
    await consumer.connect();
    consumer.frame('SUBSCRIBE', [['id', 'd'], ['destination', '/queue/deep']]);
    await consumer.until(() => consumer.frames.filter((f) => f.command === 'MESSAGE').length === 2, 3000, '2 messages');
    await sleep(200);
    const bodies = consumer.frames.filter((f) => f.command === 'MESSAGE').map((m) => text(m));
    assert.deepEqual(bodies, [deep(65), deep(64)], 'a text/plain body is not JSON and not checked; the refused one is not queued');
    producer.end();
    consumer.end();
  });
});

describe('/queue/… length limit', () => {
  let s: StompTidings;
  before(async () => {
    s = await startStompTidings(['--stomp-queue-max-length', '3']);
  });
  after(async () => {
    await s.t.stop();
  });

  it('refuses a SEND to a full queue with ERROR 121 queue_full (and the receipt-id), and queues nothing of it', async () => {
    const producer = await RawStomp.tcp(s.stompPort);
    await producer.connect();
    for (const job of ['a', 'b', 'c']) producer.frame('SEND', [['destination', '/queue/small'], ['receipt', job]], job);
    for (let i = 0; i < 3; i++) await producer.next('RECEIPT');
    producer.frame('SEND', [['destination', '/queue/small'], ['receipt', 'd']], 'd');
    const error = await producer.errorThenClose();
    assert.equal(header(error, 'x-code'), '121');
    assert.equal(header(error, 'x-close-code'), '3004');
    assert.equal(header(error, 'x-reconnect'), 'true');
    assert.equal(header(error, 'receipt-id'), 'd');
    assert.match(header(error, 'message') ?? '', /queue small is full/);
    const consumer = await RawStomp.tcp(s.stompPort);
    await consumer.connect();
    consumer.frame('SUBSCRIBE', [['id', 's'], ['destination', '/queue/small']]);
    await consumer.until(() => consumer.frames.filter((f) => f.command === 'MESSAGE').length === 3, 3000, '3 messages');
    await sleep(200);
    assert.deepEqual(consumer.frames.filter((f) => f.command === 'MESSAGE').map((m) => text(m)), ['a', 'b', 'c']);
    consumer.end();
  });
});
