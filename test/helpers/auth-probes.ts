/**
 * One probe per client transport for the auth matrix (test/server/auth-matrix.test.ts): each
 * tries to read one channel with given credentials through real clients (`ws`, raw STOMP frames
 * over WebSocket or TCP, `fetch` for `/sse`, `/stream`, `/poll` and `/emulation`) and reports what
 * happened as a short outcome string, plus every publication it received.
 *
 * Outcome strings: `allowed`; `http <status>/<error code>` (refused before a stream or upgrade);
 * `error <code>` (an error reply, the connection stays); `error <code>, close <close code>`
 * (an error reply, then the WebSocket closes); `ERROR <x-code>, close <close code>` (a STOMP ERROR
 * frame; over TCP the close code is the frame's `x-close-code`).
 */
import { connect as tcpConnect } from 'node:net';
import WebSocket from 'ws';
import { StompParser, header, serializeFrame, type StompFrame } from '@tidings/stomp';
import type { TidingsProcess } from './tidings.js';

/** What a client presents: a JWT (or none) and a browser Origin (or none). */
export interface Creds {
  token?: string;
  origin?: string;
}

/** One cell's inputs. */
export interface ProbeContext {
  server: TidingsProcess;
  stompPort: number;
  creds: Creds;
  /** The channel the client tries to read. */
  target: string;
  /** Publishes `{marker}` on `target` through the server API. */
  publish(): Promise<void>;
  marker: string;
  /** How long to wait for the marker: long when the cell should be allowed, short otherwise. */
  patience: number;
}

export interface ProbeResult {
  outcome: string;
  /** The `data` of every publication the client received, on any channel. */
  received: unknown[];
}

export type Probe = (ctx: ProbeContext) => Promise<ProbeResult>;


/** Messages as they arrive, with a wait for one that matches. */
export class Inbox<T> {
  readonly items: T[] = [];
  done = false;
  private wakers: Array<() => void> = [];

  push(item: T): void {
    this.items.push(item);
    this.wake();
  }

  end(): void {
    this.done = true;
    this.wake();
  }

  /** The first item matching `pred`, waiting up to `ms`; undefined on timeout or end. */
  async find(pred: (item: T) => boolean, ms: number): Promise<T | undefined> {
    const deadline = Date.now() + ms;
    for (;;) {
      const hit = this.items.find(pred);
      if (hit !== undefined || this.done) return hit;
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wakers.push(() => { clearTimeout(t); resolve(); });
      });
    }
  }

  private wake(): void {
    const w = this.wakers;
    this.wakers = [];
    for (const f of w) f();
  }
}

type Json = Record<string, unknown>;

function hasMarker(marker: string) {
  return (data: unknown): boolean => typeof data === 'object' && data !== null && (data as Json).marker === marker;
}

/** Publishes, then waits for the marker among `received` (full patience when it never comes). */
async function publishAndWatch(ctx: ProbeContext, received: () => unknown[], inbox: Inbox<unknown>): Promise<void> {
  await ctx.publish();
  await inbox.find(() => received().some(hasMarker(ctx.marker)), ctx.patience);
}

function publicationsOf(messages: Json[]): unknown[] {
  return messages.filter((m) => m.type === 'publication').map((m) => m.data);
}

/** `, then disconnect <code>` when a one-way stream carried a `disconnect`, else ''. */
function disconnected(messages: Inbox<Json>): string {
  const d = messages.items.find((m) => m.type === 'disconnect');
  return d ? `, then disconnect ${String(d.code)}` : '';
}

function originHeader(creds: Creds): Record<string, string> {
  return creds.origin ? { origin: creds.origin } : {};
}

function bearer(creds: Creds): Record<string, string> {
  return creds.token ? { authorization: `Bearer ${creds.token}` } : {};
}

function cookie(creds: Creds): Record<string, string> {
  return creds.token ? { cookie: `tidings_token=${creds.token}` } : {};
}

function refusal(status: number, body: string): string {
  try {
    return `http ${status}/${(JSON.parse(body) as { error: { code: number } }).error.code}`;
  } catch {
    return `http ${status}/?`;
  }
}

// ---- WebSocket ----

/** An open WebSocket whose messages are queued until a reader takes them (some arrive with the 101). */
interface OpenWs {
  ws: WebSocket;
  read(handler: (data: Buffer) => void): void;
}

