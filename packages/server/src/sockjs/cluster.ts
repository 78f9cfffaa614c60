import { createHash, randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Claims, ControlMessage, SockjsControl } from '../engine/engine.js';
import type { Logger } from '../log.js';
import type { Timed, TimerWheel } from '../timer.js';
import { closeFrame } from './frames.js';
import type { HttpReceiver } from './receivers.js';
import type { Receiver, SockjsSession } from './session.js';

/** What the cluster side of the SockJS endpoint needs from its node. */
export interface ClusterHost {
  /** This node's id. */
  readonly id: string;
  readonly claims: Claims;
  publishControl(message: ControlMessage): Promise<void>;
  readonly timers: TimerWheel;
  readonly log: Logger;
}

export interface ClusterSettings {
  heartbeatMs: number;
  /** Bytes after which a streaming response ends. */
  responseLimit: number;
  /** Bytes a forwarded response may hold unsent before it is cut. */
  maxQueueBytes: number;
}

/** What the cluster asks of the local sessions. */
export interface LocalSessions {
  /** The local session under `key`, if any. */
  byKey(key: string): SockjsSession | undefined;
}

/**
 * Session ids shorter than this (or with other characters) are never claimed or forwarded: they
 * are too easy to guess to stand as proof of owning a session held elsewhere. sockjs-client's
 * default is 8 characters from a 32-letter alphabet (40 random bits).
 */
export const MIN_SHARED_ID = 8;
const SHARED_ID = new RegExp(`^[A-Za-z0-9_-]{${MIN_SHARED_ID},128}$`);
/** How long a claim lasts without being refreshed (s); refreshed after a third of it. */
export const CLAIM_TTL = 60;
/** How long a forwarded send or attach waits for the owner's first answer (ms). */
const ANSWER_MS = 3000;
/** A remote receiving request lasts at most this long (ms); the client opens the next one. */
const REMOTE_MAX_MS = 30_000;
const SWEEP_MS = 1000;

/** The key of `<server>/<session>`: what claims and control messages carry instead of the ids. */
export function sessionKey(server: string, session: string): string {
  return createHash('sha256').update(`${server}/${session}`).digest('base64url');
}

/** True when a session id may be used across nodes. */
export function sharable(session: string): boolean {
  return SHARED_ID.test(session);
}

/** On the owner: a receiving request held by another node; frames go there as control messages. */
class RemoteReceiver implements Receiver {
  readonly buffered = 0;
  readonly backedUp = false;
  private readonly started = Date.now();
  private sentBytes = 0;
  done = false;

  constructor(
    private readonly cluster: SockjsCluster,
    readonly node: string,
    readonly request: string,
    readonly polling: boolean,
    private readonly limit: number,
  ) {}

  send(frame: string): boolean {
    if (this.done) return false;
    this.cluster.publish({ type: 'sockjs', op: 'frames', node: this.node, from: this.cluster.id, request: this.request, frames: [frame] });
    this.sentBytes += frame.length;
    return !this.polling && this.sentBytes < this.limit && Date.now() - this.started < REMOTE_MAX_MS;
  }

  end(): void {
    if (this.done) return;
    this.done = true;
    this.cluster.remoteEnded(this);
    this.cluster.publish({ type: 'sockjs', op: 'end', node: this.node, from: this.cluster.id, request: this.request });
  }
}

/** On the node that took a request for a session held elsewhere: the request waiting for answers. */
interface Pending {
  owner: string;
  key: string;
  /** When the owner was last heard about this request (ms); 0 before its first answer. */
  heard: number;
  since: number;
  /** A receiving request's response; undefined for a send. */
  receiver?: HttpReceiver;
  /** A send's answer: whether the session was there (undefined: no answer in time). */
  answer?: (ok: boolean | undefined) => void;
}

/**
 * SockJS without sticky sessions. A session lives on the node that took its first request, which
 * claims its key (a hash of `<server>/<session>`) in the engine. A request for a session this node
 * does not hold asks the engine who holds it and goes there as control messages: sends run on the
 * owner; a receiving request becomes the session's receiver on the owner, which sends its frames
 * back to this node to write. One receiving request per session still holds (the owner's 2010
 * rule applies to remote receivers too).
 */
export class SockjsCluster implements Timed {
  private readonly pending = new Map<string, Pending>();
  /** On the owner: remote receivers by `<node> <request>`. */
  private readonly remotes = new Map<string, { receiver: RemoteReceiver; session: SockjsSession }>();
  /** Keys this node claimed, and when (ms). */
  private readonly claimed = new Map<string, number>();
  private sweeping = false;

  constructor(private readonly host: ClusterHost, private readonly sessions: LocalSessions, private readonly settings: () => ClusterSettings) {}

  get id(): string {
    return this.host.id;
  }

  /** Claims `key` for this node; resolves with the holder (this node's id when it won). */
  async claim(key: string): Promise<string> {
    const holder = await this.host.claims.claim(key, this.host.id, CLAIM_TTL);
    if (holder === this.host.id) {
      this.claimed.set(key, Date.now());
      this.scheduleSweep();
    }
    return holder;
  }

