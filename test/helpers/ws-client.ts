/**
 * A small test driver for the JSON protocol over a real `ws` WebSocket: numbered commands,
 * awaited replies, recorded pushes and the close code.
 */
import WebSocket from 'ws';
import type { ProtocolError, ServerMessage } from '@tidings/protocol';

export class ReplyError extends Error {
  constructor(readonly error: ProtocolError) {
    super(`${error.code}: ${error.message}`);
  }
}

export class WsClient {
  readonly messages: ServerMessage[] = [];
  closeCode: number | undefined;
  closeReason = '';
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private listeners: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: WebSocket.RawData) => {
      for (const line of data.toString().split('\n')) {
        if (line === '') continue;
        const msg = JSON.parse(line) as ServerMessage;
        this.messages.push(msg);
        if (msg.type === 'reply' || msg.type === 'error') {
          const w = this.waiting.get(msg.id);
          this.waiting.delete(msg.id);
          if (msg.type === 'reply') w?.resolve(msg.result);
          else w?.reject(new ReplyError(msg.error));
        }
      }
      this.notify();
    });
    ws.on('close', (code: number, reason: Buffer) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
      for (const w of this.waiting.values()) w.reject(new Error(`closed ${code}`));
      this.waiting.clear();
      this.notify();
    });
    ws.on('error', () => { /* the close event follows */ });
  }

  static async open(url: string, options: WebSocket.ClientOptions = {}): Promise<WsClient> {
    const ws = new WebSocket(url, options);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => reject(new Error(`handshake refused: ${res.statusCode}`)));
      ws.once('error', reject);
    });
    return new WsClient(ws);
  }

  /** Opens and sends `connect`. */
  static async connect(url: string, token?: string): Promise<WsClient> {
    const c = await WsClient.open(url);
    await c.command('connect', token ? { token } : {});
    return c;
  }

  command<T = Record<string, unknown>>(type: string, fields: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    const p = new Promise<unknown>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    this.ws.send(JSON.stringify({ id, type, ...fields }));
    return p as Promise<T>;
  }

  sendRaw(data: string | Buffer): void {
    this.ws.send(data);
  }

  /** Pushes of one type seen so far. */
  pushes<K extends ServerMessage['type']>(type: K): Array<Extract<ServerMessage, { type: K }>> {
    return this.messages.filter((m): m is Extract<ServerMessage, { type: K }> => m.type === type);
  }

  /** Waits until `cond` holds (checked after every message and on close). */
  async until(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
    if (cond()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners = this.listeners.filter((l) => l !== check);
        reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
      }, ms);
      const check = (): void => {
        if (!cond()) return;
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== check);
        resolve();
      };
      this.listeners.push(check);
    });
  }

  async closed(ms = 5000): Promise<number> {
    await this.until(() => this.closeCode !== undefined, ms, 'close');
    return this.closeCode!;
  }

  close(): void {
    this.ws.close();
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }
}
