import type { Server } from 'node:http';
import { Server as TlsServer } from 'node:tls';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ErrorCode } from '@tidings/protocol';
import type { Refusals } from '../observability/refusals.js';
import type { Timed, TimerWheel } from '../timer.js';
import { BareResponse, KEEP_ALIVE_SECONDS, type BareDoor } from './bare-response.js';
import { sendError } from './json.js';
import { RequestHeadParser, type HeadResult, type ParsedHead, type RequestHead } from './request-head.js';
import type { HttpResponse } from './response.js';
import { requestUrl } from './target.js';

/** Milliseconds a new connection has at most to send a complete request head (less when `bodyTimeout` is shorter). */
export const HEAD_TIMEOUT_MS = 10_000;
const SWEEP_MS = 1000;
/** Served on the bare socket when asked with GET and no body. */
const BARE_PATHS = new Set(['/sse', '/stream', '/poll']);

/** What the front door hands requests to. */
export interface FrontDoorHost {
  readonly timers: TimerWheel;
  readonly refusals: Refusals;
  handleUpgrade(head: RequestHead, socket: Duplex, rest: Buffer): void;
  /** A GET of a path the front door serves itself, with its response over the bare socket. */
  handleBare(head: ParsedHead, res: HttpResponse, url: URL): void;
}

/** Whoever reads a front-door socket now: its head reader, or the response under way. */
interface SocketOwner {
  data(chunk: Buffer): void;
  /** The socket took what it buffered. */
  drained?(): void;
  closed(): void;
}

const OWNER = Symbol('tidings.owner');

interface DoorSocket extends Socket {
  [OWNER]?: SocketOwner | undefined;
}

// Shared by every socket (`this`), so a connection costs no closures.
function onData(this: Socket, chunk: Buffer): void {
  (this as DoorSocket)[OWNER]?.data(chunk);
}

function onClose(this: Socket): void {
  const owner = (this as DoorSocket)[OWNER];
  (this as DoorSocket)[OWNER] = undefined;
  owner?.closed();
}

function onDrain(this: Socket): void {
  (this as DoorSocket)[OWNER]?.drained?.();
}

function onError(this: Socket): void {
  this.destroy();
}

/** A connection waiting for (the rest of) a request head. */
class HeadReader implements SocketOwner {
  readonly parser = new RequestHeadParser();
  /** Everything read, for node:http when the request goes there. */
  readonly received: Buffer[] = [];

  constructor(private readonly door: FrontDoor, readonly socket: Socket, readonly deadline: number) {}

  data(chunk: Buffer): void {
    this.received.push(chunk);
    const result = this.parser.push(chunk);
    if (result) this.door.route(this, result);
  }

  closed(): void {
    this.door.forgetReader(this);
  }
}

function isUpgrade(head: RequestHead): boolean {
  return head.headers.upgrade !== undefined && /(^|,)\s*upgrade\s*(,|$)/i.test(head.headers.connection ?? '');
}

function hasBody(head: RequestHead): boolean {
  const length = head.headers['content-length'];
  return head.headers['transfer-encoding'] !== undefined || (length !== undefined && Number(length) > 0);
}

function keepAlive(head: ParsedHead): boolean {
  return head.httpVersion === '1.1' && !/(^|,)\s*close\s*(,|$)/i.test(head.headers.connection ?? '');
}

/**
 * The node's listening socket takes connections here first. The front door reads the request
 * head itself (at most MAX_HEAD_BYTES, complete within `headTimeoutMs`, checked by one sweep on
 * the node's timer) and routes it: `GET /sse`, `/stream` and `/poll` without a body are answered
 * on the bare socket (BareResponse), upgrades go to the node's WebSocket endpoint, and everything
 * else, with the bytes read so far, to node:http's own connection handling, which keeps the
 * connection from then on. On an HTTPS server the front door takes each connection once its TLS
 * handshake is done (`secureConnection`), so it reads the decrypted bytes. See docs/architecture.md.
 */
export class FrontDoor implements BareDoor, Timed {
  private readonly nodeHttp: (socket: Socket) => void;
  private readonly readers = new Set<HeadReader>();
  private readonly sockets = new Set<Socket>();
  private sweeping = false;
  closing = false;

  /** `headTimeoutMs`: how long a new connection has to send its request head (HEAD_TIMEOUT_MS at most). */
  constructor(private readonly http: Server, private readonly host: FrontDoorHost, private readonly headTimeoutMs = HEAD_TIMEOUT_MS) {
    // node:http's own connection listener: it is called for the connections handed over.
    const event = http instanceof TlsServer ? 'secureConnection' : 'connection';
    const [nodeHttp] = http.listeners(event) as Array<(socket: Socket) => void>;
    if (!nodeHttp) throw new Error(`node:http registered no ${event} listener`);
    this.nodeHttp = nodeHttp;
    http.removeListener(event, nodeHttp);
    http.on(event, (socket: Socket) => this.accept(socket));
  }

