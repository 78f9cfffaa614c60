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

/** What every stream of one endpoint and format shares (one object for all of them, not fields in each). */
export interface StreamKind {
  readonly format: StreamFormat;
  /** Bytes queued here and in the socket past which `write` returns false. */
  readonly maxQueueBytes: number;
  readonly owner: StreamOwner;
  /** Counts messages, writes and their bytes (events and their framing; HTTP chunk headers not counted). */
  readonly written: Written;
}

const NEWLINE = Buffer.from('\n');
/** A named event, so an EventSource can see it (comments are not dispatched); `message` listeners ignore it. */
const SSE_HEARTBEAT = Buffer.from('event: ping\ndata:\n\n');
const NO_MESSAGES: Buffer[] = [];
/** Bytes of messages per write after the connection drained (see DRAIN_FRAME_BYTES of the WebSocket transport). */
const DRAIN_WRITE_BYTES = 16 * 1024;
const NO_IDS: string[] = [];

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
  /** True once `discard` dropped unwritten messages: later ones get no SSE id. */
  private dropped = false;
  /** SSE: the cursor after each queued message. */
  private ids: string[] = NO_IDS;
  private queuedBytes = 0;
  private closed = false;
  private source: CursorSource | undefined;

  constructor(private readonly res: HttpResponse, private readonly kind: StreamKind) {}

  get format(): StreamFormat {
    return this.kind.format;
  }

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
    this.kind.written.messages++;
    const sse = this.format === 'sse';
    const id = sse && !this.dropped ? this.source?.cursor() ?? '' : '';
    if (this.queue === NO_MESSAGES) {
      this.queue = [message];
      if (sse) this.ids = [id];
      scheduleFlush(this);
    } else {
      this.queue.push(message);
      if (sse) this.ids.push(id);
    }
    this.queuedBytes += message.length + (sse ? 13 + id.length : 1);
    return this.queuedBytes + this.res.writableLength <= this.kind.maxQueueBytes;
  }

  /** Writes what waits, unless the connection is backed up (then `responseDrained` does). */
  flush(): void {
    if (!this.res.writableNeedDrain) this.send(Infinity);
  }

  /**
   * Drops what was not written yet (a slow consumer's cut). Messages queued after it (the
   * `disconnect`) carry no SSE `id:`, so the browser keeps the id of the last event it received
   * and resumes from there: the dropped events' ids never reach it.
   */
  discard(): void {
    this.dropped = true;
    this.clear();
  }

  private clear(): void {
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
    this.kind.owner.streamClosing(this);
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
    const { written } = this.kind;
    written.frames++;
    if (n === queue.length) {
      written.bytes += this.queuedBytes;
      this.clear();
      if (!this.res.writableEnded) this.res.writeEvents(queue, ids);
      return;
    }
    this.queue = queue.slice(n);
    this.ids = sse ? ids.slice(n) : NO_IDS;
    this.queuedBytes -= bytes;
    written.bytes += bytes;
    if (!this.res.writableEnded) this.res.writeEvents(queue.slice(0, n), sse ? ids.slice(0, n) : NO_IDS);
  }

  responseClosed(): void {
    this.closed = true;
    this.kind.owner.streamClosed(this);
  }
}
