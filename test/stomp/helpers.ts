/**
 * Helpers for the STOMP integration tests: a server with STOMP over TCP on, the stock
 * `@stomp/stompjs` client over `ws`, and a raw frame-level client for TCP or WebSocket.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { Client, type IFrame, type IMessage, type StompHeaders } from '@stomp/stompjs';
import stompitLib from 'stompit';
import WebSocket from 'ws';
import { StompParser, header, serializeFrame, type StompFrame, type StompVersion } from '@tidings/stomp';
import { freePort, startTidings, type TidingsProcess } from '../helpers/tidings.js';

export interface StompTidings {
  t: TidingsProcess;
  stompPort: number;
}

/**
 * Starts `tidings serve` with `--stomp-port` and namespaces for the tests: the default namespace
 * lets clients publish (so `/topic/news` and `/queue/jobs` take SEND), `chat` too,
 * `private` needs authentication, `readonly` refuses client publishes.
 */
export async function startStompTidings(args: string[] = []): Promise<StompTidings> {
  const dir = mkdtempSync(join(tmpdir(), 'tidings-stomp-'));
  const config = join(dir, 'tidings.json');
  writeFileSync(config, JSON.stringify({
    namespaces: {
      '': { publish: true, historySize: 100 },
      chat: { publish: true, presence: true },
      private: { publish: true, subscribe: 'authenticated' },
      readonly: { publish: false },
    },
  }));
  const stompPort = await freePort();
  const t = await startTidings({ args: ['--config', config, '--stomp-port', String(stompPort), ...args] });
  return { t, stompPort };
}

export interface StompJs {
  client: Client;
  connected: IFrame;
  /** ERROR frames seen. */
  errors: IFrame[];
  /** Close codes of the WebSocket, in order. */
  closes: number[];
}

export interface StompJsOptions {
  protocols?: string[];
  connectHeaders?: StompHeaders;
  heartbeatIncoming?: number;
  heartbeatOutgoing?: number;
  wsOptions?: WebSocket.ClientOptions;
}

/** Connects the stock @stomp/stompjs client over a `ws` WebSocket; resolves on CONNECTED. */
export function stompJs(url: string, opts: StompJsOptions = {}): Promise<StompJs> {
  const errors: IFrame[] = [];
  const closes: number[] = [];
  const client = new Client({
    webSocketFactory: () => new WebSocket(url, opts.protocols ?? ['v12.stomp', 'v11.stomp', 'v10.stomp'], opts.wsOptions),
    connectHeaders: opts.connectHeaders ?? {},
    reconnectDelay: 0,
    heartbeatIncoming: opts.heartbeatIncoming ?? 0,
    heartbeatOutgoing: opts.heartbeatOutgoing ?? 0,
  });
  return new Promise((resolve, reject) => {
    client.onConnect = (frame) => resolve({ client, connected: frame, errors, closes });
    client.onStompError = (frame) => {
      errors.push(frame);
      reject(new Error(`STOMP ERROR: ${frame.headers.message ?? ''}`));
    };
    client.onWebSocketClose = (evt: { code: number }) => {
      closes.push(evt.code);
      reject(new Error(`closed ${evt.code}`));
    };
    client.activate();
  });
}

/** Collects MESSAGE frames of one subscription. */
export class Inbox {
  readonly messages: IMessage[] = [];
  private waiters: Array<() => void> = [];

  readonly push = (m: IMessage): void => {
    this.messages.push(m);
    for (const w of [...this.waiters]) w();
  };

  async until(n: number, ms = 5000): Promise<IMessage[]> {
    await waitFor(() => this.messages.length >= n, ms, `${n} messages (have ${this.messages.length})`, (w) => listenOn(this.waiters, w));
    return this.messages;
  }

  bodies(): string[] {
    return this.messages.map((m) => m.body);
  }
}

async function waitFor(cond: () => boolean, ms: number, what: string, listen: (wake: () => void) => () => void): Promise<void> {
  if (cond()) return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      unlisten();
      reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
    }, ms);
    const check = (): void => {
      if (!cond()) return;
      clearTimeout(timer);
      unlisten();
      resolve();
    };
    const unlisten = listen(check);
  });
}

/** Adds `w` to `list`; returns what removes it. */
function listenOn(list: Array<() => void>, w: () => void): () => void {
  list.push(w);
  return () => {
    const i = list.indexOf(w);
    if (i >= 0) list.splice(i, 1);
  };
}

/**
 * A frame-level STOMP client on a raw TCP socket or WebSocket, for what stock clients won't
 * send: bad input, silence, exact bytes.
 */
export class RawStomp {
  readonly frames: StompFrame[] = [];
  heartbeats = 0;
  /** WebSocket only: how many messages came as binary. */
  binaryMessages = 0;
  closed = false;
  closeCode: number | undefined;
  private readonly parser: StompParser;
  private waiters: Array<() => void> = [];

  private constructor(private readonly out: { write(data: Buffer | string): void; end(): void; destroy(): void }) {
    this.parser = new StompParser({
      side: 'client',
      version: '1.0',
      limits: { maxFrameSize: 1024 * 1024 },
      onFrame: (f) => {
        if (f.command === 'CONNECTED') this.parser.version = (header(f, 'version') ?? '1.0') as StompVersion;
        this.frames.push(f);
      },
      onHeartbeat: () => { this.heartbeats++; },
    });
  }

  static tcp(port: number): Promise<RawStomp> {
    return new Promise((resolve, reject) => {
      const socket: Socket = tcpConnect(port, '127.0.0.1');
      const raw = new RawStomp({ write: (d) => socket.write(d), end: () => socket.end(), destroy: () => socket.destroy() });
      socket.on('data', (d: Buffer) => raw.feed(d));
      socket.on('close', () => raw.gone(undefined));
      socket.on('error', () => { /* close follows */ });
      socket.once('connect', () => resolve(raw));
      socket.once('error', reject);
    });
  }

