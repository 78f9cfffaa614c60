import { Written } from '../observability/metrics.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EventEmitter } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import { setImmediate as tick } from 'node:timers/promises';
import * as ws from 'ws';
import { CloseSweep } from '../websocket/close-sweep.js';
import { WebSocketConnection } from '../websocket/connection.js';
import { TimerWheel } from '../timer.js';
import { WebSocketTransport, textFrame } from './websocket.js';

// ws's frame parser (exported by ws's ESM entry; @types/ws does not declare it).
type ReceiverClass = new (opts: { isServer: boolean; skipUTF8Validation: boolean; maxPayload: number }) => EventEmitter & { write(b: Buffer): void };
const { Receiver } = ws as unknown as { Receiver: ReceiverClass };

/** Parses frames the way a client does (ws's own Receiver, client side: unmasked frames allowed). */
function parse(frame: Buffer): string[] {
  const out: string[] = [];
  const receiver = new Receiver({ isServer: false, skipUTF8Validation: false, maxPayload: 0 });
  receiver.on('message', (data: Buffer, isBinary: boolean) => {
    assert.equal(isBinary, false);
    out.push(data.toString('utf8'));
  });
  receiver.on('error', (err: Error) => assert.fail(err));
  receiver.write(frame);
  return out;
}

describe('textFrame', () => {
  it('frames messages joined by newlines at every length encoding', () => {
    for (const size of [0, 1, 125, 126, 127, 65535, 65536, 70000]) {
      const a = Buffer.alloc(size, 'a');
      assert.deepEqual(parse(textFrame(a)), [a.toString()], `one message of ${size}`);
      const b = Buffer.from('{"b":1}');
      assert.deepEqual(parse(textFrame(a, [b])), [`${a.toString()}\n{"b":1}`], `two messages, ${size}`);
      assert.deepEqual(parse(textFrame(b, [a, b])), [`{"b":1}\n${a.toString()}\n{"b":1}`], `three messages, ${size}`);
    }
  });

  it('reuses the frame for the same messages and rebuilds for others', () => {
    const m1 = Buffer.from('{"x":1}');
    const m2 = Buffer.from('{"x":2}');
    const f1 = textFrame(m1, [m2]);
    assert.equal(textFrame(m1, [m2]), f1);
    const single = textFrame(m1);
    assert.notEqual(single, f1);
    assert.equal(textFrame(m1), single);
    assert.notEqual(textFrame(m1, [Buffer.from('{"x":2}')]), f1);
    assert.notEqual(textFrame(m1, [m2, m2]), textFrame(m1, [m2]));
    assert.deepEqual(parse(textFrame(m2, [m1])), ['{"x":2}\n{"x":1}']);
  });
});

/** A connected TCP pair on loopback: the server's end and the client's. */
async function socketPair(): Promise<{ server: Socket; client: Socket; close(): void }> {
  const listener = createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<Socket>((resolve) => listener.once('connection', resolve));
  const { port } = listener.address() as { port: number };
  const client = connect(port, '127.0.0.1');
  const server = await accepted;
  return { server, client, close: () => { client.destroy(); server.destroy(); listener.close(); } };
}

describe('WebSocketTransport over a socket that is not read', () => {
  it('keeps the overflow in its own queue, then drops it and ends with a disconnect and close 3001 after a whole frame', { timeout: 30_000 }, async () => {
    const pair = await socketPair();
    const timers = new TimerWheel();
    try {
      const conn = new WebSocketConnection(pair.server, undefined, 1024, new CloseSweep(timers));
      const transport = new WebSocketTransport(conn, { remove() {}, protocolError() {} }, 256 * 1024, new Written());
      conn.attach(transport);
      conn.start(Buffer.alloc(0));
      const received: Buffer[] = [];
      pair.client.on('data', (chunk: Buffer) => received.push(chunk));
      pair.client.pause();

      const pad = 'x'.repeat(1000);
      let offset = 0;
      let fits = true;
      let mostInSocket = 0;
      // ticks of 10 publications until the queue (plus the socket's buffer) is over the limit; the kernel takes a few MiB first
      while (fits && offset < 100_000) {
        for (let k = 0; k < 10; k++) fits = transport.write(Buffer.from(JSON.stringify({ type: 'publication', offset: ++offset, pad }))) && fits;
        await tick();
        mostInSocket = Math.max(mostInSocket, pair.server.writableLength);
      }
      assert.equal(fits, false, 'the limit was reached');
      assert.ok(mostInSocket <= 32 * 1024, `the socket held at most its highWaterMark plus one frame (${mostInSocket})`);

      // what Session.disconnect(3001) does
      transport.discard();
      transport.write(Buffer.from('{"type":"disconnect","code":3001,"reason":"slow","reconnect":true}'));
      transport.close(3001, 'slow');

      const messages: string[] = [];
      const receiver = new Receiver({ isServer: false, skipUTF8Validation: false, maxPayload: 0 });
      receiver.on('message', (data: Buffer) => messages.push(...data.toString().split('\n')));
      receiver.on('error', (err: Error) => assert.fail(err));
      const closed = new Promise<number>((resolve) => receiver.on('conclude', (code: number) => resolve(code)));
      pair.client.on('data', (chunk: Buffer) => receiver.write(chunk));
      for (const chunk of received) receiver.write(chunk);
      pair.client.resume();
      assert.equal(await closed, 3001);

      const last = JSON.parse(messages.pop()!) as { type: string; code: number };
      assert.deepEqual([last.type, last.code], ['disconnect', 3001]);
      const offsets = messages.map((m) => (JSON.parse(m) as { offset: number }).offset);
      assert.deepEqual(offsets, Array.from({ length: offsets.length }, (_, i) => i + 1), 'a prefix of what was written, in order');
      assert.ok(offsets.length < offset - 200, `the unsent tail was dropped (${offsets.length} of ${offset} sent)`);
    } finally {
      timers.stop();
      pair.close();
    }
  });
});
