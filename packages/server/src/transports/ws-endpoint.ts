import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
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
 * `/ws`: the WebSocket endpoint. Checks Origin and the handshake token before upgrading, then
 * feeds decoded frames to the session. Keepalive is one sweep over all connections (`heartbeat`).
 */
export class WebSocketEndpoint {
  private readonly wss: WebSocketServer;
  private readonly sessions = new Map<WebSocketTransport, Session>();

  constructor(private readonly host: WebSocketHost) {
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: host.options.limits.maxMessageSize,
      handleProtocols: selectSubprotocol,
    });
  }

  get size(): number {
    return this.sessions.size;
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
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, credentials));
  }

  private accept(ws: WebSocket, credentials: Credentials | undefined): void {
    if (isStompSubprotocol(ws.protocol)) return this.host.stomp.acceptWebSocket(ws, credentials);
    const transport = new WebSocketTransport(ws, this.host.options.limits.maxQueueBytes);
    const session = this.host.newSession(transport, credentials);
    if (!session) {
      ws.close(CloseCode.ConnectionLimit, 'connection limit reached');
      return;
    }
    this.sessions.set(transport, session);
    ws.on('message', (data: RawData) => {
      transport.alive = true;
      for (const d of decodeFrame(rawText(data))) {
        if (d.ok) session.receive(d.command);
        else session.reject(d.id, d.error);
      }
    });
    ws.on('pong', () => { transport.alive = true; });
    ws.on('error', (err) => this.host.log.debug('websocket error', { client: session.id, err: err.message }));
    ws.on('close', () => {
      this.sessions.delete(transport);
      session.closed();
    });
  }

  /** Pings every connection; one that did not answer the previous ping is closed (3002). */
  heartbeat(): void {
    for (const [transport, session] of this.sessions) {
      if (!transport.alive) {
        session.disconnect(CloseCode.NoPong, 'no pong');
        transport.socket.terminate();
        continue;
      }
      transport.alive = false;
      transport.socket.ping();
    }
  }

  /** Tells every connection to reconnect elsewhere and closes it (3000). */
  drain(): void {
    for (const session of this.sessions.values()) session.disconnect(CloseCode.Shutdown, 'server shutting down');
  }

  terminateAll(): void {
    for (const transport of this.sessions.keys()) transport.socket.terminate();
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
