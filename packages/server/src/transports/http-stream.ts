import type { HttpResponse, ResponseListener } from '../http/response.js';
import type { Written } from '../observability/metrics.js';
import { scheduleFlush, type Flushable, type Transport } from './transport.js';

/** Something that knows the resume cursor after the last message written (the session). */
export interface CursorSource {
  cursor(): string;
}

export type StreamFormat = 'sse' | 'ndjson';

/** Told when a stream's response is ending and when it is over (the endpoint that keeps it). */
export interface StreamOwner {
  /** `close` wrote the last bytes: bound the time they may take to drain. */
  streamClosing(transport: HttpStreamTransport): void;
  streamClosed(transport: HttpStreamTransport): void;
}

const NEWLINE = Buffer.from('\n');
/** A named event, so an EventSource can see it (comments are not dispatched); `message` listeners ignore it. */
const SSE_HEARTBEAT = Buffer.from('event: ping\ndata:\n\n');
const NO_MESSAGES: Buffer[] = [];
/** Bytes of messages per write after the connection drained (see DRAIN_FRAME_BYTES of the WebSocket transport). */
const DRAIN_WRITE_BYTES = 16 * 1024;
const NO_IDS: string[] = [];

/**
 * The last body built and what it holds. A publication reaches every subscriber of a channel in
 * the same order within a tick, and subscribers at the same position share the same cursor, so
 * consecutive flushes usually carry the same messages (the same Buffers) with the same ids: the
 * bytes, chunk framing included, are then built once and written to every socket.
 */
let last = { messages: NO_MESSAGES, ids: NO_IDS, chunked: false, bytes: Buffer.alloc(0) };

function sameAsLast(messages: Buffer[], ids: string[], chunked: boolean): boolean {
  if (last.chunked !== chunked || last.messages.length !== messages.length || last.ids.length !== ids.length) return false;
  for (let i = 0; i < messages.length; i++) if (messages[i] !== last.messages[i]) return false;
  for (let i = 0; i < ids.length; i++) if (ids[i] !== last.ids[i]) return false;
  return true;
}

/**
 * One tick's messages as SSE events (`id: <ids[i]>\ndata: <message>\n\n`, when `ids` has one per
 * message) or NDJSON lines, wrapped in one HTTP/1.1 chunk when `chunked`. An empty id writes no
 * `id:` line: an empty one would reset the browser's last event id, and its next reconnect would
 * then resume from nothing (the `connected` event comes before any subscription has a position).
 */
export function streamBody(messages: Buffer[], ids: string[], chunked: boolean): Buffer {
  if (sameAsLast(messages, ids, chunked)) return last.bytes;
  const sse = ids.length > 0;
  let length = 0;
  for (let i = 0; i < messages.length; i++) {
    const id = sse ? ids[i]! : '';
    length += messages[i]!.length + (!sse ? 1 : id === '' ? 8 : 13 + Buffer.byteLength(id));
  }
  const head = chunked ? `${length.toString(16)}\r\n` : '';
  const bytes = Buffer.allocUnsafe(head.length + length + (chunked ? 2 : 0));
  let at = bytes.write(head, 0, 'latin1');
  for (let i = 0; i < messages.length; i++) {
    if (sse) {
      if (ids[i] !== '') {
        at += bytes.write('id: ', at, 'latin1');
        at += bytes.write(ids[i]!, at, 'utf8');
        bytes[at++] = 0x0a;
      }
      at += bytes.write('data: ', at, 'latin1');
      at += messages[i]!.copy(bytes, at);
      at += bytes.write('\n\n', at, 'latin1');
    } else {
      at += messages[i]!.copy(bytes, at);
      bytes[at++] = 0x0a;
    }
  }
  if (chunked) bytes.write('\r\n', at, 'latin1');
  last = { messages, ids, chunked, bytes };
  return bytes;
}

/**
 * A long-lived HTTP response carrying protocol messages: Server-Sent Events (`event: message`,
 * `id:` = the resume cursor after that message) or newline-delimited JSON. Writes of one tick
 * leave in one `write`. Server-to-client only; commands come through `/emulation`.
 *
 * A tick's events go out through `res.writeEvents`, which frames them (or not) once for every
 * subscriber sent the same events; `res.writableLength` counts what waits in the socket. While
 * the connection is backed up, messages wait here as whole messages and leave in writes of at
 * most DRAIN_WRITE_BYTES as it drains; over `maxQueueBytes` (both counted) `write` returns false.
 */
