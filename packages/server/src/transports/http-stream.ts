import type { ServerResponse } from 'node:http';
import { scheduleFlush, type Flushable, type Transport } from './transport.js';

/** Something that knows the resume cursor after the last message written (the session). */
export interface CursorSource {
  cursor(): string;
}

export type StreamFormat = 'sse' | 'ndjson';

const NEWLINE = Buffer.from('\n');
const SSE_DATA = Buffer.from('\ndata: ');
const SSE_END = Buffer.from('\n\n');
const SSE_HEARTBEAT = Buffer.from(': heartbeat\n\n');

/**
 * A long-lived HTTP response carrying protocol messages: Server-Sent Events (`event: message`,
 * `id:` = the resume cursor after that message) or newline-delimited JSON. Writes of one tick
 * leave in one `write`. Server-to-client only; commands come through `/emulation`.
 */
export class HttpStreamTransport implements Transport, Flushable {
  readonly bidirectional = false;
  readonly name: string;
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  private closed = false;
  private source: CursorSource | undefined;

  constructor(private readonly res: ServerResponse, readonly format: StreamFormat, private readonly maxQueueBytes: number) {
    this.name = format === 'sse' ? 'sse' : 'stream';
  }

  /** SSE only: where event ids come from. */
  attach(source: CursorSource): void {
    this.source = source;
  }

  write(message: Buffer): boolean {
    if (this.closed) return true;
    if (this.queue.length === 0) scheduleFlush(this);
    if (this.format === 'sse') {
      const id = Buffer.from(`id: ${this.source?.cursor() ?? ''}`);
      this.queue.push(id, SSE_DATA, message, SSE_END);
      this.queuedBytes += id.length + message.length + 9;
    } else {
      this.queue.push(message, NEWLINE);
      this.queuedBytes += message.length + 1;
    }
    return this.queuedBytes + this.res.writableLength <= this.maxQueueBytes;
  }

  flush(): void {
    if (this.queue.length === 0) return;
    const chunk = Buffer.concat(this.queue, this.queuedBytes);
    this.queue = [];
    this.queuedBytes = 0;
    if (this.res.writable) this.res.write(chunk);
  }

  /** Keeps proxies from timing the stream out: an SSE comment, or an empty NDJSON line. */
  heartbeat(): void {
    if (this.closed || this.queue.length > 0) return;
    this.res.write(this.format === 'sse' ? SSE_HEARTBEAT : NEWLINE);
  }

  close(): void {
    if (this.closed) return;
    if (this.queuedBytes + this.res.writableLength > this.maxQueueBytes) {
      this.queue = [];
      this.queuedBytes = 0;
    }
    this.flush();
    this.closed = true;
    this.res.end();
  }
}
