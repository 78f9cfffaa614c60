/**
 * The client with fallback: WebSocket first, then HTTP streaming, then long polling (and SSE on
 * request). A separate entry point, so apps that only use WebSocket do not carry the rest.
 */
import { Client as WebSocketClient, type TransportName } from './client.js';
import { pollTransport } from './transports/poll.js';
import { sseTransport } from './transports/sse.js';
import { streamTransport } from './transports/stream.js';
import type { TransportFactory } from './transports/transport.js';

export * from './index.js';
export { pollTransport, type PollOptions } from './transports/poll.js';
export { sseTransport, type EventSourceConstructor, type EventSourceLike } from './transports/sse.js';
export { streamTransport } from './transports/stream.js';

/** The same `Client`, with every transport and the default order websocket → stream → poll. */
export class Client extends WebSocketClient {
  protected override defaultTransports(): TransportName[] {
    return ['websocket', 'stream', 'poll'];
  }

  protected override transportFor(name: TransportName): TransportFactory {
    switch (name) {
      case 'stream': return streamTransport(this.url);
      case 'sse': return sseTransport(this.url, this.options.EventSource);
      case 'poll': return pollTransport(this.url, this.options.pollWait === undefined ? {} : { wait: this.options.pollWait });
      default: return super.transportFor(name);
    }
  }
}
