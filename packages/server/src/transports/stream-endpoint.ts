import { randomUUID } from 'node:crypto';
import { CloseCode, ErrorCode } from '@tidings/protocol';
import type { Credentials } from '../auth/jwt.js';
import type { ChannelPolicy } from '../channels.js';
import { TidingsError } from '../errors.js';
import { applyCors } from '../http/cors.js';
import type { ProxyTrust } from '../http/forwarded.js';
import { channelParams, requestCursor } from '../http/handshake.js';
import { sendError } from '../http/json.js';
import type { RequestHead } from '../http/request-head.js';
import type { HttpResponse } from '../http/response.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../observability/metrics.js';
import { reasonOf, type Refusals } from '../observability/refusals.js';
import type { ServerOptions } from '../options.js';
import type { Session } from '../session.js';
import type { TimerWheel } from '../timer.js';
import { CloseSweep } from '../websocket/close-sweep.js';
import { HttpStreamTransport, type StreamFormat, type StreamKind, type StreamOwner } from './http-stream.js';

/** What the SSE and HTTP-streaming endpoints need from their node. */
export interface StreamHost {
  readonly options: ServerOptions;
  readonly policy: ChannelPolicy;
  readonly log: Logger;
  readonly draining: boolean;
  readonly refusals: Refusals;
  /** Client address and scheme through trusted proxies (`--trust-proxy`). */
  readonly trust: ProxyTrust;
  readonly timers: TimerWheel;
  readonly metrics: Metrics;
  /** The request's token's credentials, or the connect proxy's (`TidingsNode.connectCredentials`). */
  connectCredentials(req: RequestHead, url: URL, transport: string, client: string): Promise<Credentials | undefined>;
  newSession(transport: HttpStreamTransport, credentials: Credentials | undefined, request: undefined, id: string): Session | undefined;
  /** Makes the session reachable through `/emulation`; returns the secret that proves ownership. */
  issueSecret(session: Session): string;
  mapError(err: unknown): { code: number; message: string };
}

/** Milliseconds an EventSource waits before reconnecting (`retry:`). */
export const SSE_RETRY_MS = 2000;

/**
 * `GET /sse` (Server-Sent Events) and `GET /stream` (newline-delimited JSON): one-way sessions.
 * Channels come from `channel=` parameters (none is fine: the client subscribes through
 * `/emulation`), the resume point from `Last-Event-ID`, `cursor=` and `lastEventId=` (`requestCursor`).
 * Every problem found before the stream starts is a JSON 4xx; nothing is half-opened.
 * A stream whose last bytes (e.g. a slow consumer's `disconnect`) do not drain within
 * CLOSE_TIMEOUT_MS is cut (one `CloseSweep` for all of them).
 */
export class StreamEndpoint implements StreamOwner {
  private readonly streams = new Map<HttpStreamTransport, Session>();
  private readonly sweep: CloseSweep;
  private readonly kinds: Record<StreamFormat, StreamKind>;

  constructor(private readonly host: StreamHost) {
    this.sweep = new CloseSweep(host.timers);
    const maxQueueBytes = host.options.limits.maxQueueBytes;
    this.kinds = {
      sse: { format: 'sse', maxQueueBytes, owner: this, written: host.metrics.written.sse },
      ndjson: { format: 'ndjson', maxQueueBytes, owner: this, written: host.metrics.written.stream },
    };
  }

  get size(): number {
    return this.streams.size;
  }

  async handle(req: RequestHead, res: HttpResponse, url: URL, format: StreamFormat): Promise<void> {
    const { options, policy, refusals } = this.host;
    if (!applyCors(req, res, options.allowedOrigins, refusals, this.host.trust.requestScheme(req))) return;
    if (req.method !== 'GET') return sendError(res, ErrorCode.NotFound, `${url.pathname} answers GET only`, 405);
    if (this.host.draining) return this.refuse(req, res, ErrorCode.ShuttingDown, 'the node is shutting down');
    let credentials: Credentials | undefined;
    let channels: string[];
    let cursor;
    const client = randomUUID();
    try {
      credentials = await this.host.connectCredentials(req, url, format === 'sse' ? 'sse' : 'stream', client);
      channels = channelParams(url);
      if (channels.length > options.limits.maxSubscriptions) {
        throw new TidingsError(ErrorCode.LimitExceeded, `at most ${options.limits.maxSubscriptions} channels per connection`);
      }
      const who = { user: credentials?.user ?? '', channels: credentials?.channels };
      for (const channel of channels) policy.checkSubscribe(policy.resolve(channel), channel, who);
      cursor = requestCursor(req, url);
    } catch (err) {
      const e = this.host.mapError(err);
      return this.refuse(req, res, e.code, e.message);
    }
    if (res.writableEnded) return;

    const transport = new HttpStreamTransport(res, this.kinds[format]);
    const session = this.host.newSession(transport, credentials, undefined, client);
    if (!session) return this.refuse(req, res, ErrorCode.LimitExceeded, 'connection limit reached', 503);
    transport.attach(session);
    this.streams.set(transport, session);
    res.onClose(transport);
    res.writeHead(200, {
      'Content-Type': format === 'sse' ? 'text/event-stream; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
      'Cache-Control': 'no-cache, no-store, no-transform',
      'X-Accel-Buffering': 'no',
      Connection: 'keep-alive',
    });
    res.flushHeaders();
    if (format === 'sse') res.write(`retry: ${SSE_RETRY_MS}\n\n`);
    await session.open(channels, cursor, this.host.issueSecret(session));
  }

  private refuse(req: RequestHead, res: HttpResponse, code: number, message: string, status?: number): void {
    this.host.refusals.request(reasonOf(code), req, code, message);
    sendError(res, code, message, status);
  }

  streamClosing(transport: HttpStreamTransport): void {
    this.sweep.add(transport);
  }

  streamClosed(transport: HttpStreamTransport): void {
    this.sweep.delete(transport);
    const session = this.streams.get(transport);
    this.streams.delete(transport);
    session?.closed();
  }

  /** One sweep for every stream: keeps idle ones alive through proxies. */
  heartbeat(): void {
    for (const transport of this.streams.keys()) transport.heartbeat();
  }

  drain(): void {
    for (const session of this.streams.values()) session.disconnect(CloseCode.Shutdown, 'server shutting down');
  }
}
