import assert from 'node:assert/strict';
import { connect as tcpConnect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { constants, createInflateRaw, deflateRawSync, inflateRawSync } from 'node:zlib';
import WebSocket from 'ws';
import { Bystander } from '../helpers/bystander.js';
import { startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { WsClient } from '../helpers/ws-client.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const TAIL = Buffer.from([0, 0, 0xff, 0xff]);

/** A realistic notification, about 1 KB of JSON. */
function notification(i: number): Record<string, unknown> {
  return {
    type: 'comment.created', id: `n-${100000 + i}`, title: 'New comment on your post',
    body: 'Alice Johnson commented on "Quarterly planning notes": Looks good to me, but can we move the review to Thursday afternoon? I have a conflict with the design sync.',
    actor: { id: 'u-42', name: 'Alice Johnson', avatar: 'https://cdn.example.com/avatars/u-42.png', url: 'https://app.example.com/users/u-42' },
    target: { type: 'post', id: 'p-9876', title: 'Quarterly planning notes', url: 'https://app.example.com/posts/9876' },
    link: `https://app.example.com/posts/9876#comment-${5000 + i}`, createdAt: new Date(1700000000000 + i * 1000).toISOString(),
    read: false, priority: 'normal', tags: ['comment', 'mention', 'project:alpha'],
    meta: { source: 'comments-service', version: 3, locale: 'en-US', template: 'comment.created', traceId: '4bf92f3577b34da6a3ce929d0e0e4736' },
  };
}

/** A masked client frame; `rsv1` marks the first frame of a compressed message. */
function clientFrame(opcode: number, payload: Buffer, { fin = true, rsv1 = false } = {}): Buffer {
  const ext = payload.length < 126 ? 0 : 2;
  const head = Buffer.alloc(2 + ext + 4);
  head[0] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
  head[1] = 0x80 | (ext === 0 ? payload.length : 126);
  if (ext === 2) head.writeUInt16BE(payload.length, 2);
  const key = Buffer.from([1, 2, 3, 4]);
  key.copy(head, 2 + ext);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] = body[i]! ^ key[i & 3]!;
  return Buffer.concat([head, body]);
}

function deflated(data: string | Buffer): Buffer {
  const out = deflateRawSync(data, { finishFlush: constants.Z_SYNC_FLUSH });
  return out.subarray(0, out.length - 4);
}

interface ServerFrame { fin: boolean; rsv1: boolean; opcode: number; payload: Buffer }

/** A WebSocket over a plain TCP socket: the handshake answer's headers, and server frames as they come. */
class RawWs {
  readonly frames: ServerFrame[] = [];
  ended = false;
  private buffer = Buffer.alloc(0);
  private waiters: Array<() => void> = [];

  private constructor(readonly socket: Socket, readonly headers: Map<string, string>) {}

  static open(port: number, extensions?: string): Promise<RawWs> {
    return new Promise((resolve, reject) => {
      const socket = tcpConnect(port, '127.0.0.1');
      let head = Buffer.alloc(0);
      const onData = (chunk: Buffer): void => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        socket.off('data', onData);
        const lines = head.subarray(0, end).toString().split('\r\n');
        if (!lines[0]!.includes(' 101 ')) return reject(new Error(lines[0]));
        const headers = new Map(lines.slice(1).map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()] as [string, string]));
        const ws = new RawWs(socket, headers);
        socket.on('data', (c: Buffer) => ws.read(c));
        socket.on('close', () => { ws.ended = true; ws.notify(); });
        ws.read(head.subarray(end + 4));
        resolve(ws);
      };
      socket.on('data', onData);
      socket.on('error', reject);
      socket.write('GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n${extensions === undefined ? '' : `Sec-WebSocket-Extensions: ${extensions}\r\n`}\r\n`);
    });
  }

  send(frame: Buffer): void {
    this.socket.write(frame);
  }

  /** Sends a command, compressed. */
  command(fields: Record<string, unknown>): void {
    this.send(clientFrame(1, deflated(JSON.stringify(fields)), { rsv1: true }));
  }

  /** Waits for the `n`th server frame (0-based) or the end of the connection. */
  async frame(n: number): Promise<ServerFrame> {
    const deadline = Date.now() + 5000;
    while (this.frames.length <= n) {
      if (this.ended) throw new Error('connection ended');
      if (Date.now() > deadline) throw new Error(`timed out waiting for frame ${n}`);
      await new Promise<void>((resolve) => { this.waiters.push(resolve); setTimeout(resolve, 50); });
    }
    return this.frames[n]!;
  }

  /** The close code of the server's close frame. */
  async closeCode(): Promise<number> {
    for (let i = 0; ; i++) {
      const f = await this.frame(i);
      if (f.opcode === 8) return f.payload.readUInt16BE(0);
    }
  }

  close(): void {
    this.socket.destroy();
  }

  private read(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.buffer.length < 2) break;
      const len7 = this.buffer[1]! & 0x7f;
      const at = len7 === 126 ? 4 : len7 === 127 ? 10 : 2;
      if (this.buffer.length < at) break;
      const length = len7 === 126 ? this.buffer.readUInt16BE(2) : len7 === 127 ? Number(this.buffer.readBigUInt64BE(2)) : len7;
      if (this.buffer.length < at + length) break;
      const b0 = this.buffer[0]!;
      this.frames.push({ fin: (b0 & 0x80) !== 0, rsv1: (b0 & 0x40) !== 0, opcode: b0 & 0x0f, payload: this.buffer.subarray(at, at + length) });
      this.buffer = this.buffer.subarray(at + length);
    }
    this.notify();
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