type WsOpen = OpenWs | { refused: string };

function openWs(url: string, protocols: string[], headers: Record<string, string>): Promise<WsOpen> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { headers });
    const queued: Buffer[] = [];
    let reader: ((data: Buffer) => void) | undefined;
    ws.on('message', (data: Buffer) => (reader ? reader(data) : queued.push(data)));
    const read = (handler: (data: Buffer) => void): void => {
      reader = handler;
      for (const d of queued.splice(0)) handler(d);
    };
    ws.once('open', () => resolve({ ws, read }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => resolve({ refused: refusal(res.statusCode ?? 0, body) }));
    });
    ws.once('error', reject);
  });
}

/** The JSON protocol over an open WebSocket: commands, replies, pushes and the close code. */
class JsonWs {
  readonly inbox = new Inbox<Json>();
  closeCode: number | undefined;
  readonly ws: WebSocket;
  private nextId = 1;

  constructor(open: OpenWs) {
    this.ws = open.ws;
    const { ws } = open;
    open.read((data) => {
      for (const line of data.toString().split('\n')) if (line !== '') this.inbox.push(JSON.parse(line) as Json);
    });
    ws.on('close', (code: number) => { this.closeCode = code; this.inbox.end(); });
    ws.on('error', () => { /* close follows */ });
  }

  async command(fields: Json): Promise<Json | undefined> {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ id, ...fields }));
    return this.inbox.find((m) => m.id === id && (m.type === 'reply' || m.type === 'error'), 5000);
  }

  async closed(): Promise<number | undefined> {
    await this.inbox.find(() => false, 5000);
    return this.closeCode;
  }

  received(): unknown[] {
    return publicationsOf(this.inbox.items);
  }

  /** `, then close <code>` when the connection ended after it was allowed, else ''. */
  ending(): string {
    return this.closeCode === undefined ? '' : `, then close ${this.closeCode}`;
  }
}

function errorCode(m: Json | undefined): number | undefined {
  return m?.type === 'error' ? (m.error as { code: number }).code : undefined;
}

/** `/ws`, the token in the `connect` command, then a `subscribe` command. */
export const wsCommand: Probe = async (ctx) => {
  const open = await openWs(ctx.server.wsUrl, [], originHeader(ctx.creds));
  if ('refused' in open) return { outcome: open.refused, received: [] };
  const c = new JsonWs(open);
  try {
    const connected = await c.command({ type: 'connect', ...(ctx.creds.token ? { token: ctx.creds.token } : {}) });
    if (connected?.type !== 'reply') return { outcome: `error ${errorCode(connected)}, close ${await c.closed()}`, received: c.received() };
    const subscribed = await c.command({ type: 'subscribe', channel: ctx.target });
    await publishAndWatch(ctx, () => c.received(), c.inbox);
    return { outcome: subscribed?.type === 'reply' ? `allowed${c.ending()}` : `error ${errorCode(subscribed)}`, received: c.received() };
  } finally {
    open.ws.terminate();
  }
};

/** `/ws?connect=1&channel=…`, the token in the handshake's `Authorization` header. */
export const wsHandshake: Probe = async (ctx) => {
  const url = `${ctx.server.wsUrl}?connect=1&channel=${encodeURIComponent(ctx.target)}`;
  const open = await openWs(url, [], { ...originHeader(ctx.creds), ...bearer(ctx.creds) });
  if ('refused' in open) return { outcome: open.refused, received: [] };
  const c = new JsonWs(open);
  try {
    const subscribed = await c.inbox.find((m) => m.type === 'subscribed' && m.channel === ctx.target, 5000);
    await publishAndWatch(ctx, () => c.received(), c.inbox);
    return { outcome: subscribed ? `allowed${c.ending()}` : `no subscribed (close ${c.closeCode})`, received: c.received() };
  } finally {
    open.ws.terminate();
  }
};

// ---- STOMP ----

/** Raw STOMP frames over a WebSocket or a TCP socket. */
class StompWire {
  readonly inbox = new Inbox<StompFrame>();
  closeCode: number | undefined;
  private readonly parser = new StompParser({
    side: 'client',
    version: '1.2',
    limits: { maxFrameSize: 1024 * 1024 },
    onFrame: (f) => this.inbox.push(f),
  });

  constructor(private readonly out: { write(data: Buffer): void; destroy(): void }) {}

