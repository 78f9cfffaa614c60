import { CloseCode } from '@tidings/protocol';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { scheduleFlush, type Flushable } from '../transports/transport.js';
import { collectProcessMetrics } from './process-metrics.js';
import { REFUSAL_REASONS, type RefusalReason } from './refusals.js';

/** Connection kinds, the `transport` label. */
export type TransportName = 'websocket' | 'stomp-ws' | 'stomp-tcp' | 'sse' | 'stream' | 'poll' | 'sockjs';
export const TRANSPORT_NAMES: readonly TransportName[] = ['websocket', 'stomp-ws', 'stomp-tcp', 'sse', 'stream', 'poll', 'sockjs'];
/** Transports a JSON-protocol `Session` runs on (its `transport.name`), counted per session; `emulation` is not one. */
export type SessionTransportName = 'websocket' | 'sse' | 'stream' | 'sockjs';

export function isSessionTransport(name: string): name is SessionTransportName {
  return name === 'websocket' || name === 'sse' || name === 'stream' || name === 'sockjs';
}
/** Transports with a lasting connection (a handshake, a slow-consumer cut): all but `poll`. */
const CONNECTED_TRANSPORTS = TRANSPORT_NAMES.filter((t) => t !== 'poll');

/** Where a publication came from, the `source` label. */
export type PublicationSource = 'api' | 'client' | 'stomp' | 'schedule' | 'notification';
export const PUBLICATION_SOURCES: readonly PublicationSource[] = ['api', 'client', 'stomp', 'schedule', 'notification'];

/**
 * What one transport kind wrote, as plain numbers bumped on the hot path (no labels looked up, no
 * allocation); the exporter reads them when scraped. `messages`: protocol messages queued;
 * `frames`: writes to the socket (a WebSocket frame, an SSE/NDJSON chunk, a poll response);
 * `bytes`: their size. messages / frames is the coalescing ratio.
 */
export class Written {
  messages = 0;
  frames = 0;
  bytes = 0;
}

/** What the node tells the exporter at scrape time. */
export interface NodeGauges {
  /** Open connections by transport (waiting long polls for `poll`). */
  connections(): Record<TransportName, number>;
  /** Subscriptions held by connections (JSON protocol and STOMP). */
  subscriptions(): number;
  /** Channels with local subscribers. */
  channels(): number;
  /** Whether the engine is ready. */
  engineUp(): boolean;
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const SIZE_BUCKETS = [64, 256, 1024, 4096, 16384, 65536, 262144, 1048576];

function record<K extends string, V>(keys: readonly K[], make: () => V): Record<K, V> {
  const out = {} as Record<K, V>;
  for (const k of keys) out[k] = make();
  return out;
}

/**
 * Publish-to-write latency, sampled once per tick: the first publication handed to local
 * subscribers in a tick marks its publication time (`Publication.time`, ms); the probe is flushed
 * after the transports that tick queued to (flushes run in order), and observes now − that time.
 * One sample per tick with publications, no allocation per message. Millisecond resolution; for
 * publications made on another node it includes the clock difference between the nodes.
 */
export class PublishLatency implements Flushable {
  private since = 0;

  constructor(private readonly histogram: Histogram) {}

  /** A publication was fanned out to local subscribers; `time` is its publication time (ms since the epoch). */
  sample(time: number): void {
    if (this.since !== 0) return;
    this.since = time;
    scheduleFlush(this);
  }

