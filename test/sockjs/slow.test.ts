/**
 * Slow consumers over SockJS: a raw xhr_streaming client (JSON protocol or STOMP) that stops
 * reading is cut at a message boundary, its last frames being the `disconnect` (or STOMP ERROR)
 * and `c[3001,…]`; the SockJS transport shows in /metrics.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { TidingsProcess } from '../helpers/tidings.js';
import { sessionPath, startSockjsTidings, until } from './helpers.js';

const CHANNEL = 'flood';
const CONNECT = 'CONNECT\naccept-version:1.2\nheart-beat:0,0\n\n\u0000';

/** An xhr_streaming response read over a raw HTTP/1.0 socket (no chunking), paused on demand. */
class RawStream {
  private readonly chunks: Buffer[] = [];
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (c: Buffer) => this.chunks.push(c));
    socket.on('close', () => { this.closed = true; });
    socket.on('error', () => { /* close follows */ });
  }

  static async open(port: number, path: string): Promise<RawStream> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
    socket.write(`POST ${path}/xhr_streaming HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n`);
    const s = new RawStream(socket);
    await until(() => s.text().includes('\no\n'), 5000, 'the o frame');
    return s;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }

  /** The SockJS frames after the response head and the 2 KiB prelude; throws on a cut frame. */
  frames(): string[] {
    const body = this.text().split('\r\n\r\n').slice(1).join('\r\n\r\n');
    const lines = body.split('\n');
    if (lines.pop() !== '') throw new Error(`the response ends inside a frame: ${JSON.stringify(body.slice(-200))}`);
    return lines.slice(1);
  }
}

/** Subscribers of `channel` on the node. */
async function subscribers(t: TidingsProcess): Promise<number> {
  const res = await t.api('GET', '/api/channels');
  return (res.body as { channels: Array<{ channel: string; subscribers: number }> }).channels.find((c) => c.channel === CHANNEL)?.subscribers ?? 0;
}

async function metric(t: TidingsProcess, key: string): Promise<number> {
  const text = await (await fetch(`${t.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${key} `));
  return line === undefined ? 0 : Number(line.slice(key.length + 1));
}

describe('SockJS slow consumers', () => {
  let t: TidingsProcess;

  before(async () => {
    t = await startSockjsTidings(['--max-queue-bytes', '262144', '--history-size', '2000', '--sockjs-response-limit', '1000000000']);
  });
  after(async () => {
    await t?.stop();
  });

  it('cuts a paused xhr_streaming client (JSON protocol and STOMP) after its last whole message: disconnect/ERROR 3001, then c[3001]; counted as sockjs', async () => {
    const port = Number(new URL(t.url).port);
    const send = async (path: string, messages: string[]): Promise<void> => {
      const res = await fetch(`${t.url}/sockjs${path}/xhr_send`, { method: 'POST', body: JSON.stringify(messages) });
      assert.equal(res.status, 204);
    };
    const jsonPath = sessionPath();
    const json = await RawStream.open(port, `/sockjs${jsonPath}`);
    await send(jsonPath, [JSON.stringify({ id: 1, type: 'connect' }), JSON.stringify({ id: 2, type: 'subscribe', channel: CHANNEL })]);
    const stompPath = sessionPath();
    const stomp = await RawStream.open(port, `/sockjs${stompPath}`);
    await send(stompPath, [CONNECT, `SUBSCRIBE\nid:0\ndestination:/topic/${CHANNEL}\nreceipt:r\n\n\u0000`]);
    await until(() => json.text().includes('\\"id\\":2') && stomp.text().includes('receipt-id'), 5000, 'both subscribed');
    assert.equal(await metric(t, 'tidings_connections{transport="sockjs"}'), 2);
    const before = await metric(t, 'tidings_slow_consumer_disconnects_total{transport="sockjs"}');
    json.socket.pause();
    stomp.socket.pause();

    const payload = 'x'.repeat(16 * 1024);
    let published = 0;
    while ((await subscribers(t)) > 0) {
      assert.ok(published < 1500, 'both cut within 1500 publications of 16 KiB');
      for (let k = 0; k < 10; k++) await t.publish(CHANNEL, { i: ++published, payload });
    }
    json.socket.resume();
    stomp.socket.resume();
    await until(() => json.closed && stomp.closed, 10_000, 'both responses to end');

    const jsonFrames = json.frames();
    const last = jsonFrames.at(-1)!;
    assert.match(last, /^c\[3001,/);
    const messages = jsonFrames.filter((f) => f.startsWith('a')).flatMap((f) => (JSON.parse(f.slice(1)) as string[]).map((m) => JSON.parse(m) as { type: string; offset?: number; code?: number }));
    assert.deepEqual(messages.at(-1), { ...messages.at(-1), type: 'disconnect', code: 3001 });
    const offsets = messages.filter((m) => m.type === 'publication').map((m) => m.offset);
    assert.ok(offsets.length > 0 && offsets.length < published, `got ${offsets.length} of ${published}`);
    assert.deepEqual(offsets, offsets.map((_, i) => i + 1), 'what it got is the start of the channel, in order');

    const stompFrames = stomp.frames();
    assert.match(stompFrames.at(-1)!, /^c\[3001,/);
    const stompText = stompFrames.filter((f) => f.startsWith('a')).flatMap((f) => JSON.parse(f.slice(1)) as string[]).join('');
    const frames = stompText.split('\u0000').filter((f) => f.replace(/\n/g, '') !== '');
    assert.match(frames.at(-1)!, /^ERROR\n(.*\n)*x-close-code:3001\n/);
    const stompOffsets = frames.filter((f) => f.startsWith('MESSAGE\n')).map((f) => Number(/\nx-offset:(\d+)\n/.exec(f)?.[1]));
    assert.ok(stompOffsets.length > 0 && stompOffsets.length < published);
    assert.deepEqual(stompOffsets, stompOffsets.map((_, i) => i + 1));

    assert.equal(await metric(t, 'tidings_slow_consumer_disconnects_total{transport="sockjs"}') - before, 2);
    assert.ok(await metric(t, 'tidings_messages_written_total{transport="sockjs"}') >= offsets.length + stompOffsets.length);
    assert.ok(await metric(t, 'tidings_frames_written_total{transport="sockjs"}') > 0);
    assert.ok(await metric(t, 'tidings_bytes_written_total{transport="sockjs"}') > (offsets.length + stompOffsets.length) * payload.length);
    assert.equal(await metric(t, 'tidings_handshakes_total{transport="sockjs"}'), 2);
    assert.equal(await metric(t, 'tidings_connections{transport="sockjs"}'), 0);
  });
});
