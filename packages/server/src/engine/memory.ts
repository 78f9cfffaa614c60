import { randomBytes } from 'node:crypto';
import type { ClientInfo, Publication } from '@tidings/protocol';
import { IdempotencyConflictError } from './engine.js';
import type { Claims, ControlMessage, Engine, EngineHandler, HistoryOptions, HistoryResult, PublishOptions } from './engine.js';

interface ChannelState {
  epoch: string;
  offset: number;
  /** Held publications, oldest first, contiguous, ending at `offset`. */
  pubs: Publication[];
  /** When the held publications expire (ms). */
  expireAt: number;
  /** When the channel may be forgotten if no client of this node subscribes to it (ms). */
  keepUntil: number;
}

export interface MemoryEngineOptions {
  /**
   * Seconds a channel's offset and epoch are kept after its last publication (at least as long as
   * its history). A channel idle for longer, with no subscriber on this node, is forgotten: its next
   * publication starts a new epoch, as with the Redis engine's `metaTtl`. Default 30 days.
   */
  metaTtl?: number;
  /** Milliseconds between sweeps for forgotten channels, expired history and idempotency keys. Default 60 000. */
  sweepInterval?: number;
}

interface Remembered {
  pub: Publication;
  /** The JSON of the first publication's data, to refuse a reuse of the key with other data. */
  json: string;
  expireAt: number;
}

/**
 * What one idempotency key did, by channel: one record per key rather than one per channel and
 * key, so a broadcast to 1,000 channels with one key is one entry of the engine's key map.
 */
interface KeyRecord {
  /** The latest `expireAt` of its channels: the record goes when it passes. */
  expireAt: number;
  /** Ordered by `expireAt`, as the records are. */
  channels: Map<string, Remembered>;
}

export function newEpoch(): string {
  return randomBytes(6).toString('base64url');
}

/**
 * The single-process engine: everything lives in this process's memory and is gone when it exits
 * (a restart gives every channel a new epoch, so clients learn `recovered: false`).
 * Delivery to the handler is synchronous, inside `publish`. A periodic sweep frees what has expired,
 * so memory follows the channels in use rather than every channel ever published to.
 */
interface PresenceEntry {
  info: ClientInfo;
  /** When the entry expires unless refreshed (ms). */
  expiresAt: number;
}

/** How often the presence sweep checks whether it is due (ms). */
const PRESENCE_CHECK_MS = 1000;

export class MemoryEngine implements Engine {
  readonly name = 'memory';
  readonly shared = false;
  readonly claims: Claims = new MemoryClaims();
  private handler: EngineHandler | undefined;
  private readonly channels = new Map<string, ChannelState>();
  private readonly subscribed = new Set<string>();
  private readonly presenceByChannel = new Map<string, Map<string, PresenceEntry>>();
  private presenceSweeper: NodeJS.Timeout | undefined;
  private shortestPresenceTtl = Infinity;
  private lastPresenceSweep = 0;
  /** By idempotency key; ordered by `expireAt` (a record given a later one moves to the end), so expired keys are found at the front. */
  private readonly idempotency = new Map<string, KeyRecord>();
  private readonly metaTtlMs: number;
  private readonly sweepIntervalMs: number;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(options: MemoryEngineOptions = {}) {
    this.metaTtlMs = (options.metaTtl ?? 30 * 24 * 3600) * 1000;
    this.sweepIntervalMs = options.sweepInterval ?? 60_000;
    if (!(this.metaTtlMs > 0)) throw new TypeError('metaTtl must be > 0 seconds');
    if (!(this.sweepIntervalMs > 0)) throw new TypeError('sweepInterval must be > 0 ms');
  }

  async start(handler: EngineHandler): Promise<void> {
    this.handler = handler;
    if (!this.sweeper) {
      this.sweeper = setInterval(() => this.sweep(Date.now()), this.sweepIntervalMs);
      this.sweeper.unref();
      this.presenceSweeper = setInterval(() => this.sweepPresence(Date.now()), PRESENCE_CHECK_MS);
      this.presenceSweeper.unref();
    }
  }

