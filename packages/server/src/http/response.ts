import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { streamBody } from '../transports/http-stream.js';

/** What `sendJson` and `sendError` write through; node:http's ServerResponse is one as it is. */
export interface JsonResponse {
  readonly headersSent: boolean;
  writeHead(status: number, headers: OutgoingHttpHeaders): void;
  end(body?: string | Buffer): void;
  destroy(): void;
}

/** What `applyCors` needs: a JsonResponse that takes headers before `writeHead`. */
export interface CorsResponse extends JsonResponse {
  setHeader(name: string, value: string): void;
}

/** Told once that a response is over: it ended, or its connection closed. */
export interface ResponseListener {
  responseClosed(): void;
  /** The connection took what it buffered, after `writableNeedDrain` was true. */
  responseDrained?(): void;
}

/**
 * The response the SSE, HTTP-streaming and polling endpoints write through: over node:http's
 * ServerResponse (`NodeResponse`), or over a bare socket the front door read the request from
 * (`BareResponse`), where SSE and NDJSON bodies end with the connection.
 */
export interface HttpResponse extends CorsResponse {
  /** Ended, or the connection is gone: writes are dropped. */
  readonly writableEnded: boolean;
  /** Bytes written and not yet taken by the kernel. */
  readonly writableLength: number;
  /** The connection's buffer is full (its highWaterMark): hold further writes until `responseDrained`. */
  readonly writableNeedDrain: boolean;
  /** Sends the status line and headers now, before any body. */
  flushHeaders(): void;
  write(body: string | Buffer): void;
  /** One tick's stream messages: SSE events (`ids` has one per message) or NDJSON lines (`ids` is empty). */
  writeEvents(messages: Buffer[], ids: string[]): void;
  /** Calls `listener.responseClosed()` once, when the response ended or its connection closed (at once if it already has). */
  onClose(listener: ResponseListener): void;
}

const LISTENER = Symbol('tidings.responseListener');
const DRAINING = Symbol('tidings.drainingSocket');

interface ListenedResponse extends ServerResponse {
  [LISTENER]?: ResponseListener;
  /** The socket whose 'drain' the listener hears, until the response closes (node:http may reuse the socket). */
  [DRAINING]?: ListenedSocket;
}

interface ListenedSocket extends Socket {
  [LISTENER]?: ResponseListener;
}

function onNodeClose(this: ServerResponse): void {
  const res = this as ListenedResponse;
  const socket = res[DRAINING];
  if (socket) {
    socket[LISTENER] = undefined;
    socket.removeListener('drain', onNodeDrain);
    res[DRAINING] = undefined;
  }
  res[LISTENER]?.responseClosed();
}

function onNodeDrain(this: Socket): void {
  (this as ListenedSocket)[LISTENER]?.responseDrained?.();
}

/** An HttpResponse over node:http's ServerResponse: a transport request on a connection node:http already owns. */
export class NodeResponse implements HttpResponse {
  constructor(private readonly res: ServerResponse) {}

  get headersSent(): boolean {
    return this.res.headersSent;
  }

  get writableEnded(): boolean {
    return !this.res.writable;
  }

  get writableLength(): number {
    return this.res.writableLength;
  }

  /** `writeEvents` may write to the socket directly, so its buffer is the one that fills. */
  get writableNeedDrain(): boolean {
    return this.res.writableNeedDrain || (this.res.socket?.writableNeedDrain ?? false);
  }

  setHeader(name: string, value: string): void {
    this.res.setHeader(name, value);
  }

  writeHead(status: number, headers: OutgoingHttpHeaders): void {
    this.res.writeHead(status, headers);
  }

  flushHeaders(): void {
    this.res.flushHeaders();
  }

  write(body: string | Buffer): void {
    this.res.write(body);
  }

  /**
   * Straight to the socket as one HTTP/1.1 chunk, built once for every subscriber sent the same
   * events, when the response owns the socket (res.socket is set), its head is out and nothing of
   * it still waits inside the response (writableLength counts both); else through `res.write`
   * (HTTP/1.0, not chunked).
   */
  writeEvents(messages: Buffer[], ids: string[]): void {
    const { res } = this;
    const socket = res.socket;
    if (res.headersSent && res.chunkedEncoding && socket && socket.writable && res.writableLength === socket.writableLength) {
      socket.write(streamBody(messages, ids, true));
    } else {
      res.write(streamBody(messages, ids, false));
    }
  }

  end(body?: string | Buffer): void {
    if (body === undefined) this.res.end();
    else this.res.end(body);
  }

  destroy(): void {
    this.res.destroy();
  }

  onClose(listener: ResponseListener): void {
    if (this.res.closed) return listener.responseClosed();
    (this.res as ListenedResponse)[LISTENER] = listener;
    this.res.once('close', onNodeClose);
    const socket = this.res.socket as ListenedSocket | null;
    if (socket && listener.responseDrained) {
      socket[LISTENER] = listener;
      socket.on('drain', onNodeDrain);
      (this.res as ListenedResponse)[DRAINING] = socket;
    }
  }
}