/** The text of a server frame, inflated when RSV1 is set (no context: each on its own). */
function text(f: ServerFrame): string {
  return (f.rsv1 ? inflateRawSync(Buffer.concat([f.payload, TAIL]), { finishFlush: constants.Z_SYNC_FLUSH }) : f.payload).toString();
}

/** Opens a `ws` client subscribed to `channel`; `deflate` false offers no extension. */
async function subscriber(url: string, channel: string, deflate: WebSocket.PerMessageDeflateOptions | false): Promise<WsClient> {
  const c = await WsClient.open(url, { perMessageDeflate: deflate });
  await c.command('connect');
  await c.command('subscribe', { channel });
  return c;
}

describe('WebSocket compression is off by default', () => {
  let t: TidingsProcess;
  before(async () => { t = await startTidings(); });
  after(async () => { await t.stop(); });

  it('answers an offer without the extension, and refuses RSV1 (1002)', async () => {
    const raw = await RawWs.open(Number(new URL(t.url).port), 'permessage-deflate; client_max_window_bits');
    assert.equal(raw.headers.get('sec-websocket-extensions'), undefined);
    raw.command({ id: 1, type: 'connect' });
    assert.equal(await raw.closeCode(), 1002);
    raw.close();
    const c = await WsClient.open(t.wsUrl, { perMessageDeflate: {} });
    assert.equal(c.ws.extensions, '');
    c.close();
  });
});

