import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { CloseCode, ErrorCode, decodeFrame, httpStatusOf } from '@tidings/protocol';
import { AuthError, type Credentials } from '../auth/jwt.js';
import { handshakeToken } from '../http/credentials.js';
import { originAllowed } from '../http/origin.js';
import type { Logger } from '../log.js';
import type { ServerOptions } from '../options.js';
import type { Session } from '../session.js';
import { isStompSubprotocol, selectSubprotocol } from '../stomp/index.js';
import { WebSocketTransport } from './websocket.js';

/** What the WebSocket endpoint needs from its node. */
export interface WebSocketHost {
  readonly options: ServerOptions;
  readonly log: Logger;
  readonly draining: boolean;
  verify(token: string): Promise<Credentials>;
  /** Creates a session for a new connection; `undefined` when the node is full. */
  newSession(transport: WebSocketTransport, credentials: Credentials | undefined): Session | undefined;
  /** Takes connections that chose a STOMP subprotocol (`v10.stomp`, `v11.stomp`, `v12.stomp`). */
  readonly stomp: { acceptWebSocket(ws: WebSocket, credentials: Credentials | undefined): void };
}

/**
 * A `ws` WebSocket that knows its JSON-protocol transport and session, so one set of listener
 * functions serves every connection (no closures per connection). STOMP connections leave them unset.
 */
class Connection extends WebSocket {
  transport: WebSocketTransport | undefined = undefined;
  session: Session | undefined = undefined;
  endpoint: WebSocketEndpoint | undefined = undefined;
}

/** Until `ws` takes an upgrading socket (and handles its errors), an error destroys it. Shared, not a closure per socket. */
export function destroyOnError(this: Duplex): void {
  this.destroy();
}

// `ws` calls listeners with the WebSocket as `this`; every one the endpoint creates is a Connection.
function onMessage(this: WebSocket, data: RawData): void {
  const { transport, session } = this as Connection;
  if (!transport || !session) return;
  transport.alive = true;
  for (const d of decodeFrame(rawText(data))) {
    if (d.ok) session.receive(d.command);
    else session.reject(d.id, d.error);
  }
}

function onPong(this: WebSocket): void {
  const { transport } = this as Connection;
  if (transport) transport.alive = true;
}

function onError(this: WebSocket, err: Error): void {
  const { endpoint, session } = this as Connection;
  endpoint?.log.debug('websocket error', { client: session?.id, err: err.message });
}

function onClose(this: WebSocket): void {
  (this as Connection).endpoint?.remove(this as Connection);
}

/**
 * `/ws`: the WebSocket endpoint. Checks Origin and the handshake token before upgrading, then
 * feeds decoded frames to the session. Keepalive is one sweep over all connections (`heartbeat`).
 */
export class WebSocketEndpoint {
  private readonly wss: WebSocketServer;
  private readonly connections = new Set<Connection>();

  constructor(private readonly host: WebSocketHost) {
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: host.options.limits.maxMessageSize,
      handleProtocols: selectSubprotocol,
      WebSocket: Connection,
    });
  }

  get log(): Logger {
    return this.host.log;
  }

  get size(): number {
    return this.connections.size;
  }

  async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): Promise<void> {
    const { options } = this.host;
    if (!originAllowed(req.headers.origin, req.headers.host, options.allowedOrigins)) {
      return refuse(socket, ErrorCode.PermissionDenied, `origin ${req.headers.origin ?? ''} is not allowed`);
    }
    if (this.host.draining) return refuse(socket, ErrorCode.ShuttingDown, 'the node is shutting down');
    let credentials: Credentials | undefined;
    const token = handshakeToken(req, url);
    if (token !== undefined) {
      try {
        credentials = await this.host.verify(token);
      } catch (err) {
        if (err instanceof AuthError) return refuse(socket, err.code, err.message);
        throw err;
      }
    }
    if (socket.destroyed) return;
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws as Connection, socket, credentials));
  }

  private accept(ws: Connection, raw: Duplex, credentials: Credentials | undefined): void {
    raw.removeListener('error', destroyOnError); // ws handles the socket's errors from now on
    if (isStompSubprotocol(ws.protocol)) return this.host.stomp.acceptWebSocket(ws, credentials);
    ws.endpoint = this;
    ws.on('message', onMessage);
    ws.on('pong', onPong);
    ws.on('error', onError);
    ws.on('close', onClose);
    const transport = new WebSocketTransport(ws, raw, this.host.options.limits.maxQueueBytes);
    const session = this.host.newSession(transport, credentials);
    if (!session) {
      ws.close(CloseCode.ConnectionLimit, 'connection limit reached');
      return;
    }
    ws.transport = transport;
    ws.session = session;
    this.connections.add(ws);
  }

  /** The connection closed. */
  remove(ws: Connection): void {
    if (!this.connections.delete(ws)) return;
    ws.session?.closed();
  }

  /** Pings every connection; one that did not answer the previous ping is closed (3002). */
  heartbeat(): void {
    for (const ws of this.connections) {
      const { transport, session } = ws;
      if (!transport || !session) continue;
      if (!transport.alive) {
        session.disconnect(CloseCode.NoPong, 'no pong');
        ws.terminate();
        continue;
      }
      transport.alive = false;
      ws.ping();
    }
  }

  /** Tells every connection to reconnect elsewhere and closes it (3000). */
  drain(): void {
    for (const ws of [...this.connections]) ws.session?.disconnect(CloseCode.Shutdown, 'server shutting down');
  }

  terminateAll(): void {
    for (const ws of [...this.connections]) ws.terminate();
  }
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/** Answers a refused upgrade with an HTTP error and the JSON error body, then closes. */
function refuse(socket: Duplex, code: number, message: string): void {
  const status = httpStatusOf(code);
  const body = JSON.stringify({ error: { code, message } });
  socket.end(
    `HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : 'Error'}\r\n` +
    `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
