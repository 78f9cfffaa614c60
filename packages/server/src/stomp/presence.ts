import type { ClientInfo } from '@tidings/protocol';
import type { StompHost } from './host.js';
import type { Subscription } from './subscriptions.js';

/**
 * Re-adds `info`'s presence in the channel of every live topic subscription of `subs` that
 * announces presence, for 3 ping intervals, so an engine with expiry (Redis) keeps it while the
 * connection lives. Called once per ping interval; a failure is logged at debug and the next
 * refresh tries again.
 */
export function refreshTopicPresence(host: Pick<StompHost, 'engine' | 'options' | 'log'>, info: ClientInfo, subs: Iterable<Subscription>): void {
  const { engine, options, log } = host;
  for (const sub of subs) {
    if (sub.kind !== 'topic' || !sub.presence || !sub.live) continue;
    engine.addPresence(sub.channel, info.client, info, options.pingInterval * 3)
      .catch((err: unknown) => log.debug('stomp presence refresh failed', { err: String(err) }));
  }
}
