import type { Credentials } from '../auth/jwt.js';
import type { ChannelPolicy } from '../channels.js';
import type { Engine } from '../engine/engine.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../observability/metrics.js';
import type { Refusals } from '../observability/refusals.js';
import type { Disconnects } from '../observability/disconnects.js';
import type { ServerOptions } from '../options.js';
import type { Publisher } from '../publisher.js';
import type { ServerSubscriptions } from '../server-subs.js';
import type { Proxies } from '../proxy/proxies.js';
import type { TimerWheel } from '../timer.js';
import type { StompQueues } from './queue-contract.js';
import type { TopicRouter } from './topics.js';

/** What STOMP connections need from the broker and its node. */
export interface StompHost {
  readonly options: ServerOptions;
  readonly policy: ChannelPolicy;
  readonly engine: Engine;
  readonly publisher: Publisher;
  readonly timers: TimerWheel;
  readonly log: Logger;
  readonly refusals: Refusals;
  readonly metrics: Metrics;
  readonly disconnects: Disconnects;
  readonly topics: TopicRouter;
  readonly queues: StompQueues;
  readonly serverSubs: ServerSubscriptions;
  readonly proxies: Proxies;
  verify(token: string): Promise<Credentials>;
}
