import { randomUUID } from 'node:crypto';
import {
  ErrorCode, UnsubscribeCode, encodeCursor, encodePublication,
  type ClientInfo, type Cursor, type Publication, type StreamPosition,
} from '@tidings/protocol';
import type { Credentials } from '../auth/jwt.js';
import type { ChannelPolicy } from '../channels.js';
import type { Engine } from '../engine/engine.js';
import { TidingsError, badRequest } from '../errors.js';
import { applyCors } from '../http/cors.js';
import type { ProxyTrust } from '../http/forwarded.js';
import { channelParams, requestCursor } from '../http/handshake.js';
import { sendError } from '../http/json.js';
import type { RequestHead } from '../http/request-head.js';
import type { HttpResponse, ResponseListener } from '../http/response.js';
import type { Hub, Subscriber } from '../hub.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../observability/metrics.js';
import { reasonOf, type Refusals } from '../observability/refusals.js';
import type { ServerOptions } from '../options.js';
import type { ServerSubscriptions } from '../server-subs.js';
import type { Proxies } from '../proxy/proxies.js';
import { SmallMap } from '../small-map.js';
import type { Timed, TimerWheel } from '../timer.js';
import { leaseParam, leaseTtl, pollerId, renewLease } from './poll-presence.js';
import { scheduleFlush, type Flushable } from './transport.js';

export interface PollHost {
  readonly options: ServerOptions;
  readonly policy: ChannelPolicy;
  readonly engine: Engine;
  readonly hub: Hub;
  readonly timers: TimerWheel;
  readonly draining: boolean;
  readonly refusals: Refusals;
  /** Client address and scheme through trusted proxies (`--trust-proxy`). */
  readonly trust: ProxyTrust;
  readonly metrics: Metrics;
  readonly serverSubs: ServerSubscriptions;
  readonly proxies: Proxies;
  readonly log: Logger;
  /** The request's token's credentials, or the connect proxy's (`TidingsNode.connectCredentials`). */
  connectCredentials(req: RequestHead, url: URL, transport: string, client: string): Promise<Credentials | undefined>;
  mapError(err: unknown): { code: number; message: string };
}

export const DEFAULT_POLL_WAIT = 25;
export const MAX_POLL_WAIT = 60;

const OPEN = Buffer.from('{"messages":[');
/** The shared empty list a waiting poll starts with (most waits end with one publication or none). */
const NO_MESSAGES: Buffer[] = [];
const COMMA = Buffer.from(',');
/** The server-side subscriptions of a poll that has none (most): shared, never changed. */
const NO_SERVER_SUBS: ReadonlySet<string> = new Set();

/**
 * One waiting long poll. Stateless between requests: everything is in the cursor, so the next poll
 * may go to any node. Registered in the hub before history is read, so nothing published in
 * between is missed; answered on the first publication (batched per tick) or when `wait` runs out,
 * by the node's shared timer.
 */
class LongPoll implements Subscriber, Timed, Flushable, ResponseListener {
  private messages = NO_MESSAGES;
  private timerHandle = -1;
  private done = false;
  /** While reading history, live publications wait here. */
  private collecting = true;
  private early: Array<{ pub: Publication; message: Buffer }> | undefined = undefined;
  /** The request's cursor, moved on as messages are added; a poll of one channel keeps it without a Map. */
  private readonly cursor = new SmallMap<StreamPosition>();

  constructor(
    private readonly host: PollHost,
    private readonly polls: Set<LongPoll>,
    private readonly res: HttpResponse,
    cursor: Cursor,
    /** The user's server-side subscriptions among the cursor's channels (`subscribed` says `server: true`). */
    private readonly server: ReadonlySet<string>,
    /** Server-side subscriptions the cursor still named but the user no longer has: told with `unsubscribed` first. */
    dropped: readonly string[],
  ) {
    for (const [channel, position] of cursor) this.cursor.set(channel, position);
    for (const channel of dropped) {
      this.push(Buffer.from(JSON.stringify({ type: 'unsubscribed', channel, code: UnsubscribeCode.Server, reason: 'not subscribed any more', server: true })));
    }
  }

