import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { ClientInfo, Publication } from '@tidings/protocol';
import {
  EngineUnavailableError, IdempotencyConflictError, OutcomeUnknownError,
  type Claims, type ControlMessage, type Engine, type EngineHandler, type HistoryOptions, type HistoryResult, type PublishOptions,
} from '@tidings/server';
import { CLAIM, HISTORY, PRESENCE_ADD, PRESENCE_EXPIRE, PRESENCE_GET, PUBLISH, RELEASE } from './scripts.js';
import { Sequencer } from './sequencer.js';
import { runScript, script, type Script } from './lua.js';

export type RedisClient = Redis | Cluster;

export interface RedisEngineOptions {
  /**
   * Runs commands and scripts. The caller creates it (ioredis `Redis` or `Cluster`) and closes it.
   * Give it a `commandTimeout` (ms): without one a command Redis never answers is never reported,
   * and a stalled Redis is never noticed.
   */
  client: RedisClient;
  /** Receives pub/sub; defaults to `client.duplicate()` (closed by the engine then). */
  subscriber?: RedisClient;
  /** Key and channel prefix (default `tidings`), so several deployments can share a Redis. */
  prefix?: string;
  /** Sharded pub/sub (SPUBLISH/SSUBSCRIBE, Redis ≥ 7); the default for a Cluster client. */
  sharded?: boolean;
  /** Seconds a channel's offset and epoch outlive its last publication (default 30 days). */
  metaTtl?: number;
  /**
   * Milliseconds between sweeps for expired presence (clients of a node that died without
   * removing them). Default: half the shortest presence TTL seen, from 1 s to 30 s.
   */
  presenceSweepInterval?: number;
  /**
   * Seconds a key the engine made up for a publish without one is remembered (default 60): the
   * window for retrying a publish whose outcome was unknown. Each costs about 250 bytes in Redis
   * and some Redis time (docs/scaling.md). 0 makes none: a publish without a key whose outcome is
   * unknown then has no key to retry with, and ioredis may re-send it after a reconnect.
   */
  generatedKeyTtl?: number;
}

const SCRIPTS = {
  publish: script(PUBLISH), history: script(HISTORY),
  presenceAdd: script(PRESENCE_ADD), presenceGet: script(PRESENCE_GET), presenceExpire: script(PRESENCE_EXPIRE),
  claim: script(CLAIM), release: script(RELEASE),
};