  feed(d: Buffer): void {
    this.parser.push(d);
  }

  gone(code: number | undefined): void {
    this.closeCode = code;
    this.inbox.end();
  }

  send(command: StompFrame['command'], headers: Array<[string, string]>): void {
    this.out.write(Buffer.from(serializeFrame({ command, headers, body: '' }, '1.2')));
  }

  next(command: string): Promise<StompFrame | undefined> {
    return this.inbox.find((f) => f.command === command || f.command === 'ERROR', 5000);
  }

  /** `ERROR <x-code>, close <code>`: the WebSocket's close code, else the frame's `x-close-code`. */
  async errorOutcome(error: StompFrame): Promise<string> {
    await this.inbox.find(() => false, 5000);
    return `ERROR ${header(error, 'x-code')}, close ${this.closeCode ?? header(error, 'x-close-code')}`;
  }

  received(): unknown[] {
    return this.inbox.items.filter((f) => f.command === 'MESSAGE').map((f) => JSON.parse(Buffer.from(f.body).toString('utf8')) as unknown);
  }

  destroy(): void {
    this.out.destroy();
  }
}

/** CONNECT with `connectHeaders`, SUBSCRIBE `/topic/<target>` with a receipt, then the publish. */
async function stompRun(ctx: ProbeContext, wire: StompWire, connectHeaders: Array<[string, string]>): Promise<ProbeResult> {
  try {
    wire.send('CONNECT', [['accept-version', '1.2'], ['host', 'localhost'], ...connectHeaders]);
    const connected = await wire.next('CONNECTED');
    if (connected?.command === 'ERROR') return { outcome: await wire.errorOutcome(connected), received: wire.received() };
    if (!connected) return { outcome: `no CONNECTED (close ${wire.closeCode})`, received: [] };
    wire.send('SUBSCRIBE', [['id', '1'], ['destination', `/topic/${ctx.target}`], ['receipt', 'r1']]);
    const receipt = await wire.next('RECEIPT');
    await publishAndWatch(ctx, () => wire.received(), wire.inbox as Inbox<unknown>);
    if (receipt?.command === 'ERROR') return { outcome: await wire.errorOutcome(receipt), received: wire.received() };
    if (!receipt) return { outcome: 'no RECEIPT', received: wire.received() };
    const late = wire.inbox.items.find((f) => f.command === 'ERROR');
    return { outcome: late ? `allowed, then ${await wire.errorOutcome(late)}` : 'allowed', received: wire.received() };
  } finally {
    wire.destroy();
  }
}

async function stompOverWs(ctx: ProbeContext, headers: Record<string, string>, connectHeaders: Array<[string, string]>): Promise<ProbeResult> {
  const open = await openWs(ctx.server.wsUrl, ['v12.stomp'], { ...originHeader(ctx.creds), ...headers });
  if ('refused' in open) return { outcome: open.refused, received: [] };
  const { ws } = open;
  const wire = new StompWire({ write: (d) => ws.send(d), destroy: () => ws.terminate() });
  open.read((d) => wire.feed(d));
  ws.on('close', (code: number) => wire.gone(code));
  ws.on('error', () => { /* close follows */ });
  return stompRun(ctx, wire, connectHeaders);
}

/** STOMP over `/ws` (subprotocol `v12.stomp`), the token as CONNECT's `passcode`. */
export const stompWs: Probe = (ctx) => stompOverWs(ctx, {}, ctx.creds.token ? [['login', 'x'], ['passcode', ctx.creds.token]] : []);

/** STOMP over `/ws`, the token in the handshake's `tidings_token` cookie; CONNECT carries none. */
export const stompWsCookie: Probe = (ctx) => stompOverWs(ctx, cookie(ctx.creds), []);

/** STOMP over TCP (`--stomp-port`), the token in CONNECT's `Authorization: Bearer` header. */
export const stompTcp: Probe = async (ctx) => {
  const socket = tcpConnect(ctx.stompPort, '127.0.0.1');
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
  const wire = new StompWire({ write: (d) => socket.write(d), destroy: () => socket.destroy() });
  socket.on('data', (d: Buffer) => wire.feed(d));
  socket.on('close', () => wire.gone(undefined));
  socket.on('error', () => { /* close follows */ });
  return stompRun(ctx, wire, ctx.creds.token ? [['Authorization', `Bearer ${ctx.creds.token}`]] : []);
};

