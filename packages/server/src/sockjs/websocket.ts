import type { WebSocketConnection, WebSocketUser } from '../websocket/connection.js';
import { frame as wsFrame } from '../websocket/frames.js';
import { Opcode } from '../websocket/receiver.js';
import { parseMessages } from './frames.js';
import type { Receiver, SockjsSession } from './session.js';

/** The last WebSocket frame built, by the SockJS frame it carries (the same string for every subscriber of a publication). */
let lastText: string | undefined;
let lastBytes: Buffer = Buffer.alloc(0);

/** What both SockJS WebSocket receivers share: the connection's buffer state, drain, close and end. */
abstract class WebSocketReceiver implements Receiver, WebSocketUser {
  readonly polling = false;

  constructor(protected readonly connection: WebSocketConnection, protected readonly session: SockjsSession) {}

  get buffered(): number {
    return this.connection.bufferedAmount;
  }

  get backedUp(): boolean {
    return this.connection.backedUp;
  }

  onDrain(): void {
    this.session.drained(this);
  }

  end(): void {
    this.connection.close(1000, '');
  }

  onPong(): void {}

  onClosed(): void {
    this.session.detach(this, true);
  }

  abstract send(frame: string): boolean;
  abstract onMessage(data: Buffer): void;
}

/**
 * `<prefix>/<server>/<session>/websocket`: SockJS frames as WebSocket text messages; the client
 * sends JSON arrays of strings (or one JSON string). Anything else ends the connection.
 */
export class FramedWebSocket extends WebSocketReceiver {
  send(frame: string): boolean {
    if (frame !== lastText) {
      lastText = frame;
      lastBytes = wsFrame(Opcode.Text, Buffer.from(frame, 'utf8'));
    }
    this.connection.send(lastBytes);
    return true;
  }

  onMessage(data: Buffer): void {
    if (data.length === 0) return;
    const messages = parseMessages(data.toString('utf8'), true);
    if (!messages) {
      this.session.close(1002, 'Broken framing.');
      this.connection.terminate();
      return;
    }
    this.session.receive(messages);
  }
}

/**
 * `<prefix>/websocket`: no SockJS framing; each message is one WebSocket text message and the
 * close frame carries the close code. Heartbeats are WebSocket pings.
 */
export class RawWebSocket extends WebSocketReceiver {
  send(frame: string): boolean {
    const kind = frame[0];
    if (kind === 'h') this.connection.ping();
    else if (kind === 'a') {
      for (const message of JSON.parse(frame.slice(1)) as string[]) this.connection.send(wsFrame(Opcode.Text, Buffer.from(message, 'utf8')));
    } else if (kind === 'c') {
      const [code, reason] = JSON.parse(frame.slice(1)) as [number, string];
      this.connection.close(code, reason);
    }
    return true;
  }

  onMessage(data: Buffer): void {
    this.session.receive([data.toString('utf8')]);
  }
}
