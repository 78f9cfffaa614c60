import { CloseCode, ErrorCode, decodeServerFrame } from '@tidings/protocol';
import type { Command, CommandType, ConnectResult, DisconnectMessage, ResultOf, ServerMessage, StreamPosition } from '@tidings/protocol';
import { ClientErrorCode, TidingsError } from './errors.js';
import type { Transport, TransportFactory } from './transports/transport.js';

/** A command as the caller writes it; the session assigns the id. */
export type CommandBody = Command extends infer C ? (C extends Command ? Omit<C, 'id'> : never) : never;

/** Server messages that are not replies to a command. */
export type Push = Exclude<ServerMessage, { type: 'reply' | 'error' | 'disconnect' }>;

export type ReplyCallback<T extends CommandType> = (error: TidingsError | undefined, result: ResultOf[T] | undefined) => void;

export interface SessionClose {
  code: number;
  reason: string;
  reconnect: boolean;
}

export interface SessionHandlers {
  onConnected(result: ConnectResult): void;
  onPush(message: Push): void;
  /** Called once, before pending commands are failed. */
  onClosed(close: SessionClose): void;
}

export interface SessionOptions {
  token: string | undefined;
  name: string | undefined;
  /** Positions of the server-side subscriptions the client had, sent with `connect` so the server resumes them. */
  subs: Record<string, StreamPosition> | undefined;
  /** Milliseconds to wait for each reply. */
  timeout: number;
  /** Milliseconds to wait for the connection (transport open and `connect` answered). */
  connectTimeout: number;
  /** Milliseconds between `ping` commands once connected; 0 disables. */
  pingInterval: number;
}

interface Pending {
  done: (error: TidingsError | undefined, result: unknown) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** Close codes standing in for a refused `connect`, so one rule (`shouldReconnect`) decides what happens next. */
function closeCodeFor(error: TidingsError): number {
  switch (error.code) {
    case ErrorCode.Unauthorized: return CloseCode.InvalidToken;
    case ErrorCode.TokenExpired: return CloseCode.TokenExpired;
    case ErrorCode.PermissionDenied: return CloseCode.PermissionDenied;
    case ErrorCode.BadRequest: return CloseCode.BadRequest;
    default: return CloseCode.ForceReconnect;
  }
}

/** Protocol error (standard close code): used when the server sends something unreadable. */
const PROTOCOL_ERROR = 1002;

/**
 * One connection: opens a transport, sends `connect`, matches replies to
 * commands, and reports how it ended. A new session is made for every attempt.
 */
export class Session {
  private transport: Transport | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private outbox: string[] = [];
  private connected = false;
  private closed = false;
  private disconnectMessage: DisconnectMessage | undefined;
  private connectTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly factory: TransportFactory,
    private readonly options: SessionOptions,
    private readonly handlers: SessionHandlers,
  ) {}

  get transportName(): string {
    return this.factory.name;
  }

  /** True once the server accepted `connect` (it stays true after the close). */
  get hasConnected(): boolean {
    return this.connected;
  }

  /** Opens the transport; throws when it cannot even be created (e.g. no WebSocket implementation). */
  start(): void {
    this.connectTimer = setTimeout(() => this.close(CloseCode.ConnectTimeout, 'connect timeout'), this.options.connectTimeout);
    this.transport = this.factory.open({
      onOpen: () => this.sendConnect(),
      onFrame: (frame) => this.onFrame(frame),
      onClose: (code, reason) => this.onTransportClose(code, reason),
    });
  }

  request<T extends CommandType>(command: CommandBody & { type: T }, done: ReplyCallback<T>): void {
    if (this.closed) {
      done(new TidingsError(ClientErrorCode.ConnectionClosed, 'connection closed'), undefined);
      return;
    }
    const id = this.nextId++;
    const timer = setTimeout(() => {
      this.pending.delete(id);
      done(new TidingsError(ClientErrorCode.Timeout, `no reply to ${command.type} within ${this.options.timeout} ms`), undefined);
    }, this.options.timeout);
    this.pending.set(id, { done: (error, result) => done(error, result as ResultOf[T] | undefined), timer });
    this.write(JSON.stringify({ ...command, id }));
  }

  /** Ends the session and reports it through `onClosed` (once). */
  close(code: number, reason: string, reconnect = true): void {
    if (this.closed) return;
    this.transport?.close(code, reason);
    this.finish({ code, reason, reconnect });
  }

  private write(line: string): void {
    this.outbox.push(line);
    if (this.outbox.length === 1) queueMicrotask(() => this.flush());
  }

  private flush(): void {
    if (this.closed || this.outbox.length === 0) return;
    const frame = this.outbox.join('\n');
    this.outbox = [];
    this.transport?.send(frame);
  }

  private sendConnect(): void {
    const command: CommandBody & { type: 'connect' } = { type: 'connect' };
    if (this.options.token !== undefined) command.token = this.options.token;
    if (this.options.name !== undefined) command.name = this.options.name;
    if (this.options.subs !== undefined) command.subs = this.options.subs;
    this.request(command, (error, result) => {
      if (error || !result) {
        if (error && error.code !== ClientErrorCode.ConnectionClosed) this.close(closeCodeFor(error), error.message);
        return;
      }
      clearTimeout(this.connectTimer);
      this.connected = true;
      if (this.options.pingInterval > 0) this.pingTimer = setInterval(() => this.ping(), this.options.pingInterval);
      this.handlers.onConnected(result);
    });
  }

  private ping(): void {
    this.request({ type: 'ping' }, (error) => {
      if (error?.code === ClientErrorCode.Timeout) this.close(CloseCode.NoPong, 'no reply to ping');
    });
  }

  private onFrame(frame: string): void {
    let messages: ServerMessage[];
    try {
      messages = decodeServerFrame(frame);
    } catch {
      this.close(PROTOCOL_ERROR, 'unreadable frame from server');
      return;
    }
    for (const message of messages) {
      if (this.closed) return;
      switch (message.type) {
        case 'reply':
        case 'error': {
          const pending = this.pending.get(message.id);
          if (!pending) break;
          this.pending.delete(message.id);
          clearTimeout(pending.timer);
          if (message.type === 'reply') pending.done(undefined, message.result);
          else pending.done(new TidingsError(message.error.code, message.error.message, message.error.idempotencyKey), undefined);
          break;
        }
        case 'disconnect':
          this.disconnectMessage = message;
          break;
        default:
          if (this.connected) this.handlers.onPush(message);
      }
    }
  }

  private onTransportClose(code: number, reason: string): void {
    const d = this.disconnectMessage;
    this.finish(d ? { code: d.code, reason: d.reason, reconnect: d.reconnect } : { code, reason, reconnect: true });
  }

  private finish(close: SessionClose): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.connectTimer);
    clearInterval(this.pingTimer);
    this.handlers.onClosed(close);
    const error = new TidingsError(ClientErrorCode.ConnectionClosed, `connection closed (${close.code} ${close.reason})`);
    for (const { done, timer } of this.pending.values()) {
      clearTimeout(timer);
      done(error, undefined);
    }
    this.pending.clear();
  }
}