// ---- HTTP ----

type HttpOpen = { messages: Inbox<Json>; abort(): void } | { refused: string };

/** GET a `/sse` or `/stream` URL and parse its messages as they come; a non-200 is a refusal. */
async function openHttpStream(url: string, headers: Record<string, string>, format: 'sse' | 'ndjson'): Promise<HttpOpen> {
  const controller = new AbortController();
  const res = await fetch(url, { headers, signal: controller.signal });
  if (res.status !== 200) return { refused: refusal(res.status, await res.text()) };
  const messages = new Inbox<Json>();
  void (async () => {
    const decoder = new TextDecoder();
    let buffered = '';
    try {
      for await (const chunk of res.body!) {
        buffered += decoder.decode(chunk as Uint8Array, { stream: true });
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          const json = format === 'sse' ? (line.startsWith('data: ') ? line.slice(6) : '') : line;
          if (json !== '') messages.push(JSON.parse(json) as Json);
        }
      }
    } catch {
      // aborted
    }
    messages.end();
  })();
  return { messages, abort: () => controller.abort() };
}

async function streamProbe(ctx: ProbeContext, path: string, headers: Record<string, string>, format: 'sse' | 'ndjson'): Promise<ProbeResult> {
  const open = await openHttpStream(`${ctx.server.url}${path}`, headers, format);
  if ('refused' in open) return { outcome: open.refused, received: [] };
  try {
    const subscribed = await open.messages.find((m) => m.type === 'subscribed' && m.channel === ctx.target, 5000);
    await publishAndWatch(ctx, () => publicationsOf(open.messages.items), open.messages as Inbox<unknown>);
    return { outcome: subscribed ? `allowed${disconnected(open.messages)}` : 'no subscribed', received: publicationsOf(open.messages.items) };
  } finally {
    open.abort();
  }
}

/** `/sse?channel=…`, the token in the `tidings_token` cookie. */
export const sse: Probe = (ctx) => streamProbe(ctx, `/sse?channel=${encodeURIComponent(ctx.target)}`,
  { ...originHeader(ctx.creds), ...cookie(ctx.creds) }, 'sse');

/** `/stream?channel=…`, the token in the `Authorization: Bearer` header. */
export const stream: Probe = (ctx) => streamProbe(ctx, `/stream?channel=${encodeURIComponent(ctx.target)}`,
  { ...originHeader(ctx.creds), ...bearer(ctx.creds) }, 'ndjson');

/** `/poll?channel=…&wait=0&token=…`, then a long poll from the cursor it answered. */
export const poll: Probe = async (ctx) => {
  const token = ctx.creds.token ? `&token=${ctx.creds.token}` : '';
  const headers = originHeader(ctx.creds);
  const first = await fetch(`${ctx.server.url}/poll?channel=${encodeURIComponent(ctx.target)}&wait=0${token}`, { headers });
  const text = await first.text();
  if (first.status !== 200) return { outcome: refusal(first.status, text), received: [] };
  const { cursor } = JSON.parse(text) as { cursor: string };
  await ctx.publish();
  const received: unknown[] = [];
  const deadline = Date.now() + ctx.patience;
  let next = cursor;
  // Other cells publish on the same channel: poll on until the marker came or patience ran out.
  while (!received.some(hasMarker(ctx.marker)) && Date.now() < deadline) {
    const wait = Math.max(1, Math.ceil((deadline - Date.now()) / 1000));
    const res = await fetch(`${ctx.server.url}/poll?cursor=${encodeURIComponent(next)}&wait=${wait}${token}`, { headers });
    const body = await res.text();
    if (res.status !== 200) return { outcome: `allowed, then ${refusal(res.status, body)}`, received };
    const answer = JSON.parse(body) as { messages: Json[]; cursor: string };
    received.push(...publicationsOf(answer.messages));
    next = answer.cursor;
  }
  return { outcome: 'allowed', received };
};