  /** `poller`: the client's presence while it polls (`lease=`), renewed for this poll's wait. */
  async run(wait: number, poller: ClientInfo | undefined): Promise<void> {
    const { hub, engine, policy } = this.host;
    this.polls.add(this);
    this.res.onClose(this);
    try {
      for (const channel of this.cursor.keys()) await hub.add(channel, this);
      if (poller) void renewLease(this.host, poller, [...this.cursor.keys()], leaseTtl(wait, this.host.options.pingInterval));
      for (const [channel, since] of this.cursor) {
        const ns = policy.resolve(channel);
        const h = await engine.history(channel, since.offset < 0 ? { limit: 0 } : { since: since.offset, limit: ns.historySize });
        this.catchUp(channel, since, h.position, h.publications);
      }
    } catch (err) {
      if (this.done) return;
      this.finish();
      const e = this.host.mapError(err);
      return sendError(this.res, e.code, e.message);
    }
    this.collecting = false;
    for (const { pub, message } of this.early ?? []) this.deliverPublication(pub, message);
    this.early = undefined;
    if (this.done) return;
    if (this.messages.length > 0 || wait === 0) return this.respond();
    this.timerHandle = this.host.timers.schedule(this, Date.now() + wait * 1000);
  }

  /** Adds what a channel missed to the answer, or says plainly that it cannot be recovered. */
  private catchUp(channel: string, since: StreamPosition, top: StreamPosition, pubs: Publication[]): void {
    const fresh = since.offset < 0;
    const recovered = !fresh && since.epoch === top.epoch && since.offset <= top.offset && pubs.length === top.offset - since.offset;
    if (!recovered) {
      this.cursor.set(channel, top);
      const server = this.server.has(channel) ? { server: true } : {};
      this.push(Buffer.from(JSON.stringify({ type: 'subscribed', channel, position: top, recovered: false, ...server })));
      return;
    }
    for (const p of pubs) this.add(p, Buffer.from(encodePublication(p)));
  }

  private add(pub: Publication, message: Buffer): void {
    const at = this.cursor.get(pub.channel);
    if (at && at.epoch === pub.epoch && pub.offset <= at.offset) return;
    this.cursor.set(pub.channel, { offset: pub.offset, epoch: pub.epoch });
    this.push(message);
  }

  private push(message: Buffer): void {
    if (this.messages === NO_MESSAGES) this.messages = [message];
    else this.messages.push(message);
  }

  deliverPublication(pub: Publication, message: Buffer): void {
    if (this.done) return;
    if (this.collecting) {
      (this.early ??= []).push({ pub, message });
      return;
    }
    const at = this.cursor.get(pub.channel);
    if (at && (pub.epoch !== at.epoch || pub.offset > at.offset + 1)) {
      // the channel's stream jumped (history lost, or a gap): answer now, and the next poll's
      // catch-up replays the gap from history or says `recovered: false`
      this.respond();
      return;
    }
    const before = this.messages.length;
    this.add(pub, message);
    if (before === 0 && this.messages.length > 0) scheduleFlush(this);
  }

  deliverEvent(): void {
    // join/leave are not carried by long polling
  }

  flush(): void {
    if (!this.done && this.messages.length > 0) this.respond();
  }

  onTimer(): void {
    this.timerHandle = -1;
    if (!this.done) this.respond();
  }

  responseClosed(): void {
    this.finish();
  }

  /** Answers now with what it has and the cursor. */
  respond(): void {
    const tail = Buffer.from(`],"cursor":${JSON.stringify(encodeCursor(new Map(this.cursor)))}}`);
    const parts: Buffer[] = [OPEN];
    this.messages.forEach((m, i) => {
      if (i > 0) parts.push(COMMA);
      parts.push(m);
    });
    parts.push(tail);
    const body = Buffer.concat(parts);
    this.finish();
    if (this.res.writableEnded) return;
    const written = this.host.metrics.written.poll;
    written.messages += this.messages.length;
    written.frames++;
    written.bytes += body.length;
    this.res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', 'Content-Length': body.length });
    this.res.end(body);
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.polls.delete(this);
    if (this.timerHandle !== -1) this.host.timers.cancel(this, this.timerHandle);
    for (const channel of this.cursor.keys()) this.host.hub.remove(channel, this);
  }
}

/**
 * `GET /poll?channel=…&cursor=…&wait=…`: long polling (`wait` seconds, default 25, at most 60) and
 * short polling (`wait=0`). Answers `{messages, cursor}`; pass `cursor` to the next poll.
 */
export class PollEndpoint {
  private readonly polls = new Set<LongPoll>();

  constructor(private readonly host: PollHost) {}

  /** Long polls waiting for a publication. */
  get size(): number {
    return this.polls.size;
  }

  async handle(req: RequestHead, res: HttpResponse, url: URL): Promise<void> {
    const poll = await checkPoll(this.host, req, res, url);
    if (poll && !res.writableEnded) await new LongPoll(this.host, this.polls, res, poll.cursor, poll.server, poll.dropped).run(poll.wait, poll.poller);
  }

