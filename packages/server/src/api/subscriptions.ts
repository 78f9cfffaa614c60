import type { IncomingMessage } from 'node:http';
import { UnsubscribeCode, parsePosition } from '@tidings/protocol';
import type { Engine } from '../engine/engine.js';
import { badRequest } from '../errors.js';
import type { ServerOptions } from '../options.js';
import type { ServerSubscriptions } from '../server-subs.js';
import { channelField, jsonObject, optionalString, userField } from './fields.js';

/** What the server-side subscription routes need from their node. */
export interface SubscriptionsHost {
  readonly options: ServerOptions;
  readonly engine: Engine;
  readonly policy: { resolve(channel: string): unknown };
  readonly serverSubs: ServerSubscriptions;
}

/**
 * The answer of `POST /api/subscribe` and `/api/unsubscribe`: what the server did, not what each
 * connection did. `remembered`: the user's record was written (subscribe) or cleared (unsubscribe),
 * so the user's later connections and reconnects follow it; `sent`: the control message went to
 * every node of the cluster (`cluster`, a shared engine) or to this node, the only one (`node`).
 * Whether the user has connections, and each connection's outcome, is not known here: a
 * connection that cannot take the subscription is told with `unsubscribed` (2000).
 */
export interface SubscriptionAnswer {
  remembered: boolean;
  sent: 'cluster' | 'node';
}

/**
 * `POST /api/subscribe {user, channel, since?}`: a server-side subscription for every current
 * connection of `user` on every node, remembered for the user's reconnects. `channel` must be
 * well-formed and in a configured namespace (111, 102); `since` ({offset, epoch}) replays from
 * there. The user's remembered channels are bounded by `maxSubscriptions` (106).
 */
export async function subscribeRoute(host: SubscriptionsHost, req: IncomingMessage): Promise<SubscriptionAnswer> {
  const body = await jsonObject(req, host.options.limits.maxMessageSize, host.options.limits.maxDepth);
  const user = userField(body.user);
  const channel = channelField(body.channel);
  host.policy.resolve(channel);
  const since = parsePosition(body.since);
  if (since === null) throw badRequest('`since` must be {offset: integer ≥ 0, epoch: string}');
  await host.serverSubs.remember(user, channel);
  await host.engine.publishControl(since ? { type: 'subscribe', user, channel, since } : { type: 'subscribe', user, channel });
  return { remembered: true, sent: host.engine.shared ? 'cluster' : 'node' };
}

/**
 * `POST /api/unsubscribe {user, channel, reason?}`: ends the channel's subscription (server-side or
 * the client's own) on every current connection of `user`, and forgets the server-side one.
 */
export async function unsubscribeRoute(host: SubscriptionsHost, req: IncomingMessage): Promise<SubscriptionAnswer> {
  const body = await jsonObject(req, host.options.limits.maxMessageSize, host.options.limits.maxDepth);
  const user = userField(body.user);
  const channel = channelField(body.channel);
  const reason = optionalString(body, 'reason') ?? 'unsubscribed by the server';
  await host.serverSubs.forget(user, channel);
  await host.engine.publishControl({ type: 'unsubscribe', user, channel, code: UnsubscribeCode.Server, reason });
  return { remembered: true, sent: host.engine.shared ? 'cluster' : 'node' };
}