async function postEmulation(ctx: ProbeContext, body: Json, headers: Record<string, string>): Promise<{ status: number; text: string; replies: Json[] }> {
  const res = await fetch(`${ctx.server.url}/emulation`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  const replies = res.status === 200 ? (JSON.parse(text) as { replies: Json[] }).replies : [];
  return { status: res.status, text, replies };
}

/** The outcome of an `/emulation` answer: a refusal, error replies, or `allowed` when every reply succeeded. */
function emulationOutcome(answer: { status: number; text: string; replies: Json[] }): string {
  if (answer.status !== 200) return refusal(answer.status, answer.text);
  const errors = answer.replies.filter((r) => r.type === 'error').map(errorCode);
  if (errors.length === 0) return 'allowed';
  return errors.length === answer.replies.length ? `error ${errors.join(',')}` : `partly allowed (errors ${errors.join(',')})`;
}

function historyOf(replies: Json[]): unknown[] {
  const result = replies.find((r) => r.type === 'reply' && Array.isArray((r.result as Json | undefined)?.publications))?.result as Json | undefined;
  return ((result?.publications ?? []) as Json[]).map((p) => p.data);
}

/** `POST /emulation` without a session: publish through the API first, then `history` with the token (`Authorization`). */
export const emulationStateless: Probe = async (ctx) => {
  await ctx.publish();
  const answer = await postEmulation(ctx, { commands: [{ id: 1, type: 'history', channel: ctx.target, limit: 100 }] },
    { ...originHeader(ctx.creds), ...bearer(ctx.creds) });
  return { outcome: emulationOutcome(answer), received: historyOf(answer.replies) };
};

/** Opens `/stream?token=…` without channels; resolves with its session's client id, its `/emulation` secret and messages. */
async function openSession(ctx: ProbeContext, creds: Creds): Promise<{ client: string; secret: string; messages: Inbox<Json>; abort(): void } | { refused: string }> {
  const token = creds.token ? `?token=${creds.token}` : '';
  const open = await openHttpStream(`${ctx.server.url}/stream${token}`, originHeader(creds), 'ndjson');
  if ('refused' in open) return open;
  const connected = await open.messages.find((m) => m.type === 'connected', 5000);
  return { client: String(connected?.client), secret: String(connected?.secret), messages: open.messages, abort: open.abort };
}

/** `/stream?token=…` opens a session; `POST /emulation {client, secret, subscribe}` (no token) adds the channel. */
export const emulationSession: Probe = async (ctx) => {
  const session = await openSession(ctx, ctx.creds);
  if ('refused' in session) return { outcome: session.refused, received: [] };
  try {
    const answer = await postEmulation(ctx, { client: session.client, secret: session.secret, commands: [{ id: 1, type: 'subscribe', channel: ctx.target }] }, originHeader(ctx.creds));
    const outcome = emulationOutcome(answer);
    if (outcome === 'allowed') await session.messages.find((m) => m.type === 'subscribed' && m.channel === ctx.target, 5000);
    await publishAndWatch(ctx, () => publicationsOf(session.messages.items), session.messages as Inbox<unknown>);
    return { outcome: outcome === 'allowed' ? `allowed${disconnected(session.messages)}` : outcome, received: publicationsOf(session.messages.items) };
  } finally {
    session.abort();
  }
};

/**
 * A forged session: the victim (`victim` credentials) holds a `/stream` session; the attacker
 * (`ctx.creds`) knows only its public client id and posts commands into it — a `history` of
 * `ctx.target` (after a publish there) and a `publish` to `watched`, which a WebSocket client
 * with the victim's credentials watches.
 */
export function forgedSession(victim: Creds, watched: string): Probe {
  return async (ctx) => {
    const session = await openSession(ctx, victim);
    if ('refused' in session) throw new Error(`the victim's session did not open: ${session.refused}`);
    const open = await openWs(ctx.server.wsUrl, [], {});
    if ('refused' in open) throw new Error(`the watcher did not connect: ${open.refused}`);
    const watcher = new JsonWs(open);
    try {
      await watcher.command({ type: 'connect', token: victim.token });
      await watcher.command({ type: 'subscribe', channel: watched });
      await ctx.publish();
      const answer = await postEmulation(ctx, {
        client: session.client,
        commands: [{ id: 1, type: 'history', channel: ctx.target, limit: 100 }, { id: 2, type: 'publish', channel: watched, data: { marker: ctx.marker } }],
      }, { ...originHeader(ctx.creds), ...bearer(ctx.creds) });
      await watcher.inbox.find((m) => m.type === 'publication' && hasMarker(ctx.marker)(m.data), ctx.patience);
      return { outcome: emulationOutcome(answer), received: [...historyOf(answer.replies), ...watcher.received()] };
    } finally {
      session.abort();
      open.ws.terminate();
    }
  };
}