  /** Connections the front door holds (reading a head, or a bare response under way). */
  get size(): number {
    return this.sockets.size;
  }

  accept(socket: Socket): void {
    this.sockets.add(socket);
    // A client's FIN ends the connection once what is written is out, as node:http does.
    socket.allowHalfOpen = false;
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.on('drain', onDrain);
    socket.on('error', onError);
    this.read(socket, Date.now() + this.headTimeoutMs);
  }

  reuse(socket: Socket, pipelined: Buffer | undefined): void {
    const reader = this.read(socket, Date.now() + KEEP_ALIVE_SECONDS * 1000);
    if (pipelined) reader.data(pipelined);
  }

  forget(socket: Socket): void {
    this.sockets.delete(socket);
  }

  forgetReader(reader: HeadReader): void {
    this.readers.delete(reader);
    this.sockets.delete(reader.socket);
  }

  route(reader: HeadReader, result: HeadResult): void {
    this.readers.delete(reader);
    const { socket } = reader;
    if (!result.ok) {
      const code = result.status === 431 ? ErrorCode.MessageTooLarge : ErrorCode.BadRequest;
      this.host.refusals.refused(code === ErrorCode.BadRequest ? 'bad_request' : 'limit', { transport: 'http', code, message: result.message, remote: socket.remoteAddress });
      return sendError(this.respond(socket, false), code, result.message, result.status);
    }
    const { head, rest } = result;
    head.socket = socket;
    if (isUpgrade(head)) {
      this.release(socket);
      return this.host.handleUpgrade(head, socket, rest);
    }
    if (head.method === 'GET' && !hasBody(head)) {
      const url = requestUrl(head.url);
      if (!url) {
        this.host.refusals.request('bad_request', head, ErrorCode.BadRequest, 'malformed request target');
        return sendError(this.respond(socket, false), ErrorCode.BadRequest, 'malformed request target');
      }
      if (BARE_PATHS.has(url.pathname)) {
        const res = this.respond(socket, keepAlive(head));
        if (rest.length > 0) res.data(rest);
        return this.host.handleBare(head, res, url);
      }
    }
    this.release(socket);
    socket.unshift(reader.received.length === 1 ? reader.received[0]! : Buffer.concat(reader.received));
    this.nodeHttp.call(this.http, socket);
  }

  /** The sweep: drops connections whose head did not arrive in time. */
  onTimer(now: number): void {
    this.sweeping = false;
    for (const reader of this.readers) {
      if (reader.deadline > now) continue;
      this.readers.delete(reader);
      if (reader.received.length === 0) {
        reader.socket.destroy();
        continue;
      }
      this.host.refusals.refused('bad_request', { transport: 'http', code: ErrorCode.BadRequest, message: 'request head not received in time', remote: reader.socket.remoteAddress });
      sendError(this.respond(reader.socket, false), ErrorCode.BadRequest, 'request head not received in time', 408);
    }
    this.scheduleSweep(now);
  }

  /** Draining: closes connections waiting for a request; later answers say `Connection: close`. */
  closeIdle(): void {
    this.closing = true;
    for (const reader of this.readers) reader.socket.destroy();
  }

  closeAll(): void {
    this.closing = true;
    for (const socket of this.sockets) socket.destroy();
  }

  private read(socket: Socket, deadline: number): HeadReader {
    const reader = new HeadReader(this, socket, deadline);
    (socket as DoorSocket)[OWNER] = reader;
    this.readers.add(reader);
    this.scheduleSweep(Date.now());
    return reader;
  }

  private respond(socket: Socket, keepAlive: boolean): BareResponse {
    const res = new BareResponse(this, socket, keepAlive);
    (socket as DoorSocket)[OWNER] = res;
    return res;
  }

  /** Hands the socket on, not flowing, so its next reader's first 'data' listener starts it (as node:http does for upgrades). */
  private release(socket: Socket): void {
    this.sockets.delete(socket);
    (socket as DoorSocket)[OWNER] = undefined;
    socket.removeListener('data', onData);
    socket.removeListener('close', onClose);
    socket.removeListener('drain', onDrain);
    socket.removeListener('error', onError);
    socket.allowHalfOpen = true;
    (socket as { readableFlowing: boolean | null }).readableFlowing = null;
  }

  private scheduleSweep(now: number): void {
    if (this.sweeping || this.readers.size === 0) return;
    this.sweeping = true;
    this.host.timers.schedule(this, now + SWEEP_MS);
  }
}
