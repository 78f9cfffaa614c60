/**
 * The cluster's live numbers as the admin page knows them: each node's latest stats snapshot
 * (from `$admin:stats`, or from polling `/admin/api/stats` for this node alone) and the rates
 * between its last two snapshots.
 */

/** One node's counters at one moment: what `GET /admin/api/stats` answers and `$admin:stats` carries. */
export interface Stats {
  node: string;
  /** Milliseconds since the epoch. */
  time: number;
  connections: Record<string, number>;
  subscriptions: number;
  /** Publications accepted since the node started. */
  publications: number;
  /** Messages queued to connections since the node started. */
  delivered: number;
}

export interface Rates { pub: number; del: number }

export interface NodeState {
  stats: Stats;
  rates: Rates;
  /** `performance.now()` when the last snapshot came. */
  heard: number;
}

/** A node not heard from for this many milliseconds is shown as silent; after FORGET_MS it is dropped. */
export const SILENT_MS = 3500;
const FORGET_MS = 60_000;

export class ClusterStats {
  private readonly nodes = new Map<string, NodeState>();

  /** Takes a snapshot; returns false when it is not newer than the node's last. */
  add(s: Stats, now = performance.now()): boolean {
    const last = this.nodes.get(s.node);
    if (last && s.time <= last.stats.time) return false;
    let rates: Rates = { pub: 0, del: 0 };
    if (last) {
      const secs = (s.time - last.stats.time) / 1000;
      rates = { pub: Math.max(0, (s.publications - last.stats.publications) / secs), del: Math.max(0, (s.delivered - last.stats.delivered) / secs) };
    }
    this.nodes.set(s.node, { stats: s, rates, heard: now });
    for (const [id, n] of this.nodes) if (now - n.heard > FORGET_MS) this.nodes.delete(id);
    return true;
  }

  /** Nodes heard within the last minute, sorted by id. */
  list(): Array<NodeState & { silent: boolean }> {
    const now = performance.now();
    return [...this.nodes.values()].sort((a, b) => (a.stats.node < b.stats.node ? -1 : 1)).map((n) => ({ ...n, silent: now - n.heard > SILENT_MS }));
  }

  /** Sums over the nodes that are not silent. */
  totals(): { connections: Record<string, number>; subscriptions: number; rates: Rates } {
    const connections: Record<string, number> = {};
    let subscriptions = 0;
    const rates = { pub: 0, del: 0 };
    for (const n of this.list()) {
      if (n.silent) continue;
      for (const [t, c] of Object.entries(n.stats.connections)) connections[t] = (connections[t] ?? 0) + c;
      subscriptions += n.stats.subscriptions;
      rates.pub += n.rates.pub;
      rates.del += n.rates.del;
    }
    return { connections, subscriptions, rates };
  }
}
