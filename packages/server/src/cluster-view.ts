import { randomUUID } from 'node:crypto';
import type { Engine, ViewControl } from './engine/engine.js';
import type { Logger } from './log.js';

/** One channel's subscribers on one node. */
export interface ChannelCount {
  channel: string;
  subscribers: number;
}

/** What one node reported. `truncated`: it has more channels than MAX_VIEW_CHANNELS (the busiest are kept). */
export interface NodeChannels {
  node: string;
  channels: ChannelCount[];
  truncated: boolean;
}

/**
 * The cluster's channels: `channels` summed over the nodes that answered (`answered`, node ids);
 * `missing`: nodes heard from recently that did not answer within the wait; `complete`: none
 * missing and none truncated; `nodes`: each answering node's own list.
 */
export interface ClusterChannels {
  channels: ChannelCount[];
  answered: string[];
  missing: string[];
  complete: boolean;
  nodes: NodeChannels[];
}

/** Channels one node reports at most, the busiest first; the view says `truncated` beyond. */
export const MAX_VIEW_CHANNELS = 10_000;
/** Milliseconds `/api/channels` waits for the other nodes' answers at most. */
export const VIEW_TIMEOUT_MS = 1000;

interface Pending {
  expected: Set<string>;
  replies: NodeChannels[];
  done: () => void;
}

/**
 * Cluster-wide views through the engine's control messages. Every node says `hello` each
 * heartbeat (and once when it starts, asking the others to answer with theirs) and `bye` when it
 * shuts down, so each node knows which nodes are alive: those heard within `liveFor` ms. A view asks every node and waits
 * until every live node answered, or VIEW_TIMEOUT_MS; the answer names the nodes that did not.
 * On an engine that is not shared (memory), the view is this node's own, at once.
 */
export class ClusterView {
  private readonly seen = new Map<string, number>();
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly engine: Engine,
    private readonly id: string,
    /** This node's channels and their subscribers. */
    private readonly local: () => ChannelCount[],
    private readonly log: Logger,
    /** A node not heard from for this many milliseconds is no longer expected to answer. */
    private readonly liveFor: number,
  ) {}

  /** Announces this node (`ask`: the others answer with their own hello, so a new node learns them at once). */
  hello(ask = false): void {
    if (!this.engine.shared) return;
    this.engine.publishControl({ type: 'view', op: 'hello', from: this.id, ask })
      .catch((err: unknown) => this.log.debug('view hello failed', { err: String(err) }));
  }

  /** Tells the others this node is going away, so views stop waiting for it. Never rejects. */
  async bye(): Promise<void> {
    if (!this.engine.shared) return;
    await this.engine.publishControl({ type: 'view', op: 'bye', from: this.id }).catch(() => { /* they forget it after liveFor */ });
  }

  onControl(message: ViewControl): void {
    if (message.from === this.id) return;
    if (message.op === 'bye') {
      this.seen.delete(message.from);
      return;
    }
    if (message.op === 'hello') {
      const known = this.seen.has(message.from);
      this.seen.set(message.from, Date.now());
      if (message.ask || !known) this.hello(false);
      return;
    }
    this.seen.set(message.from, Date.now());
    if (message.op === 'ask') {
      const reply = this.own();
      this.engine.publishControl({ type: 'view', op: 'channels', from: this.id, node: message.from, request: message.request, channels: reply.channels, truncated: reply.truncated })
        .catch((err: unknown) => this.log.debug('view reply failed', { err: String(err) }));
      return;
    }
    if (message.node !== this.id) return;
    const p = this.pending.get(message.request);
    if (!p) return;
    p.replies.push({ node: message.from, channels: message.channels.slice(0, MAX_VIEW_CHANNELS), truncated: message.truncated });
    p.expected.delete(message.from);
    if (p.expected.size === 0) p.done();
  }

  /** The whole cluster's channels (see ClusterChannels). Never rejects: an unreachable engine leaves every other node missing. */
  async channels(): Promise<ClusterChannels> {
    const replies: NodeChannels[] = [{ node: this.id, ...this.own() }];
    let missing: string[] = [];
    if (this.engine.shared) {
      const now = Date.now();
      for (const [node, at] of this.seen) if (now - at > this.liveFor) this.seen.delete(node);
      const expected = new Set(this.seen.keys());
      const request = randomUUID();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => done(), expected.size === 0 ? 0 : VIEW_TIMEOUT_MS);
        const done = (): void => {
          clearTimeout(timer);
          this.pending.delete(request);
          resolve();
        };
        this.pending.set(request, { expected, replies, done });
        if (expected.size === 0) return;
        this.engine.publishControl({ type: 'view', op: 'ask', from: this.id, request }).catch(() => done());
      });
      missing = [...expected].sort();
    }
    const totals = new Map<string, number>();
    for (const r of replies) for (const c of r.channels) totals.set(c.channel, (totals.get(c.channel) ?? 0) + c.subscribers);
    return {
      channels: [...totals].map(([channel, subscribers]) => ({ channel, subscribers })),
      answered: replies.map((r) => r.node),
      missing,
      complete: missing.length === 0 && replies.every((r) => !r.truncated),
      nodes: replies,
    };
  }

  private own(): { channels: ChannelCount[]; truncated: boolean } {
    const channels = this.local();
    if (channels.length <= MAX_VIEW_CHANNELS) return { channels, truncated: false };
    channels.sort((a, b) => b.subscribers - a.subscribers);
    return { channels: channels.slice(0, MAX_VIEW_CHANNELS), truncated: true };
  }
}