function ready(client: RedisClient, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      reject(new Error(`not ready after ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = (): void => {
      clearTimeout(timer);
      resolve();
    };
    client.once('ready', onReady);
  });
}

function newEpoch(): string {
  return randomBytes(6).toString('base64url');
}

/** The idempotency key of a publish that came without one: 96 random bits, 16 characters. */
function newIdempotencyKey(): string {
  return randomBytes(12).toString('base64url');
}

/** How a failure of a sent command is reported: a read is merely unavailable, a write's outcome is unknown. */
interface Effect { idempotencyKey?: string }

/**
 * The Redis engine. Publishing is one script: the channel's next offset, the stream append
 * (bounded by history size, expiring after the history TTL) and the pub/sub message to nodes,
 * atomically. A node subscribes in Redis only to channels with local subscribers, and delivers
 * each channel in offset order, reading any gap from the stream first (see Sequencer).
 * A channel whose meta is gone (expired, Redis restarted without persistence) gets a new epoch.
 *
 * Every publish carries an idempotency key (one is made when the caller gave none), so a publish
 * whose outcome is unknown (sent, then a timeout or a lost connection) can be retried exactly
 * once, and ioredis re-sending it after a reconnect cannot publish twice. While Redis is known to
 * be down (connection not ready) or stalled (a command timed out and no PING has been answered
 * since), commands fail at once with EngineUnavailableError instead of being sent.
 */
export class RedisEngine implements Engine {
  readonly name = 'redis';
  readonly shared = true;
  private readonly client: RedisClient;
  private readonly sub: RedisClient;
  private readonly ownsSubscriber: boolean;
  private readonly prefix: string;
  private readonly sharded: boolean;
  private readonly metaTtl: number;
  private readonly generatedKeyTtl: number;
  private readonly controlChannel: string;
  private handler: EngineHandler | undefined;
  private readonly sequencer: Sequencer;
  private lastError = '';
  /** Channels this node holds presence in and delivers: the ones it sweeps for expired presence. */
  private readonly presenceChannels = new Set<string>();
  private shortestPresenceTtl = Infinity;
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly sweepInterval: number | undefined;
  private stalled = false;
  private closed = false;

  constructor(options: RedisEngineOptions) {
    this.client = options.client;
    this.ownsSubscriber = options.subscriber === undefined;
    this.sub = options.subscriber ?? options.client.duplicate();
    this.prefix = options.prefix ?? 'tidings';
    this.sharded = options.sharded ?? 'nodes' in options.client;
    this.metaTtl = options.metaTtl ?? 30 * 24 * 3600;
    this.sweepInterval = options.presenceSweepInterval;
    this.generatedKeyTtl = options.generatedKeyTtl ?? 60;
    this.controlChannel = `${this.prefix}:control`;
    this.sequencer = new Sequencer(
      (channel, after) => {
        this.handler?.onGapFill?.();
        return this.history(channel, { since: after }).then((h) => h.publications);
      },
      (pub) => this.handler?.onPublication(pub),
      () => { /* a failed gap read is passed on as a jump; sessions resubscribe */ },
    );
  }

  /** Resolves once both connections are ready; rejects when Redis is not reachable within `timeoutMs`. */
  async start(handler: EngineHandler, timeoutMs = 10_000): Promise<void> {
    this.handler = handler;
    for (const c of [this.client, this.sub]) c.on('error', (err: Error) => { this.lastError = err.message; });
    this.client.on('ready', () => { this.stalled = false; });
    await Promise.all([ready(this.client, timeoutMs), ready(this.sub, timeoutMs)]).catch((err: unknown) => {
      throw new EngineUnavailableError(`cannot connect to redis: ${err instanceof Error ? err.message : String(err)}${this.lastError ? ` (${this.lastError})` : ''}`);
    });
    this.sub.on(this.sharded ? 'smessage' : 'message', (channel: string, message: string) => this.onMessage(channel, message));
    if (this.sharded) this.sub.on('message', (channel: string, message: string) => this.onMessage(channel, message));
    this.sub.on('ready', () => {
      for (const channel of this.sequencer.tracked()) this.sequencer.catchUp(channel);
    });
    await this.sub.subscribe(this.controlChannel);
    this.scheduleSweep();
  }

  isReady(): boolean {
    return this.client.status === 'ready' && this.sub.status === 'ready' && !this.stalled;
  }

  async publish(channel: string, data: unknown, options: PublishOptions): Promise<Publication> {
    const idempotencyKey = options.idempotencyKey ?? (this.generatedKeyTtl > 0 ? newIdempotencyKey() : undefined);
    const keys = [this.key(channel, 'm'), this.key(channel, 's')];
    if (idempotencyKey !== undefined) keys.push(this.key(channel, `i:${idempotencyKey}`));
    const time = Date.now();
    let info = options.info ? `,"info":${JSON.stringify(options.info)}` : '';
    if (options.headers) info += `,"headers":${JSON.stringify(options.headers)}`;
    const reply = await this.run(SCRIPTS.publish, keys, [
      channel, options.dataJson ?? JSON.stringify(data), options.historySize, options.historyTtl, Math.max(this.metaTtl, options.historyTtl),
      newEpoch(), time, info, this.pubsubChannel(channel), this.sharded ? 'spublish' : 'publish',
      options.idempotencyKey === undefined ? this.generatedKeyTtl : options.idempotencyTtl ?? 300,
    ], idempotencyKey === undefined ? {} : { idempotencyKey }) as string[];
    if (reply[0] === 'conflict') throw new IdempotencyConflictError(idempotencyKey ?? '');
    const pub: Publication = { channel, offset: Number(reply[1]), epoch: reply[2]!, data, time: Number(reply[3]) };
    if (options.info) pub.info = options.info;
    if (options.headers) pub.headers = options.headers;
    return pub;
  }

  async publishJoin(channel: string, info: ClientInfo): Promise<void> {
    await this.guard(() => this.publishRaw(this.pubsubChannel(channel), `j${JSON.stringify(info)}`));
  }

  async publishLeave(channel: string, info: ClientInfo): Promise<void> {
    await this.guard(() => this.publishRaw(this.pubsubChannel(channel), `l${JSON.stringify(info)}`));
  }

  /** Claims under `<prefix>:claim:{<key>}` (one key, one slot). */
  readonly claims: Claims = {
    claim: async (key, owner, ttl) => String(await this.run(SCRIPTS.claim, [this.claimKey(key)], [owner, ttl], {})),
    holder: async (key) => (await this.guard(() => this.client.get(this.claimKey(key)))) ?? undefined,
    release: async (key, owner) => { await this.run(SCRIPTS.release, [this.claimKey(key)], [owner], {}); },
  };

  private claimKey(key: string): string {
    return `${this.prefix}:claim:{${key}}`;
  }

  async publishControl(message: ControlMessage): Promise<void> {
    await this.guard(() => this.client.publish(this.controlChannel, JSON.stringify(message)), {});
  }

  async subscribe(channel: string): Promise<void> {
    this.sequencer.track(channel);
    const name = this.pubsubChannel(channel);
    await this.guard(() => (this.sharded ? this.sub.ssubscribe(name) : this.sub.subscribe(name)));
  }

  async unsubscribe(channel: string): Promise<void> {
    this.sequencer.untrack(channel);
    this.presenceChannels.delete(channel);
    const name = this.pubsubChannel(channel);
    await this.guard(() => (this.sharded ? this.sub.sunsubscribe(name) : this.sub.unsubscribe(name)));
  }

  async history(channel: string, options: HistoryOptions): Promise<HistoryResult> {
    const reply = await this.run(SCRIPTS.history, [this.key(channel, 'm'), this.key(channel, 's')], [
      newEpoch(), this.metaTtl, options.since ?? '', options.limit ?? '',
    ]) as [string, string, Array<[string, string[]]>];
    const [epoch, top, entries] = reply;
    const publications = entries.map(([, fields]) => JSON.parse(fields[1]!) as Publication);
    if (options.since === undefined) publications.reverse();
    return { position: { offset: Number(top), epoch }, publications };
  }

  async addPresence(channel: string, clientId: string, info: ClientInfo, ttl: number): Promise<boolean> {
    if (this.sequencer.isTracked(channel)) this.presenceChannels.add(channel);
    if (ttl < this.shortestPresenceTtl) this.shortestPresenceTtl = ttl;
    return Number(await this.run(SCRIPTS.presenceAdd, [this.key(channel, 'pr'), this.key(channel, 'px')], [clientId, JSON.stringify(info), Date.now() + ttl * 1000, Math.ceil(ttl)])) === 1;
  }

  async removePresence(channel: string, clientId: string): Promise<void> {
    await this.guard(() => this.client.multi().hdel(this.key(channel, 'pr'), clientId).zrem(this.key(channel, 'px'), clientId).exec());
  }

  async presence(channel: string): Promise<Record<string, ClientInfo>> {
    const flat = await this.run(SCRIPTS.presenceGet, [this.key(channel, 'pr'), this.key(channel, 'px')], this.expireArgs(channel)) as string[];
    const entries: Array<[string, ClientInfo]> = [];
    for (let i = 0; i + 1 < flat.length; i += 2) entries.push([flat[i]!, JSON.parse(flat[i + 1]!) as ClientInfo]);
    return Object.fromEntries(entries);
  }

  async close(): Promise<void> {
    this.handler = undefined;
    clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    this.closed = true;
    if (this.ownsSubscriber) this.sub.disconnect();
  }

  /**
   * Drops expired presence in every channel this node holds presence in, each dropped client
   * leaving with a `leave` to every node (see PRESENCE_EXPIRE). Nodes sweep the channels they
   * deliver, so a channel keeps being swept while any node has subscribers in it.
   */
  private async sweepPresence(): Promise<void> {
    for (const channel of [...this.presenceChannels]) {
      if (!this.isReady() || this.handler === undefined) return;
      await this.run(SCRIPTS.presenceExpire, [this.key(channel, 'pr'), this.key(channel, 'px')], this.expireArgs(channel)).catch(() => {
        /* Redis away: the next sweep drops them */
      });
    }
  }

  /** Checks once a second whether a sweep is due (every `presenceSweepInterval`, or half the shortest TTL). */
  private scheduleSweep(): void {
    let sweeping = false;
    let lastSweep = Date.now();
    this.sweepTimer = setInterval(() => {
      const ttlMs = this.shortestPresenceTtl * 500;
      const interval = this.sweepInterval ?? Math.min(30_000, Math.max(1000, Number.isFinite(ttlMs) ? ttlMs : 30_000));
      if (sweeping || this.presenceChannels.size === 0 || Date.now() - lastSweep < interval) return;
      sweeping = true;
      lastSweep = Date.now();
      void this.sweepPresence().finally(() => { sweeping = false; });
    }, Math.min(1000, this.sweepInterval ?? 1000));
    this.sweepTimer.unref();
  }

  private expireArgs(channel: string): Array<string | number> {
    return [Date.now(), this.pubsubChannel(channel), this.sharded ? 'spublish' : 'publish'];
  }

  private onMessage(name: string, message: string): void {
    if (name === this.controlChannel) {
      this.handler?.onControl(JSON.parse(message) as ControlMessage);
      return;
    }
    const kind = message[0];
    const body = message.slice(1);
    if (kind === 'p') return this.sequencer.receive(JSON.parse(body) as Publication);
    const channel = this.channelOf(name);
    if (channel === undefined) return;
    if (kind === 'j') this.handler?.onJoin(channel, JSON.parse(body) as ClientInfo);
    else if (kind === 'l') this.handler?.onLeave(channel, JSON.parse(body) as ClientInfo);
  }

  /** `tidings:{news}:m` — the hash tag keeps every key of a channel in one cluster slot. */
  private key(channel: string, suffix: string): string {
    return `${this.prefix}:{${channel}}:${suffix}`;
  }

  private pubsubChannel(channel: string): string {
    return this.key(channel, 'p');
  }

  private channelOf(pubsubChannel: string): string | undefined {
    const head = `${this.prefix}:{`;
    if (!pubsubChannel.startsWith(head) || !pubsubChannel.endsWith('}:p')) return undefined;
    return pubsubChannel.slice(head.length, -3);
  }

  private publishRaw(name: string, message: string): Promise<unknown> {
    return this.sharded ? this.client.spublish(name, message) : this.client.publish(name, message);
  }

  /** EVALSHA, loading the script on NOSCRIPT. `effect`: see guard. */
  private run(s: Script, keys: string[], args: Array<string | number>, effect?: Effect): Promise<unknown> {
    return this.guard(() => runScript(this.client, s, keys, args), effect);
  }

  /**
   * Runs `op` unless Redis is known to be down or stalled (then EngineUnavailableError at once).
   * A failure other than Redis's own error reply means the command may have been sent: with
   * `effect` (a write) it becomes OutcomeUnknownError carrying `effect.idempotencyKey`; without (a
   * read, or a presence event that may harmlessly arrive late) EngineUnavailableError. Only
   * ioredis's refusal to queue (offline queue off) certainly sent nothing, whatever `effect`.
   */
  private async guard<T>(op: () => Promise<T>, effect?: Effect): Promise<T> {
    if (this.client.status !== 'ready') throw new EngineUnavailableError(`redis is not connected (${this.client.status})`);
    if (this.stalled) throw new EngineUnavailableError('redis is not answering (a command timed out; waiting for a PING answer)');
    try {
      return await op();
    } catch (err) {
      if (!(err instanceof Error) || err.name === 'ReplyError') throw err;
      if (/enableOfflineQueue options is false/.test(err.message)) throw new EngineUnavailableError(`redis is unavailable: ${err.message}`);
      if (err.message === 'Command timed out') this.stall();
      if (effect) throw new OutcomeUnknownError(`redis did not confirm the command (${err.message}): it may or may not have run`, effect.idempotencyKey);
      throw new EngineUnavailableError(`redis is unavailable: ${err.message}`);
    }
  }

  /** Refuses commands until Redis answers a PING (or reconnects), probing one PING at a time. */
  private stall(): void {
    if (this.stalled) return;
    this.stalled = true;
    void (async () => {
      while (this.stalled && !this.closed && this.client.status !== 'end') {
        try {
          if (this.client.status === 'ready') {
            await this.client.ping();
            this.stalled = false;
          }
        } catch { /* timed out too: probe again */ }
        if (this.stalled) await new Promise((r) => setTimeout(r, 100).unref());
      }
    })();
  }
}