  /** The node holding `key`, if another one does. */
  async elsewhere(key: string): Promise<string | undefined> {
    const holder = await this.host.claims.holder(key);
    return holder === this.host.id ? undefined : holder;
  }

  /** The local session under `key` is forgotten: let go of its claim. */
  forget(key: string): void {
    if (!this.claimed.delete(key)) return;
    this.host.claims.release(key, this.host.id).catch(() => { /* it expires */ });
  }

  /** Runs the client's `messages` on `owner`; resolves with whether the session was there (false when no answer in time). */
  send(owner: string, key: string, messages: string[]): Promise<boolean> {
    const request = randomUUID();
    return new Promise((resolve) => {
      this.pending.set(request, { owner, key, heard: 0, since: Date.now(), answer: (ok) => resolve(ok === true) });
      this.scheduleSweep();
      this.publish({ type: 'sockjs', op: 'send', node: owner, from: this.host.id, request, key, messages });
    });
  }

  /** Makes `receiver` (headers written) the receiver of the session `key` on `owner`. */
  receive(owner: string, key: string, receiver: HttpReceiver, res: ServerResponse): void {
    const request = randomUUID();
    this.pending.set(request, { owner, key, heard: 0, since: Date.now(), receiver });
    this.scheduleSweep();
    res.once('close', () => {
      if (!this.pending.delete(request)) return;
      this.publish({ type: 'sockjs', op: 'detach', node: owner, from: this.host.id, request, key });
    });
    this.publish({ type: 'sockjs', op: 'attach', node: owner, from: this.host.id, request, key, polling: receiver.polling });
  }

  /** A SockJS control message from the engine (every node sees every one). */
  onControl(m: SockjsControl): void {
    if (m.node !== this.host.id) return;
    switch (m.op) {
      case 'send': {
        const session = this.sessions.byKey(m.key);
        if (session && session.state !== 'closed') session.receive(m.messages);
        return this.publish({ type: 'sockjs', op: 'sent', node: m.from, from: this.host.id, request: m.request, ok: session !== undefined && session.state !== 'closed' });
      }
      case 'attach': {
        const session = this.sessions.byKey(m.key);
        if (!session) return;
        const receiver = new RemoteReceiver(this, m.from, m.request, m.polling, this.settings().responseLimit);
        this.remotes.set(`${m.from} ${m.request}`, { receiver, session });
        this.publish({ type: 'sockjs', op: 'frames', node: m.from, from: this.host.id, request: m.request, frames: [] });
        session.attach(receiver);
        return;
      }
      case 'detach': {
        const remote = this.remotes.get(`${m.from} ${m.request}`);
        if (!remote) return;
        this.remotes.delete(`${m.from} ${m.request}`);
        remote.receiver.done = true;
        remote.session.detach(remote.receiver, true);
        return;
      }
      case 'sent': {
        const p = this.pending.get(m.request);
        if (!p?.answer || p.owner !== m.from) return;
        this.pending.delete(m.request);
        return p.answer(m.ok);
      }
      case 'frames': {
        const p = this.pending.get(m.request);
        if (!p?.receiver || p.owner !== m.from) return;
        p.heard = Date.now();
        for (const frame of m.frames) p.receiver.send(frame);
        if (p.receiver.buffered > this.settings().maxQueueBytes) p.receiver.terminate();
        return;
      }
      case 'end': {
        const p = this.pending.get(m.request);
        if (!p?.receiver || p.owner !== m.from) return;
        this.pending.delete(m.request);
        p.receiver.end();
      }
    }
  }

  remoteEnded(receiver: RemoteReceiver): void {
    this.remotes.delete(`${receiver.node} ${receiver.request}`);
  }

  publish(message: SockjsControl): void {
    this.host.publishControl(message).catch((err: unknown) => this.host.log.warn('sockjs forward failed', { op: message.op, err: String(err) }));
  }

  /**
   * Ends requests whose owner did not answer in time (it is gone: the client reconnects), refreshes
   * this node's claims.
   */
  onTimer(now: number): void {
    this.sweeping = false;
    const silence = 2 * this.settings().heartbeatMs + 3000;
    for (const [request, p] of this.pending) {
      const late = p.heard === 0 ? now - p.since > ANSWER_MS : now - p.heard > silence;
      if (!late) continue;
      this.pending.delete(request);
      p.answer?.(undefined);
      if (p.receiver) {
        p.receiver.send(closeFrame(1002, 'Connection interrupted'));
        p.receiver.end();
      }
    }
    for (const [key, at] of this.claimed) {
      if (now - at < (CLAIM_TTL * 1000) / 3) continue;
      this.claimed.set(key, now);
      this.host.claims.claim(key, this.host.id, CLAIM_TTL).catch(() => { /* retried next sweep after a third of the TTL */ });
    }
    this.scheduleSweep();
  }

  /** Ends every request waiting on another node (the node stops). */
  endAll(): void {
    for (const p of this.pending.values()) {
      p.answer?.(undefined);
      p.receiver?.end();
    }
    this.pending.clear();
  }

  private scheduleSweep(): void {
    if (this.sweeping || (this.pending.size === 0 && this.claimed.size === 0)) return;
    this.sweeping = true;
    this.host.timers.schedule(this, Date.now() + SWEEP_MS);
  }
}
