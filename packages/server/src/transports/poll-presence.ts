import { createHash } from 'node:crypto';
import type { ClientInfo } from '@tidings/protocol';
import type { ChannelPolicy } from '../channels.js';
import type { Engine } from '../engine/engine.js';
import { badRequest } from '../errors.js';
import type { Logger } from '../log.js';

const LEASE_RE = /^[A-Za-z0-9_-]{22,64}$/;

/**
 * A poll's `lease=`: a secret the polling client makes up once (22–64 base64url characters, at
 * least 128 random bits) and sends with every poll, so its polls count as one client in presence.
 * Undefined without one; throws TidingsError 107 when malformed.
 */
export function leaseParam(url: URL): string | undefined {
  const lease = url.searchParams.get('lease');
  if (lease === null) return undefined;
  if (!LEASE_RE.test(lease)) throw badRequest('`lease` must be 22 to 64 base64url characters');
  return lease;
}

/**
 * The public client id of a lease in presence and join/leave: `poll-` and 22 base64url characters
 * of its SHA-256. Anyone may see it; only the holder of the lease can renew or take it over.
 */
export function pollerId(lease: string): string {
  return `poll-${createHash('sha256').update(lease).digest('base64url').slice(0, 22)}`;
}

/** Seconds a poller stays present after a poll starts: its `wait` plus two ping intervals to poll again. */
export function leaseTtl(wait: number, pingInterval: number): number {
  return wait + 2 * pingInterval;
}

export interface LeaseHost {
  readonly policy: ChannelPolicy;
  readonly engine: Engine;
  readonly log: Logger;
}

/**
 * Adds or renews a poller's presence for `ttl` seconds in each of `channels` whose namespace
 * tracks presence (`presence` or `joinLeave`), publishing `join` where it was not present (in
 * `joinLeave` namespaces). The lease then expires like a dead node's clients: the engine's sweep
 * drops it with a `leave`. Never rejects: a failure is logged at debug and the next poll retries.
 */
export async function renewLease(host: LeaseHost, info: ClientInfo, channels: Iterable<string>, ttl: number): Promise<void> {
  const { policy, engine, log } = host;
  for (const channel of channels) {
    const ns = policy.resolve(channel);
    if (!ns.presence && !ns.joinLeave) continue;
    try {
      const added = await engine.addPresence(channel, info.client, info, ttl);
      if (added && ns.joinLeave) await engine.publishJoin(channel, info);
    } catch (err) {
      log.debug('poller presence failed', { err: String(err) });
    }
  }
}
