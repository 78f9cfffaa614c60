import { Written } from '../observability/metrics.js';
import assert from 'node:assert/strict';
import { createServer, connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { StompParser, header } from '@tidings/stomp';
import { TcpWire } from './wire.js';

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

describe('TcpWire over a socket that is read late', () => {
  it('keeps what a full socket cannot take, then writes it in pieces that end with whole frames, in order', { timeout: 30_000 }, async () => {
    const pair = await socketPair();
    try {
      const wire = new TcpWire(pair.server, 64 * 1024 * 1024, new Written());
      wire.attach({ receive() {}, closed() {} });
      pair.client.pause();

      // each MESSAGE in two chunks, as a subscription's prefix and a publication's shared tail
      const tail = Buffer.from(`content-length:1000\n\n${'x'.repeat(1000)}\0`);
      let sent = 0;
      while (wire.backlog < 1024 * 1024 && sent < 100_000) {
        for (let k = 0; k < 10; k++) {
          wire.write(Buffer.from(`MESSAGE\nx-offset:${++sent}\n`), false);
          wire.write(tail, false);
        }
        await tick();
      }
      assert.ok(wire.backlog >= 1024 * 1024, 'the queue grew past what the kernel takes');

      const offsets: number[] = [];
      const parser = new StompParser({ side: 'client', version: '1.2', limits: { maxFrameSize: 1 << 20 }, onFrame: (f) => offsets.push(Number(header(f, 'x-offset'))) });
      let mostInSocket = 0;
      const done = new Promise<void>((resolve) => {
        pair.client.on('data', (chunk: Buffer) => {
          mostInSocket = Math.max(mostInSocket, pair.server.writableLength);
          const error = parser.push(chunk);
          if (error) assert.fail(error);
          if (offsets.length === sent) resolve();
        });
      });
      pair.client.resume();
      await done;
      assert.deepEqual(offsets, Array.from({ length: sent }, (_, i) => i + 1));
      assert.ok(mostInSocket <= 48 * 1024, `the socket held at most its highWaterMark plus one piece (${mostInSocket})`);
      assert.equal(wire.backlog, 0);
    } finally {
      pair.close();
    }
  });
});