  flush(): void {
    this.histogram.observe(Math.max(0, Date.now() - this.since) / 1000);
    this.since = 0;
  }
}

/**
 * One node's metrics, in its own Registry (several nodes in one process do not clash). Every
 * metric is `tidings_*` (plus the exporter's default process and Node.js metrics); no label ever
 * carries a channel, user, client id or token. Hot-path counts are plain fields read at scrape.
 * The table in docs/operations.md ("Metrics") lists them all.
 */
export class Metrics {
  readonly registry = new Registry();
  /** Per transport kind: bumped by the transports. */
  readonly written = record(TRANSPORT_NAMES, () => new Written());
  /** Connections that completed their protocol's connect (`connect`, the SSE/stream request, STOMP CONNECTED), by transport. */
  readonly handshakes = record(TRANSPORT_NAMES, () => 0);
  readonly refusals = record(REFUSAL_REASONS, () => 0);
  readonly publications = record(PUBLICATION_SOURCES, () => 0);
  /** Connections cut as slow consumers (close 3001), by transport. */
  readonly slowConsumers = record(TRANSPORT_NAMES, () => 0);
  /** Resubscriptions with a position: recovered or not. */
  readonly recoveries = { true: 0, false: 0 };
  /** Gaps the engine read from history (Redis: pub/sub lost messages, or a reconnect's catch-up). */
  gapFills = 0;
  readonly publicationSize: Histogram;
  readonly latency: PublishLatency;
  readonly disconnects: Counter<'code'>;
  readonly engineDuration: Histogram<'command'>;
  readonly engineErrors: Counter<'command'>;
  readonly storeDuration: Histogram<'operation'>;
  readonly storeErrors: Counter<'operation'>;
  readonly schedulerRuns: Counter<'outcome'>;
  readonly schedulerMisses: Counter;
  /** Notifications a create's `throttle` held back (per user). */
  readonly notificationsThrottled: Counter;
  /** Items given to digests, by outcome: `opened` a digest or `joined` an open one. */
  readonly digestItems: Counter<'outcome'>;
  readonly apiRequests: Counter<'route' | 'status'>;
  /** Calls to the app backend, by proxy (connect, refresh, subscribe, publish, rpc) and outcome. */
  readonly proxyCalls: Counter<'proxy' | 'outcome'>;
  readonly proxyDuration: Histogram<'proxy'>;
  /** Notifications not stored for a user, by reason (`muted`: the user muted the type or a tag). */
  readonly notificationsSkipped: Counter<'reason'>;
  /** Notification actions completed, by what became of the report to the app (sent, failed, off). */
  readonly notificationActions: Counter<'report'>;

