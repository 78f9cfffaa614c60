import { STATUS_CODES, type OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { streamBody } from '../transports/http-stream.js';
import { MAX_HEAD_BYTES } from './request-head.js';
import type { HttpResponse, ResponseListener } from './response.js';

/** What a bare response needs from the front door that read its request. */
export interface BareDoor {
  /** The node is draining: answer with `Connection: close`. */
  readonly closing: boolean;
  /** The response ended on a keep-alive connection: read the next request head (`pipelined`: bytes of it already read). */
  reuse(socket: Socket, pipelined: Buffer | undefined): void;
  /** The connection closed. */
  forget(socket: Socket): void;
}

/** Seconds an idle keep-alive connection is kept, as announced in `Keep-Alive: timeout=`. */
export const KEEP_ALIVE_SECONDS = 5;

/**
 * An HttpResponse written straight to a socket the front door read the request head from: no
 * node:http objects. The status line and headers are ours. A response without Content-Length (an
 * SSE or NDJSON stream) is delimited by the end of the connection (`Connection: close`); one with
 * Content-Length (a poll answer) keeps an HTTP/1.1 connection alive unless the client or a
 * draining node says otherwise, and the socket goes back to the front door for the next request.
 * Bytes the client sends meanwhile wait for that (a pipelined request), bounded by the head limit.
 */
const HEAD_SENT = 1;
const ENDED = 2;
const KEEP_ALIVE = 4;

export class BareResponse implements HttpResponse {
  /** HEAD_SENT, ENDED, KEEP_ALIVE. */
  private flags: number;
  /** `Name: value\r\n` lines from `setHeader` before `writeHead`; then the head, until written with the first body bytes. */
  private head = '';
  private listener: ResponseListener | undefined = undefined;
  /** Client bytes read during a keep-alive exchange: the next request. */
  private pipelined: Buffer | undefined = undefined;

  constructor(private readonly door: BareDoor, readonly socket: Socket, keepAlive: boolean) {
    this.flags = keepAlive ? KEEP_ALIVE : 0;
  }

  get headersSent(): boolean {
    return (this.flags & HEAD_SENT) !== 0;
  }

  get writableEnded(): boolean {
    return (this.flags & ENDED) !== 0 || this.socket.destroyed;
  }

  get writableLength(): number {
    return this.socket.writableLength;
  }

  get writableNeedDrain(): boolean {
    return this.socket.writableNeedDrain;
  }

  setHeader(name: string, value: string): void {
    if (!this.headersSent) this.head += `${name}: ${value}\r\n`;
  }

  writeHead(status: number, headers: OutgoingHttpHeaders): void {
    if (this.headersSent) return;
    let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nDate: ${new Date().toUTCString()}\r\n${this.head}`;
    let sized = false;
    for (const name in headers) {
      const value = headers[name];
      const lower = name.toLowerCase();
      if (value === undefined || lower === 'connection' || lower === 'keep-alive' || lower === 'transfer-encoding') continue;
      if (lower === 'content-length') sized = true;
      head += `${name}: ${Array.isArray(value) ? value.join(', ') : String(value)}\r\n`;
    }
    const keepAlive = (this.flags & KEEP_ALIVE) !== 0 && sized && !this.door.closing;
    this.flags = HEAD_SENT | (keepAlive ? KEEP_ALIVE : 0);
    this.head = `${head}${keepAlive ? `Connection: keep-alive\r\nKeep-Alive: timeout=${KEEP_ALIVE_SECONDS}` : 'Connection: close'}\r\n\r\n`;
  }

  flushHeaders(): void {
    if (!this.headersSent || this.head === '' || this.socket.destroyed) return;
    this.socket.write(this.head, 'latin1');
    this.head = '';
  }

  write(body: string | Buffer): void {
    if (this.writableEnded) return;
    this.flushHeaders();
    this.socket.write(body);
  }

  writeEvents(messages: Buffer[], ids: string[]): void {
    this.write(streamBody(messages, ids, false));
  }

  end(body?: string | Buffer): void {
    if ((this.flags & ENDED) !== 0) return;
    if (!this.headersSent) this.writeHead(200, { 'content-length': body === undefined ? 0 : Buffer.byteLength(body) });
    const { socket } = this;
    if (!socket.destroyed) {
      socket.cork();
      if (body !== undefined && body.length > 0) this.write(body);
      else this.flushHeaders();
      socket.uncork();
    }
    this.flags |= ENDED;
    if (socket.destroyed) return;
    if ((this.flags & KEEP_ALIVE) === 0) {
      socket.destroySoon();
      return;
    }
    this.notify();
    this.door.reuse(socket, this.pipelined);
  }

  destroy(): void {
    this.flags |= ENDED;
    this.socket.destroy();
  }

  onClose(listener: ResponseListener): void {
    if (this.writableEnded && this.socket.destroyed) return listener.responseClosed();
    this.listener = listener;
  }

  /** Bytes from the client while the response is under way: the next request, kept for later on a keep-alive connection. */
  data(chunk: Buffer): void {
    if (this.flags !== KEEP_ALIVE && this.flags !== (KEEP_ALIVE | HEAD_SENT)) return;
    const size = (this.pipelined?.length ?? 0) + chunk.length;
    if (size > MAX_HEAD_BYTES) this.socket.destroy();
    else this.pipelined = this.pipelined ? Buffer.concat([this.pipelined, chunk]) : chunk;
  }

  /** The socket took what it buffered. */
  drained(): void {
    this.listener?.responseDrained?.();
  }

  /** The connection closed while this response owned it. */
  closed(): void {
    this.flags |= ENDED;
    this.door.forget(this.socket);
    this.notify();
  }

  private notify(): void {
    const { listener } = this;
    this.listener = undefined;
    listener?.responseClosed();
  }
}