  /** STOMP over TLS, verifying the server against `ca` only; resolves once the handshake is done. */
  static tls(port: number, ca: string | string[]): Promise<RawStomp> {
    return new Promise((resolve, reject) => {
      const socket = tlsConnect({ port, host: '127.0.0.1', ca });
      const raw = new RawStomp({ write: (d) => socket.write(d), end: () => socket.end(), destroy: () => socket.destroy() });
      socket.on('data', (d: Buffer) => raw.feed(d));
      socket.on('close', () => raw.gone(undefined));
      socket.on('error', () => { /* close follows */ });
      socket.once('secureConnect', () => resolve(raw));
      socket.once('error', reject);
    });
  }

  /** Over WebSocket offering `protocol`; `null` offers no subprotocol (the first frame decides). */
  static ws(url: string, protocol: string | null = 'v12.stomp'): Promise<RawStomp> {
    return new Promise((resolve, reject) => {
      const ws = protocol === null ? new WebSocket(url) : new WebSocket(url, [protocol]);
      const raw = new RawStomp({ write: (d) => ws.send(d), end: () => ws.close(), destroy: () => ws.terminate() });
      ws.on('message', (d: Buffer, isBinary: boolean) => {
        raw.binaryMessages += isBinary ? 1 : 0;
        raw.feed(d);
      });
      ws.on('close', (code: number) => raw.gone(code));
      ws.on('error', () => { /* close follows */ });
      ws.once('open', () => resolve(raw));
      ws.once('unexpected-response', () => reject(new Error('handshake refused')));
    });
  }

  private feed(d: Buffer): void {
    const err = this.parser.push(d);
    if (err) throw new Error(`the server sent a bad frame: ${err.message}`);
    this.wake();
  }

  private gone(code: number | undefined): void {
    this.closed = true;
    this.closeCode = code;
    this.wake();
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  send(data: Buffer | string): void {
    this.out.write(data);
  }

  frame(command: StompFrame['command'], headers: Array<[string, string]> = [], body: string | Uint8Array = '', version: StompVersion = '1.2'): void {
    this.out.write(Buffer.from(serializeFrame({ command, headers, body }, version)));
  }

  /** CONNECT (accept-version 1.0–1.2 unless given) and wait for CONNECTED. */
  async connect(headers: Array<[string, string]> = []): Promise<StompFrame> {
    const all: Array<[string, string]> = headers.some(([n]) => n === 'accept-version') ? headers : [['accept-version', '1.0,1.1,1.2'], ...headers];
    this.frame('CONNECT', [['host', 'localhost'], ...all]);
    return this.next('CONNECTED');
  }

  /** Waits for the next frame of `command` (not yet taken) and takes it. */
  async next(command: string, ms = 5000): Promise<StompFrame> {
    let found: StompFrame | undefined;
    await this.until(() => {
      const i = this.frames.findIndex((f) => f.command === command);
      if (i < 0) return false;
      found = this.frames.splice(i, 1)[0];
      return true;
    }, ms, command);
    return found!;
  }

  async until(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
    await waitFor(cond, ms, `${what} (frames: ${this.frames.map((f) => f.command).join(',')}, closed: ${this.closed})`, (w) => listenOn(this.waiters, w));
  }

  /** Waits for ERROR and then the close; returns the ERROR frame. */
  async errorThenClose(ms = 5000): Promise<StompFrame> {
    const error = await this.next('ERROR', ms);
    await this.until(() => this.closed, ms, 'close');
    return error;
  }

  end(): void {
    this.out.end();
  }

  /** Cuts the connection without a goodbye, as a crashed client would. */
  destroy(): void {
    this.out.destroy();
  }
}

export function text(frame: StompFrame): string {
  return Buffer.from(frame.body).toString('utf8');
}

export { header };

/** Connects the independent `stompit` client over TCP; resolves once CONNECTED arrived. */
export function stompit(port: number, headers: stompitLib.connect.ConnectHeaders = {}, heartbeat?: [number, number]): Promise<stompitLib.Client> {
  return new Promise((resolve, reject) => {
    const options: stompitLib.connect.NetTcpConnectOptions = { host: '127.0.0.1', port, connectHeaders: { host: '/', ...headers } };
    if (heartbeat) options.heartbeat = heartbeat;
    const client = stompitLib.connect(options, (err, c) => (err ? reject(err) : resolve(c)));
    client.on('error', reject);
  });
}

/** The body of a stompit message, as bytes. */
export function stompitBody(message: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    message.on('data', (c: Buffer) => chunks.push(c));
    message.on('end', () => resolve(Buffer.concat(chunks)));
    message.on('error', reject);
  });
}

/** Collects stompit messages with their bodies. */
export class StompitInbox {
  readonly messages: Array<{ message: stompitLib.Client.Message; body: Buffer }> = [];
  private waiters: Array<() => void> = [];

  readonly listener = (err: Error | null, message: stompitLib.Client.Message): void => {
    if (err) return;
    void stompitBody(message).then((body) => {
      this.messages.push({ message, body });
      for (const w of [...this.waiters]) w();
    });
  };

  async until(n: number, ms = 5000): Promise<Array<{ message: stompitLib.Client.Message; body: Buffer }>> {
    await waitFor(() => this.messages.length >= n, ms, `${n} stompit messages (have ${this.messages.length})`, (w) => listenOn(this.waiters, w));
    return this.messages;
  }

  texts(): string[] {
    return this.messages.map((m) => m.body.toString('utf8'));
  }
}