  /** `defaults`: also collect the exporter's process metrics (event-loop lag, GC, heap, file descriptors; see process-metrics.ts). */
  constructor(gauges: NodeGauges, defaults = true) {
    const registers = [this.registry];
    const m = this;
    if (defaults) collectProcessMetrics(this.registry);

    new Gauge({
      name: 'tidings_connections', help: 'Open connections by transport (waiting long polls for poll).', labelNames: ['transport'], registers,
      collect() {
        const counts = gauges.connections();
        for (const t of TRANSPORT_NAMES) this.set({ transport: t }, counts[t]);
      },
    });
    new Gauge({ name: 'tidings_subscriptions', help: 'Subscriptions held by open connections.', registers, collect() { this.set(gauges.subscriptions()); } });
    new Gauge({ name: 'tidings_channels', help: 'Channels with subscribers on this node.', registers, collect() { this.set(gauges.channels()); } });
    new Gauge({ name: 'tidings_engine_up', help: '1 when the engine is ready, else 0.', registers, collect() { this.set(gauges.engineUp() ? 1 : 0); } });

    this.tallied('tidings_handshakes_total', 'Connections accepted, by transport.', 'transport', CONNECTED_TRANSPORTS, (t) => m.handshakes[t]);
    this.tallied('tidings_refusals_total', 'Connections and requests refused, by reason.', 'reason', REFUSAL_REASONS, (r) => m.refusals[r]);
    this.tallied('tidings_publications_total', 'Publications accepted, by source.', 'source', PUBLICATION_SOURCES, (s) => m.publications[s]);
    this.tallied('tidings_messages_written_total', 'Protocol messages queued to connections, by transport.', 'transport', TRANSPORT_NAMES, (t) => m.written[t].messages);
    this.tallied('tidings_frames_written_total', 'Socket writes (frames, chunks, poll responses) carrying messages, by transport.', 'transport', TRANSPORT_NAMES, (t) => m.written[t].frames);
    this.tallied('tidings_bytes_written_total', 'Bytes of those writes, by transport.', 'transport', TRANSPORT_NAMES, (t) => m.written[t].bytes);
    this.tallied('tidings_slow_consumer_disconnects_total', 'Connections cut as slow consumers (close 3001), by transport.', 'transport', CONNECTED_TRANSPORTS, (t) => m.slowConsumers[t]);
    this.tallied('tidings_recoveries_total', 'Subscriptions resumed from a position, by whether nothing was missed.', 'recovered', ['true', 'false'] as const, (r) => m.recoveries[r]);
    new Counter({ name: 'tidings_engine_gap_fills_total', help: 'Gaps the engine read from history to keep a channel in order.', registers, collect() { this.reset(); this.inc(m.gapFills); } });

    this.publicationSize = new Histogram({ name: 'tidings_publication_size_bytes', help: 'Size of published data (its JSON encoding).', buckets: SIZE_BUCKETS, registers });
    this.latency = new PublishLatency(new Histogram({
      name: 'tidings_publish_to_write_seconds', help: 'From publication to the write on this node; one sample per tick.', buckets: LATENCY_BUCKETS, registers,
    }));
    this.disconnects = new Counter({ name: 'tidings_disconnects_total', help: 'Connections the server closed, by close code.', labelNames: ['code'], registers });
    this.engineDuration = new Histogram({ name: 'tidings_engine_command_duration_seconds', help: 'Engine command latency.', labelNames: ['command'], buckets: LATENCY_BUCKETS, registers });
    this.engineErrors = new Counter({ name: 'tidings_engine_errors_total', help: 'Engine commands that failed.', labelNames: ['command'], registers });
    this.storeDuration = new Histogram({ name: 'tidings_store_operation_duration_seconds', help: 'Notification store operation latency.', labelNames: ['operation'], buckets: LATENCY_BUCKETS, registers });
    this.storeErrors = new Counter({ name: 'tidings_store_errors_total', help: 'Notification store operations that failed.', labelNames: ['operation'], registers });
    this.schedulerRuns = new Counter({ name: 'tidings_scheduler_runs_total', help: 'Scheduled runs fired, by outcome (ok, failed).', labelNames: ['outcome'], registers });
    this.schedulerMisses = new Counter({ name: 'tidings_scheduler_missed_total', help: 'Scheduled runs fired more than 5 s after their time.', registers });
    this.notificationsThrottled = new Counter({ name: 'tidings_notifications_throttled_total', help: 'Notifications not delivered because their throttle was full (one per user).', registers });
    this.digestItems = new Counter({ name: 'tidings_digest_items_total', help: 'Notifications given to digests, by outcome (opened, joined).', labelNames: ['outcome'], registers });
    this.apiRequests = new Counter({ name: 'tidings_api_requests_total', help: 'Server API requests by route and status.', labelNames: ['route', 'status'], registers });
    this.proxyCalls = new Counter({
      name: 'tidings_proxy_calls_total', help: 'Calls to the app backend by proxy and outcome (ok, refused, unavailable, timeout, bad_response, overloaded).',
      labelNames: ['proxy', 'outcome'], registers,
    });
    this.notificationsSkipped = new Counter({ name: 'tidings_notifications_skipped_total', help: 'Notifications not stored for a user, by reason (muted).', labelNames: ['reason'], registers });
    this.notificationActions = new Counter({
      name: 'tidings_notification_actions_total', help: 'Notification actions completed, by report to the app (sent, failed, off).', labelNames: ['report'], registers,
    });
    this.proxyDuration = new Histogram({ name: 'tidings_proxy_duration_seconds', help: 'Proxy call latency, waiting for a slot included.', labelNames: ['proxy'], buckets: LATENCY_BUCKETS, registers });
  }

  /** Counts a refusal (called by Refusals for every refused connection or request). */
  refused(reason: RefusalReason): void {
    this.refusals[reason]++;
  }

  /** Counts a close by the server; `transport` for slow-consumer cuts (3001). */
  disconnect(code: number, transport: string): void {
    this.disconnects.inc({ code: String(code) });
    if (code === CloseCode.Slow && Object.hasOwn(this.slowConsumers, transport)) this.slowConsumers[transport as TransportName]++;
  }

  /** The exposition text and its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** A counter whose values are read from plain numbers at scrape time. */
  private tallied<K extends string>(name: string, help: string, label: string, keys: readonly K[], read: (key: K) => number): void {
    new Counter({
      name, help, labelNames: [label], registers: [this.registry],
      collect() {
        this.reset();
        for (const k of keys) this.inc({ [label]: k }, read(k));
      },
    });
  }
}