export class HttpStreamTransport implements Transport, Flushable, ResponseListener {
  private queue: Buffer[] = NO_MESSAGES;
  /** SSE: the cursor after each queued message. */
  private ids: string[] = NO_IDS;
  private queuedBytes = 0;
  private closed = false;
  private source: CursorSource | undefined;

  constructor(
    private readonly res: HttpResponse,
    readonly format: StreamFormat,
    private readonly maxQueueBytes: number,
    private readonly owner: StreamOwner,
    /** Counts messages, writes and their bytes (events and their framing; HTTP chunk headers not counted). */
    private readonly written: Written,
  ) {}

  get name(): string {
    return this.format === 'sse' ? 'sse' : 'stream';
  }

  get bidirectional(): boolean {
    return false;
  }

  /** SSE only: where event ids come from. */
  attach(source: CursorSource): void {
    this.source = source;
  }

  write(message: Buffer): boolean {
    if (this.closed) return true;
    this.written.messages++;
    const sse = this.format === 'sse';
    const id = sse ? this.source?.cursor() ?? '' : '';
    if (this.queue === NO_MESSAGES) {
      this.queue = [message];
      if (sse) this.ids = [id];
      scheduleFlush(this);
    } else {
      this.queue.push(message);
      if (sse) this.ids.push(id);
    }
    this.queuedBytes += message.length + (sse ? 13 + id.length : 1);
    return this.queuedBytes + this.res.writableLength <= this.maxQueueBytes;
  }

  /** Writes what waits, unless the connection is backed up (then `responseDrained` does). */
  flush(): void {
    if (!this.res.writableNeedDrain) this.send(Infinity);
  }

  discard(): void {
    this.queue = NO_MESSAGES;
    this.ids = NO_IDS;
    this.queuedBytes = 0;
  }

  /** Keeps proxies from timing the stream out: an SSE comment, or an empty NDJSON line. */
  heartbeat(): void {
    if (this.closed || this.queue !== NO_MESSAGES || this.res.writableNeedDrain) return;
    this.res.write(this.format === 'sse' ? SSE_HEARTBEAT : NEWLINE);
  }

  /** Writes what waits (backed up or not: it is bounded), then ends the response. */
  close(): void {
    if (this.closed) return;
    this.send(Infinity);
    this.closed = true;
    this.res.end();
    this.owner.streamClosing(this);
  }

  /** Cuts the connection: its last write did not drain in time. */
  terminate(): void {
    this.closed = true;
    this.res.destroy();
  }

  responseDrained(): void {
    while (!this.closed && this.queue !== NO_MESSAGES && !this.res.writableNeedDrain) this.send(DRAIN_WRITE_BYTES);
  }

  /** Writes the first waiting messages, at most `limit` bytes of them (at least one), in one write. */
  private send(limit: number): void {
    const { queue, ids } = this;
    if (queue === NO_MESSAGES) return;
    const sse = ids.length > 0;
    let bytes = 0;
    let n = 0;
    if (this.queuedBytes <= limit) n = queue.length;
    while (n < queue.length) {
      const size = queue[n]!.length + (sse ? 13 + ids[n]!.length : 1);
      if (n > 0 && bytes + size > limit) break;
      bytes += size;
      n++;
    }
    this.written.frames++;
    if (n === queue.length) {
      this.written.bytes += this.queuedBytes;
      this.discard();
      if (!this.res.writableEnded) this.res.writeEvents(queue, ids);
      return;
    }
    this.queue = queue.slice(n);
    this.ids = sse ? ids.slice(n) : NO_IDS;
    this.queuedBytes -= bytes;
    this.written.bytes += bytes;
    if (!this.res.writableEnded) this.res.writeEvents(queue.slice(0, n), sse ? ids.slice(0, n) : NO_IDS);
  }

  responseClosed(): void {
    this.closed = true;
    this.owner.streamClosed(this);
  }
}