  /** Draining: answers every waiting poll now, so its client polls again elsewhere with its cursor. */
  drain(): void {
    for (const poll of [...this.polls]) poll.respond();
  }
}

interface CheckedPoll {
  cursor: Cursor;
  wait: number;
  server: ReadonlySet<string>;
  dropped: string[];
  /** The poller's presence while it polls (`lease=`). */
  poller: ClientInfo | undefined;
}

/**
 * The poll's cursor, wait and presence (with `lease=`), or undefined after answering with an error. An authenticated poll
 * also carries the user's server-side subscriptions (`ServerSubscriptions.forConnection`): one the
 * cursor lacks is added from now (while the subscription limit allows), and a channel the cursor
 * names only from an earlier answer, which the user may no longer subscribe to, is dropped with an
 * `unsubscribed` (2000) instead of refusing the poll (it was a server-side subscription since ended).
 */
async function checkPoll(host: PollHost, req: RequestHead, res: HttpResponse, url: URL): Promise<CheckedPoll | undefined> {
  const { options, policy, refusals } = host;
  if (!applyCors(req, res, options.allowedOrigins, refusals, host.trust.requestScheme(req))) return undefined;
  if (req.method !== 'GET') {
    sendError(res, ErrorCode.NotFound, '/poll answers GET only', 405);
    return undefined;
  }
  if (host.draining) {
    refusals.request('unavailable', req, ErrorCode.ShuttingDown, 'the node is shutting down');
    sendError(res, ErrorCode.ShuttingDown, 'the node is shutting down');
    return undefined;
  }
  let cursor: Cursor;
  let wait: number;
  let server = NO_SERVER_SUBS;
  const dropped: string[] = [];
  let poller: ClientInfo | undefined;
  try {
    const client = randomUUID();
    const credentials = await host.connectCredentials(req, url, 'poll', client);
    wait = waitParam(url);
    const lease = leaseParam(url);
    if (lease !== undefined) poller = { client: pollerId(lease), user: credentials?.user ?? '' };
    cursor = requestCursor(req, url);
    const params = channelParams(url);
    for (const channel of params) if (!cursor.has(channel)) cursor.set(channel, { offset: -1, epoch: '' });
    const subs = credentials ? await host.serverSubs.forConnection(credentials) : [];
    if (subs.length > 0) server = new Set(subs);
    for (const channel of server) if (!cursor.has(channel) && cursor.size < options.limits.maxSubscriptions) cursor.set(channel, { offset: -1, epoch: '' });
    if (cursor.size === 0) throw badRequest('give at least one `channel=` parameter or a cursor');
    if (cursor.size > options.limits.maxSubscriptions) {
      throw new TidingsError(ErrorCode.LimitExceeded, `at most ${options.limits.maxSubscriptions} channels per poll`);
    }
    const who = { user: credentials?.user ?? '', channels: credentials?.channels };
    // the client's own channels in namespaces with a subscribe proxy; server-side ones were the backend's decision
    const proxied: string[] = [];
    for (const channel of [...cursor.keys()]) {
      try {
        const ns = policy.resolve(channel);
        if (server.has(channel)) continue;
        policy.checkSubscribe(ns, channel, who);
        if (ns.subscribeProxy) proxied.push(channel);
      } catch (err) {
        if (!credentials || params.includes(channel)) throw err;
        cursor.delete(channel);
        dropped.push(channel);
      }
    }
    if (cursor.size === 0 && dropped.length === 0) throw badRequest('no channel left to poll');
    // a long poll keeps no state: each one is a connect and a subscribe as far as the backend knows
    const proxyClient = { client, user: who.user, transport: 'poll', protocol: 'json' } as const;
    for (const channel of proxied) await host.proxies.subscribe(proxyClient, channel);
  } catch (err) {
    const e = host.mapError(err);
    refusals.request(reasonOf(e.code), req, e.code, e.message);
    sendError(res, e.code, e.message);
    return undefined;
  }
  return { cursor, wait, server, dropped, poller };
}

function waitParam(url: URL): number {
  const v = url.searchParams.get('wait');
  if (v === null || v === '') return DEFAULT_POLL_WAIT;
  if (!/^\d{1,2}$/.test(v) || Number(v) > MAX_POLL_WAIT) throw badRequest(`\`wait\` must be an integer from 0 to ${MAX_POLL_WAIT} seconds`);
  return Number(v);
}