  isReady(): boolean {
    return this.handler !== undefined;
  }

  async publish(channel: string, data: unknown, options: PublishOptions): Promise<Publication> {
    const now = Date.now();
    const key = options.idempotencyKey;
    let record: KeyRecord | undefined;
    if (key !== undefined) {
      this.forgetExpiredKeys(now);
      record = this.idempotency.get(key);
      const seen = record?.channels.get(channel);
      if (seen && seen.expireAt > now) {
        if (seen.json !== (options.dataJson ?? JSON.stringify(data))) throw new IdempotencyConflictError(options.idempotencyKey ?? '');
        return seen.pub;
      }
    }
    const st = this.state(channel, now);
    const pub: Publication = { channel, offset: st.offset + 1, epoch: st.epoch, data, time: now };
    if (options.info) pub.info = options.info;
    if (options.headers) pub.headers = options.headers;
    st.offset = pub.offset;
    st.keepUntil = now + Math.max(this.metaTtlMs, options.historyTtl * 1000);
    if (options.historySize > 0) {
      st.pubs.push(pub);
      if (st.pubs.length > options.historySize) st.pubs.splice(0, st.pubs.length - options.historySize);
      st.expireAt = now + options.historyTtl * 1000;
    } else {
      st.pubs.length = 0;
    }
    if (key !== undefined) this.remember(key, record, channel, { pub, json: options.dataJson ?? JSON.stringify(data), expireAt: now + (options.idempotencyTtl ?? 300) * 1000 }, now);
    if (this.subscribed.has(channel)) this.handler?.onPublication(pub, options.dataJson);
    return pub;
  }

  async publishJoin(channel: string, info: ClientInfo): Promise<void> {
    if (this.subscribed.has(channel)) this.handler?.onJoin(channel, info);
  }

  async publishLeave(channel: string, info: ClientInfo): Promise<void> {
    if (this.subscribed.has(channel)) this.handler?.onLeave(channel, info);
  }

  async publishControl(message: ControlMessage): Promise<void> {
    this.handler?.onControl(message);
  }

  async subscribe(channel: string): Promise<void> {
    this.subscribed.add(channel);
  }

  async unsubscribe(channel: string): Promise<void> {
    this.subscribed.delete(channel);
  }

  async history(channel: string, options: HistoryOptions): Promise<HistoryResult> {
    const st = this.state(channel, Date.now());
    const position = { offset: st.offset, epoch: st.epoch };
    let pubs = st.pubs;
    if (options.since !== undefined) {
      const first = pubs[0]?.offset ?? st.offset + 1;
      pubs = pubs.slice(Math.max(0, options.since + 1 - first));
      if (options.limit !== undefined) pubs = pubs.slice(0, options.limit);
    } else if (options.limit !== undefined) {
      pubs = options.limit === 0 ? [] : pubs.slice(-options.limit);
    } else {
      pubs = pubs.slice();
    }
    return { position, publications: pubs };
  }

  /**
   * Entries not refreshed within `ttl` seconds expire: a sweep (every half the shortest TTL, 1–30 s)
   * drops them, each with a `leave`. True when the client had no entry (a refreshed one, even past
   * its expiry but not swept yet, had no `leave`).
   */
  async addPresence(channel: string, clientId: string, info: ClientInfo, ttl: number): Promise<boolean> {
    let clients = this.presenceByChannel.get(channel);
    if (!clients) {
      clients = new Map();
      this.presenceByChannel.set(channel, clients);
    }
    const added = !clients.has(clientId);
    if (ttl < this.shortestPresenceTtl) this.shortestPresenceTtl = ttl;
    clients.set(clientId, { info, expiresAt: Date.now() + ttl * 1000 });
    return added;
  }

