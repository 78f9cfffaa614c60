/**
 * Raw TCP clients that subscribe and then stop reading (a paused socket), for the slow-consumer
 * tests: a JSON-protocol WebSocket, an SSE or NDJSON stream, and STOMP over TCP. Each keeps every
 * byte it reads, so a test can resume one late and check how what it was sent ends.
 */
import { connect, type Socket } from 'node:net';
import { StompParser, header, type StompFrame } from '@tidings/stomp';

export type SlowKind = 'websocket' | 'sse' | 'ndjson' | 'stomp';

const HEAD_END = Buffer.from('\r\n\r\n');

export class SlowReader {
  /** The server's id for this client (the session's, or the STOMP connection's): its presence entry. */
  id = '';
  /** The socket closed (the server ended or cut it, after this side read everything). */
  closed = false;
  private readonly chunks: Buffer[] = [];
  private length = 0;

  private constructor(readonly kind: SlowKind, readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.length += chunk.length;
    });
    socket.on('close', () => { this.closed = true; });
    socket.on('error', () => { /* close follows */ });
  }

  /**
   * Connects, subscribes to `channel`, reads until subscribed (learning its id), then pauses.
   * `port` is the HTTP port, or the STOMP TCP port for `stomp`.
   */
  static async open(kind: SlowKind, port: number, channel: string): Promise<SlowReader> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const r = new SlowReader(kind, socket);
    const c = encodeURIComponent(channel);
    if (kind === 'websocket') {
      socket.write(`GET /ws?connect=1&channel=${c} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
    } else if (kind === 'stomp') {
      socket.write('CONNECT\naccept-version:1.2\nhost:localhost\nheart-beat:0,0\n\n\0');
      socket.write(`SUBSCRIBE\nid:0\ndestination:/topic/${channel}\nreceipt:subscribed\n\n\0`);
    } else {
      socket.write(`GET /${kind === 'sse' ? 'sse' : 'stream'}?channel=${c} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    }
    await r.until((text) => kind === 'stomp' ? text.includes('receipt-id:subscribed') : text.includes('"type":"subscribed"'));
    const text = r.bytes().toString('latin1');
    r.id = kind === 'stomp' ? /\nsession:([^\n]+)\n/.exec(text)?.[1] ?? '' : /"client":"([^"]+)"/.exec(text)?.[1] ?? '';
    if (r.id === '') throw new Error(`${kind}: no client id in ${JSON.stringify(text)}`);
    socket.pause();
    return r;
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks, this.length);
  }

  resume(): void {
    this.socket.resume();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Waits for the socket to close; throws after `ms`. */
  async ended(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error(`${this.kind} ${this.id}: still open after ${ms} ms (read ${this.length} bytes)`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private async until(done: (text: string) => boolean): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!done(this.bytes().toString('latin1'))) {
      if (this.closed || Date.now() > deadline) throw new Error(`${this.kind}: not subscribed; read ${JSON.stringify(this.bytes().toString('latin1'))}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

/** What a reader was sent, parsed: the publications' offsets in order, and the last thing sent. */
export interface Received {
  offsets: number[];
  /** WebSocket: the close frame's code; SSE/NDJSON: the final `disconnect` message's code; STOMP: the ERROR's `x-close-code`. */
  finalCode: number | undefined;
  /** What came after the final message or frame (nothing, when it really was the last). */
  trailing: number;
  /** WebSocket: the code of the `disconnect` message, when it was the last message before the close frame. */
  disconnect?: number | undefined;
}

/** Parses everything a reader got; throws on a truncated or malformed frame, event or line. */
export function parseReceived(kind: SlowKind, bytes: Buffer): Received {
  if (kind === 'stomp') return parseStomp(bytes);
  const at = bytes.indexOf(HEAD_END);
  if (at < 0) throw new Error('no response head');
  const body = bytes.subarray(at + HEAD_END.length);
  if (kind === 'websocket') return parseWebSocket(body);
  return parseStream(kind, body.toString('utf8'));
}

/** The offset of a `publication` message (JSON text), else undefined. */
function offsetOf(message: { type?: string; offset?: number }): number | undefined {
  return message.type === 'publication' ? message.offset : undefined;
}

function parseWebSocket(body: Buffer): Received {
  const offsets: number[] = [];
  let finalCode: number | undefined;
  let at = 0;
  let afterClose = 0;
  let disconnect: number | undefined;
  while (at < body.length) {
    if (body.length - at < 2) throw new Error(`a truncated frame header at byte ${at} of ${body.length}`);
    const opcode = body[at]! & 0x0f;
    if ((body[at + 1]! & 0x80) !== 0) throw new Error('a masked server frame');
    let length = body[at + 1]! & 0x7f;
    let header = 2;
    if (length === 126) {
      length = body.readUInt16BE(at + 2);
      header = 4;
    } else if (length === 127) {
      length = Number(body.readBigUInt64BE(at + 2));
      header = 10;
    }
    if (at + header + length > body.length) throw new Error(`a truncated frame at byte ${at}: ${length} bytes announced, ${body.length - at - header} there`);
    const payload = body.subarray(at + header, at + header + length);
    at += header + length;
    if (finalCode !== undefined) afterClose++;
    if (opcode === 0x1) {
      for (const line of payload.toString('utf8').split('\n')) {
        const message = JSON.parse(line) as { type?: string; offset?: number; code?: number };
        const offset = offsetOf(message);
        if (offset !== undefined) offsets.push(offset);
        disconnect = message.type === 'disconnect' ? message.code : undefined;
      }
    } else if (opcode === 0x8) {
      finalCode = payload.readUInt16BE(0);
    }
  }
  return { offsets, finalCode, trailing: afterClose, disconnect };
}

function parseStream(kind: 'sse' | 'ndjson', text: string): Received {
  const offsets: number[] = [];
  let finalCode: number | undefined;
  let trailing = 0;
  const separator = kind === 'sse' ? '\n\n' : '\n';
  const parts = text.split(separator);
  if (parts.pop() !== '') throw new Error(`the stream ends inside an ${kind === 'sse' ? 'event' : 'line'}: ${JSON.stringify(text.slice(-200))}`);
  for (const part of parts) {
    const data = kind === 'sse' ? part.split('\n').find((l) => l.startsWith('data: '))?.slice(6) : part;
    if (data === undefined || data === '') continue; // `retry:`, a keepalive
    const message = JSON.parse(data) as { type?: string; offset?: number; code?: number };
    if (finalCode !== undefined) trailing++;
    const offset = offsetOf(message);
    if (offset !== undefined) offsets.push(offset);
    if (message.type === 'disconnect') finalCode = message.code;
  }
  return { offsets, finalCode, trailing };
}

function parseStomp(bytes: Buffer): Received {
  const frames: StompFrame[] = [];
  const parser = new StompParser({ side: 'client', version: '1.2', limits: { maxFrameSize: 1024 * 1024 }, onFrame: (f) => frames.push(f) });
  const error = parser.push(bytes);
  if (error) throw error;
  const end = bytes.length > 0 ? bytes[bytes.length - 1] : undefined;
  if (end !== 0) throw new Error(`the stream ends inside a frame: ${JSON.stringify(bytes.subarray(-200).toString('latin1'))}`);
  const offsets: number[] = [];
  let finalCode: number | undefined;
  let trailing = 0;
  for (const f of frames) {
    if (finalCode !== undefined) trailing++;
    if (f.command === 'MESSAGE') offsets.push(Number(header(f, 'x-offset')));
    if (f.command === 'ERROR') finalCode = Number(header(f, 'x-close-code'));
  }
  return { offsets, finalCode, trailing };
}
