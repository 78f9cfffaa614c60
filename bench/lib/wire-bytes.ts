/**
 * Bytes on the wire per notification for one subscriber of Tidings' JSON protocol: a raw TCP
 * client offers permessage-deflate (or not), subscribes, and counts the bytes it reads while the
 * server API publishes NOTIFICATIONS realistic ~1 KB notifications one at a time (each waits for
 * its copy, so every frame holds one message). Deterministic: no timing involved.
 */
import { connect, type Socket } from 'node:net';

const NOTIFICATIONS = 50;

/** A realistic notification (~1 KB of JSON); `i` varies its ids and time. */
export function notification(i: number): Record<string, unknown> {
  return {
    type: 'comment.created', id: `n-${100000 + i}`, userId: `u-${7000 + i}`, title: 'New comment on your post',
    body: 'Alice Johnson commented on "Quarterly planning notes": Looks good to me, but can we move the review to Thursday afternoon? I have a conflict with the design sync and would rather not rush it.',
    actor: { id: 'u-42', name: 'Alice Johnson', avatar: 'https://cdn.example.com/avatars/u-42.png', url: 'https://app.example.com/users/u-42' },
    target: { type: 'post', id: 'p-9876', title: 'Quarterly planning notes', url: 'https://app.example.com/posts/9876' },
    link: `https://app.example.com/posts/9876#comment-${5000 + i}`, createdAt: new Date(1700000000000 + i * 1000).toISOString(),
    read: false, seen: false, priority: 'normal', tags: ['comment', 'mention', 'project:alpha'], channels: ['inbox', 'push', 'email'],
    meta: { source: 'comments-service', version: 3, locale: 'en-US', timezone: 'Europe/Berlin', template: 'comment.created', traceId: '4bf92f3577b34da6a3ce929d0e0e4736' },
  };
}

/** A masked, uncompressed client text frame. */
function clientFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const head = Buffer.from([0x81, 0x80 | payload.length, 0, 0, 0, 0]);
  return Buffer.concat([head, payload]);
}

/** Frames received so far (count only: the server never fragments). */
function countFrames(buf: Buffer): { frames: number; rest: Buffer } {
  let at = 0;
  let frames = 0;
  while (buf.length - at >= 2) {
    const len7 = buf[at + 1]! & 0x7f;
    const head = len7 === 126 ? 4 : len7 === 127 ? 10 : 2;
    if (buf.length - at < head) break;
    const len = len7 === 126 ? buf.readUInt16BE(at + 2) : len7 === 127 ? Number(buf.readBigUInt64BE(at + 2)) : len7;
    if (buf.length - at < head + len) break;
    at += head + len;
    frames++;
  }
  return { frames, rest: buf.subarray(at) };
}

/**
 * Average bytes read per notification by one subscriber of `channel` on the Tidings server at
 * `port`; `extensions` is the offered `Sec-WebSocket-Extensions` (none when undefined).
 */
export async function wireBytesPerNotification(port: number, apiKey: string, extensions: string | undefined, channel = 'wire-bytes'): Promise<number> {
  const socket: Socket = connect(port, '127.0.0.1');
  let bytes = 0;
  let frames = 0;
  let pending: Buffer = Buffer.alloc(0);
  let upgraded = false;
  let wake: (() => void) | undefined;
  socket.on('data', (chunk: Buffer) => {
    if (!upgraded) {
      pending = Buffer.concat([pending, chunk]);
      const end = pending.indexOf('\r\n\r\n');
      if (end < 0) return;
      upgraded = true;
      chunk = pending.subarray(end + 4);
      pending = Buffer.alloc(0);
    }
    bytes += chunk.length;
    const counted = countFrames(Buffer.concat([pending, chunk]));
    frames += counted.frames;
    pending = counted.rest;
    wake?.();
  });
  const framesAtLeast = async (n: number): Promise<void> => {
    const deadline = Date.now() + 10_000;
    while (frames < n) {
      if (Date.now() > deadline) throw new Error(`wire bytes: timed out waiting for frame ${n}`);
      await new Promise<void>((resolve) => { wake = resolve; setTimeout(resolve, 100); });
    }
  };
  socket.write('GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
    `Sec-WebSocket-Version: 13\r\n${extensions === undefined ? '' : `Sec-WebSocket-Extensions: ${extensions}\r\n`}\r\n`);
  socket.write(clientFrame(JSON.stringify({ id: 1, type: 'connect' })));
  socket.write(clientFrame(JSON.stringify({ id: 2, type: 'subscribe', channel })));
  try {
    // the two replies may share a frame (one frame per tick): wait for the first, then for quiet
    await framesAtLeast(1);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const start = bytes;
    const base = frames;
    for (let i = 0; i < NOTIFICATIONS; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/api/publish`, {
        method: 'POST', headers: { 'x-api-key': apiKey, 'content-type': 'application/json' }, body: JSON.stringify({ channel, data: notification(i) }),
      });
      if (!res.ok) throw new Error(`wire bytes: publish answered ${res.status}`);
      await framesAtLeast(base + 1 + i);
    }
    return (bytes - start) / NOTIFICATIONS;
  } finally {
    socket.destroy();
  }
}
