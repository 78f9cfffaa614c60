export { Client } from './client.js';
export type { ClientEvents, ClientOptions, ClientState, ConnectedEvent, TransportName } from './client.js';
export { Subscription } from './subscription.js';
export type { ServerSubscribedEvent, ServerUnsubscribedEvent } from './server-subs.js';
export { Inbox } from './inbox.js';
export type { InboxEvents, InboxListOptions } from './inbox.js';
export { LiveCount, type LiveCountEvents } from './live-count.js';
export type {
  HistoryOptions, SubscribeOptions, SubscribedEvent, SubscriptionEvents, SubscriptionHandlers, SubscriptionState,
} from './subscription.js';
export { ClientErrorCode, TidingsError, UnauthorizedError } from './errors.js';
export { backoffCeiling, backoffDelay } from './backoff.js';
export type { BackoffOptions } from './backoff.js';
export type { Listener } from './emitter.js';
export { websocketTransport } from './transports/websocket.js';
export type { WebSocketConstructor, WebSocketLike } from './transports/websocket.js';
export type { Transport, TransportFactory, TransportHandlers } from './transports/transport.js';
export type {
  ClientInfo, HistoryResult, InboxEvent, InboxFilter, InboxListResult, Notification, Severity, PresenceResult, Publication, PublishResult, StreamPosition,
} from '@tidings/protocol';
export { CloseCode, ErrorCode, shouldReconnect } from '@tidings/protocol';
