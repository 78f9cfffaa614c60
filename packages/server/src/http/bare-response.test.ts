import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { BareResponse, type BareDoor } from './bare-response.js';
import { MAX_HEAD_BYTES } from './request-head.js';

class Door implements BareDoor {
  closing = false;
  readonly reused: Array<Buffer | undefined> = [];
  forgotten = 0;
  reuse(_socket: Socket, pipelined: Buffer | undefined): void {
    this.reused.push(pipelined);
  }
  forget(): void {
    this.forgotten++;
  }
}

class Listener {
  calls = 0;
  responseClosed(): void {
    this.calls++;
  }
}

/** A connected pair: the server side for the response, and what the client receives until it closes. */
async function pair(server: Server): Promise<{ socket: Socket; received: Promise<string>; client: Socket }> {
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const address = server.address();
  const client = connect(typeof address === 'object' && address ? address.port : 0, '127.0.0.1');
  const socket = await accepted;
  let text = '';
  client.on('data', (d: Buffer) => { text += d.toString('latin1'); });
  const received = new Promise<string>((resolve) => client.on('close', () => resolve(text)));
  return { socket, received, client };
}

/** Wires what front-door.ts wires: the socket's close reaches the response. */
function wired(door: Door, socket: Socket, keepAlive: boolean): BareResponse {
  const res = new BareResponse(door, socket, keepAlive);
  socket.on('close', () => res.closed());
  return res;
}

describe('BareResponse', () => {
  let server: Server;
  before(async () => {
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  after(() => server.close());

  it('writes a stream: our head with setHeader lines first, a raw body ended by the close, the listener told once', async () => {
    const { socket, received } = await pair(server);
    const door = new Door();
    const res = wired(door, socket, true);
    const listener = new Listener();
    res.onClose(listener);
    res.setHeader('Vary', 'Origin');
    res.writeHead(200, { 'Content-Type': 'text/event-stream', Connection: 'keep-alive', 'Transfer-Encoding': 'chunked' });
    assert.equal(res.headersSent, true);
    res.flushHeaders();
    res.writeEvents([Buffer.from('{"a":1}')], ['c~1~e']);
    res.end();
    res.end();
    const text = await received;
    assert.match(text, /^HTTP\/1\.1 200 OK\r\nDate: .+ GMT\r\nVary: Origin\r\nContent-Type: text\/event-stream\r\nConnection: close\r\n\r\nid: c~1~e\ndata: \{"a":1\}\n\n$/);
    await new Promise((r) => setImmediate(r));
    assert.equal(listener.calls, 1);
    assert.equal(door.forgotten, 1);
    assert.deepEqual(door.reused, []);
  });

  it('keeps a sized answer alive and hands the socket back with the bytes the client sent meanwhile', async () => {
    const { socket, client } = await pair(server);
    const door = new Door();
    const res = wired(door, socket, true);
    const listener = new Listener();
    res.onClose(listener);
    const pipelined = new Promise<void>((resolve) => socket.once('data', (d: Buffer) => { res.data(d); resolve(); }));
    client.write('GET /next HTTP/1.1\r\n');
    await pipelined;
    let text = '';
    const got = new Promise<void>((resolve) => client.on('data', (d: Buffer) => { text += d.toString(); if (text.endsWith('{}')) resolve(); }));
    res.writeHead(200, { 'content-length': 2 });
    res.end('{}');
    await got;
    assert.match(text, /\r\ncontent-length: 2\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\n\{\}$/);
    assert.equal(door.reused.length, 1);
    assert.equal(door.reused[0]?.toString(), 'GET /next HTTP/1.1\r\n');
    assert.equal(listener.calls, 1);
    assert.equal(socket.destroyed, false);
    client.destroy();
  });

  it('says Connection: close to a client that asked for it and while the node drains', async () => {
    for (const [keepAlive, closing] of [[false, false], [true, true]] as const) {
      const { socket, received } = await pair(server);
      const door = new Door();
      door.closing = closing;
      const res = wired(door, socket, keepAlive);
      res.writeHead(503, { 'content-length': 2 });
      res.end('{}');
      assert.match(await received, /^HTTP\/1\.1 503 Service Unavailable\r\n[^]*Connection: close\r\n\r\n\{\}$/);
      assert.deepEqual(door.reused, []);
    }
  });

  it('drops a client that sends more than a head while its answer waits, and tells a late listener at once', async () => {
    const { socket, received } = await pair(server);
    const door = new Door();
    const res = wired(door, socket, true);
    const listener = new Listener();
    res.onClose(listener);
    res.data(Buffer.alloc(MAX_HEAD_BYTES));
    assert.equal(socket.destroyed, false);
    res.data(Buffer.alloc(1));
    assert.equal(socket.destroyed, true);
    await received;
    assert.equal(listener.calls, 1);
    assert.equal(res.writableEnded, true);
    const late = new Listener();
    res.onClose(late);
    assert.equal(late.calls, 1);
  });
});