describe('WebSocket compression (--ws-compression on)', () => {
  let t: TidingsProcess;
  let port: number;
  let bystander: Bystander;
  before(async () => {
    t = await startTidings({ args: ['--ws-compression', 'on', '--max-message-size', '4096'] });
    port = Number(new URL(t.url).port);
    bystander = await Bystander.start(t, 'bystander');
  });
  after(async () => { await t.stop(); });

  it('sends compressing and plain ws clients on one channel the same notifications', async () => {
    const compressing = await subscriber(t.wsUrl, 'news', { threshold: 0 });
    const plain = await subscriber(t.wsUrl, 'news', false);
    assert.equal(compressing.ws.extensions, 'permessage-deflate');
    assert.equal(plain.ws.extensions, '');
    for (let i = 0; i < 5; i++) await t.publish('news', notification(i));
    for (const c of [compressing, plain]) {
      await c.until(() => c.pushes('publication').length === 5, 5000, 'five publications');
      assert.deepEqual(c.pushes('publication').map((p) => p.data), [0, 1, 2, 3, 4].map(notification));
    }
    compressing.close();
    plain.close();
    await bystander.stillReceives();
  });

  it('puts compressed frames (RSV1) on the wire, at least 1.5× smaller for a 1 KB notification', async () => {
    const raw = await RawWs.open(port, 'permessage-deflate');
    assert.equal(raw.headers.get('sec-websocket-extensions'), 'permessage-deflate; client_no_context_takeover; server_no_context_takeover');
    raw.command({ id: 1, type: 'connect' });
    raw.command({ id: 2, type: 'subscribe', channel: 'wire' });
    await raw.frame(1);
    await t.publish('wire', notification(1));
    const f = await raw.frame(2);
    assert.equal(f.rsv1, true);
    const message = JSON.parse(text(f)) as { type: string; data: unknown };
    assert.deepEqual([message.type, message.data], ['publication', notification(1)]);
    const plainLength = Buffer.byteLength(text(f));
    assert.ok(plainLength > 900 && f.payload.length * 1.5 < plainLength, `${f.payload.length} compressed of ${plainLength}`);
    raw.close();
  });

  it('reads compressed commands from ws, and a fragmented compressed message built by hand', async () => {
    const c = await WsClient.open(t.wsUrl, { perMessageDeflate: { threshold: 0 } });
    assert.deepEqual(await c.command('connect', { data: { pad: 'x'.repeat(200) } }).then((r) => typeof r), 'object');
    c.close();
    const raw = await RawWs.open(port, 'permessage-deflate');
    const z = deflated(JSON.stringify({ id: 1, type: 'connect' }));
    raw.send(clientFrame(1, z.subarray(0, 4), { fin: false, rsv1: true }));
    raw.send(clientFrame(9, Buffer.from('ping')));
    raw.send(clientFrame(0, z.subarray(4, 9), { fin: false }));
    raw.send(clientFrame(0, z.subarray(9)));
    assert.deepEqual([(await raw.frame(0)).opcode, (await raw.frame(0)).payload.toString()], [10, 'ping']);
    assert.match(text(await raw.frame(1)), /^\{"type":"reply","id":1,/);
    raw.close();
  });

  it('closes with 1002 on RSV1 on a continuation frame', async () => {
    const raw = await RawWs.open(port, 'permessage-deflate');
    const z = deflated(JSON.stringify({ id: 1, type: 'connect' }));
    raw.send(clientFrame(1, z.subarray(0, 4), { fin: false, rsv1: true }));
    raw.send(clientFrame(0, z.subarray(4), { rsv1: true }));
    assert.equal(await raw.closeCode(), 1002);
    raw.close();
  });

  it('closes with 1009 on a message over --max-message-size once inflated (an inflate bomb), and goes on serving', async () => {
    const raw = await RawWs.open(port, 'permessage-deflate');
    raw.command({ id: 1, type: 'connect' });
    await raw.frame(0);
    const bomb = deflated(JSON.stringify({ id: 2, type: 'publish', channel: 'x', data: ' '.repeat(3_000_000) }));
    assert.ok(bomb.length < 4096, `${bomb.length} bytes compressed`);
    raw.send(clientFrame(1, bomb, { rsv1: true }));
    assert.equal(await raw.closeCode(), 1009);
    raw.close();
    await bystander.stillReceives();
  });

  it('declines bad offers, takes the next good one, and honors server_max_window_bits', async () => {
    const bad = await RawWs.open(port, 'permessage-deflate; unknown_param, permessage-deflate; server_max_window_bits=16');
    assert.equal(bad.headers.get('sec-websocket-extensions'), undefined);
    bad.close();
    const next = await RawWs.open(port, 'permessage-deflate; server_max_window_bits=8, permessage-deflate; client_max_window_bits=12');
    assert.equal(next.headers.get('sec-websocket-extensions'), 'permessage-deflate; client_no_context_takeover; server_no_context_takeover');
    next.close();
    const nine = await RawWs.open(port, 'permessage-deflate; server_max_window_bits=9');
    assert.equal(nine.headers.get('sec-websocket-extensions'), 'permessage-deflate; client_no_context_takeover; server_no_context_takeover; server_max_window_bits=9');
    nine.close();
    const small = await subscriber(t.wsUrl, 'bits', { serverMaxWindowBits: 9, threshold: 0 });
    assert.equal(small.ws.extensions, 'permessage-deflate');
    const big = await subscriber(t.wsUrl, 'bits', {});
    await t.publish('bits', notification(7));
    for (const c of [small, big]) {
      await c.until(() => c.pushes('publication').length === 1, 5000, 'the publication');
      assert.deepEqual(c.pushes('publication')[0]!.data, notification(7));
      c.close();
    }
  });

  it('answers a STOMP subprotocol without the extension', async () => {
    const ws = new WebSocket(t.wsUrl, 'v12.stomp', { perMessageDeflate: {} });
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    assert.equal(ws.protocol, 'v12.stomp');
    assert.equal(ws.extensions, '');
    ws.close();
  });
});

for (const mode of ['on', 'takeover']) {
  describe(`WebSocket compression at every message size (--ws-compression ${mode})`, () => {
    let t: TidingsProcess;
    before(async () => { t = await startTidings({ args: ['--ws-compression', mode, '--max-message-size', '262144'] }); });
    after(async () => { await t.stop(); });

    it('carries messages of every size both ways, compressible or not, as Autobahn 12.x/13.x do', async () => {
      const sizes = [16, 64, 126, 128, 256, 1024, 4096, 16_384, 65_536, 131_072];
      const random = (n: number): string => Buffer.from(Array.from({ length: Math.ceil(n * 3 / 4) }, () => Math.floor(Math.random() * 256))).toString('base64').slice(0, n);
      const bodies = sizes.flatMap((n) => ['ab'.repeat(n / 2), random(n)]);
      for (const [offer, label] of [[{ threshold: 0 }, 'defaults'], [{ threshold: 0, serverMaxWindowBits: 10, clientMaxWindowBits: 9 }, 'small windows']] as const) {
        const c = await subscriber(t.wsUrl, `sizes-${label.length}`, offer);
        for (const body of bodies) {
          const res = await t.api('POST', '/api/publish', { channel: `sizes-${label.length}`, data: body });
          assert.equal(res.status, 200, `${label}: publish of ${body.length}`);
        }
        await c.until(() => c.pushes('publication').length === bodies.length, 10_000, `${label}: every size`);
        assert.deepEqual(c.pushes('publication').map((p) => p.data), bodies, label);
        for (const n of [100, 1000, 3800]) await c.command('ping', { pad: 'x'.repeat(n) });
        assert.equal(c.closeCode, undefined);
        c.close();
      }
    });
  });
}

describe('WebSocket compression with context takeover (--ws-compression takeover)', () => {
  let t: TidingsProcess;
  before(async () => { t = await startTidings({ args: ['--ws-compression', 'takeover'] }); });
  after(async () => { await t.stop(); });

  it('compresses later notifications against earlier ones, and a running inflater reads them', async () => {
    const raw = await RawWs.open(Number(new URL(t.url).port), 'permessage-deflate; client_max_window_bits');
    assert.equal(raw.headers.get('sec-websocket-extensions'), 'permessage-deflate; client_no_context_takeover');
    const inflater = createInflateRaw();
    const out: Buffer[] = [];
    inflater.on('data', (c: Buffer) => out.push(c));
    raw.command({ id: 1, type: 'connect' });
    raw.command({ id: 2, type: 'subscribe', channel: 'news' });
    await raw.frame(1);
    for (let i = 0; i < 6; i++) {
      await t.publish('news', notification(i));
      await raw.frame(2 + i);
    }
    const sizes: number[] = [];
    const texts: string[] = [];
    for (const f of raw.frames) {
      if (f.rsv1) sizes.push(f.payload.length);
      if (!f.rsv1) {
        texts.push(f.payload.toString());
        continue;
      }
      const before = out.length;
      inflater.write(Buffer.concat([f.payload, TAIL]));
      await new Promise<void>((resolve) => inflater.flush(constants.Z_SYNC_FLUSH, () => resolve()));
      texts.push(Buffer.concat(out.slice(before)).toString());
    }
    const publications = texts.flatMap((x) => x.split('\n')).map((l) => JSON.parse(l) as { type: string; data: unknown }).filter((m) => m.type === 'publication');
    assert.deepEqual(publications.map((m) => m.data), [0, 1, 2, 3, 4, 5].map(notification));
    assert.ok(sizes.at(-1)! * 3 < Buffer.byteLength(JSON.stringify(notification(5))), `compressed sizes ${sizes.join(', ')}`);
    raw.close();

    const c = await subscriber(t.wsUrl, 'news', {});
    for (let i = 0; i < 4; i++) await t.publish('news', notification(i));
    await c.until(() => c.pushes('publication').length === 4, 5000, 'four publications');
    assert.deepEqual(c.pushes('publication').map((p) => p.data), [0, 1, 2, 3].map(notification));
    c.close();
  });
});