  async removePresence(channel: string, clientId: string): Promise<void> {
    const clients = this.presenceByChannel.get(channel);
    if (!clients) return;
    clients.delete(clientId);
    if (clients.size === 0) this.presenceByChannel.delete(channel);
  }

  async presence(channel: string): Promise<Record<string, ClientInfo>> {
    const now = Date.now();
    const out: Record<string, ClientInfo> = {};
    for (const [id, e] of this.presenceByChannel.get(channel) ?? []) if (e.expiresAt > now) out[id] = e.info;
    return out;
  }

  private sweepPresence(now: number): void {
    const interval = Math.min(30_000, Math.max(1000, this.shortestPresenceTtl * 500));
    if (now - this.lastPresenceSweep < interval) return;
    this.lastPresenceSweep = now;
    for (const [channel, clients] of this.presenceByChannel) {
      for (const [id, e] of clients) {
        if (e.expiresAt > now) continue;
        clients.delete(id);
        if (this.subscribed.has(channel)) this.handler?.onLeave(channel, e.info);
      }
      if (clients.size === 0) this.presenceByChannel.delete(channel);
    }
  }

  async close(): Promise<void> {
    this.handler = undefined;
    clearInterval(this.sweeper);
    clearInterval(this.presenceSweeper);
    this.sweeper = undefined;
    this.presenceSweeper = undefined;
  }

  private state(channel: string, now: number): ChannelState {
    let st = this.channels.get(channel);
    if (!st) {
      st = { epoch: newEpoch(), offset: 0, pubs: [], expireAt: 0, keepUntil: now + this.metaTtlMs };
      this.channels.set(channel, st);
    } else if (st.pubs.length > 0 && now >= st.expireAt) {
      st.pubs = [];
    }
    return st;
  }

  private sweep(now: number): void {
    for (const [channel, st] of this.channels) {
      if (st.keepUntil <= now && !this.subscribed.has(channel)) this.channels.delete(channel);
      else if (st.pubs.length > 0 && now >= st.expireAt) st.pubs = [];
    }
    this.forgetExpiredKeys(now);
  }

  private remember(key: string, record: KeyRecord | undefined, channel: string, seen: Remembered, now: number): void {
    if (!record) {
      this.idempotency.set(key, { expireAt: seen.expireAt, channels: new Map([[channel, seen]]) });
      return;
    }
    // channels in the order of their expiry too: a key reused for ever keeps only its live channels
    for (const [name, old] of record.channels) {
      if (old.expireAt > now) break;
      record.channels.delete(name);
    }
    record.channels.delete(channel);
    record.channels.set(channel, seen);
    if (seen.expireAt > record.expireAt) {
      record.expireAt = seen.expireAt;
      this.idempotency.delete(key);
      this.idempotency.set(key, record);
    }
  }

  private forgetExpiredKeys(now: number): void {
    for (const [key, seen] of this.idempotency) {
      if (seen.expireAt > now) break;
      this.idempotency.delete(key);
    }
  }
}

/** Claims within one process: a map of holders and expiry times (ms). */
export class MemoryClaims implements Claims {
  private readonly held = new Map<string, { owner: string; until: number }>();

  claim(key: string, owner: string, ttl: number): Promise<string> {
    const now = Date.now();
    const entry = this.held.get(key);
    if (entry && entry.until > now && entry.owner !== owner) return Promise.resolve(entry.owner);
    this.held.set(key, { owner, until: now + ttl * 1000 });
    return Promise.resolve(owner);
  }

  holder(key: string): Promise<string | undefined> {
    const entry = this.held.get(key);
    if (entry && entry.until <= Date.now()) this.held.delete(key);
    return Promise.resolve(entry && entry.until > Date.now() ? entry.owner : undefined);
  }

  release(key: string, owner: string): Promise<void> {
    if (this.held.get(key)?.owner === owner) this.held.delete(key);
    return Promise.resolve();
  }
}
