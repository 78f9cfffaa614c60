import type { ServerMessage } from '@tidings/protocol';
import { httpBase, statusError, withQuery } from './http.js';
import { OneWayTransport, type Downstream, type DownstreamHandlers } from './one-way.js';
import type { TransportFactory } from './transport.js';

/** The part of `EventSource` the client uses: met by browsers' and by the `eventsource` package's. */
export interface EventSourceLike {
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  /** `code` is the HTTP status where the implementation tells it (the `eventsource` package does). */
  addEventListener(type: 'error', listener: (event: { code?: number | undefined }) => void): void;
  /** The server's keepalive event. */
  addEventListener(type: 'ping', listener: () => void): void;
  close(): void;
}

export type EventSourceConstructor = new (url: string) => EventSourceLike;

function defaultEventSource(): EventSourceConstructor {
  const ctor = (globalThis as { EventSource?: EventSourceConstructor }).EventSource;
  if (!ctor) throw new Error('no global EventSource: pass one in the `EventSource` option (in Node: `import { EventSource } from \'eventsource\'`)');
  return ctor;
}

/**
 * Reads `GET /sse`. The SDK reconnects by itself (with backoff, resubscribing from its
 * positions), so the EventSource's own reconnect is cut short: any error ends the stream.
 */
function openEventSource(Ctor: EventSourceConstructor, url: string, token: string | undefined, cursor: string, handlers: DownstreamHandlers): Downstream {
  const es = new Ctor(withQuery(url, token, cursor));
  let open = true;
  const close = (): void => {
    open = false;
    es.close();
  };
  es.addEventListener('message', (event) => {
    if (!open || typeof event.data !== 'string') return;
    let message: ServerMessage;
    try {
      message = JSON.parse(event.data) as ServerMessage;
    } catch {
      close();
      return handlers.onEnd('unreadable event');
    }
    handlers.onMessage(message, event.data);
  });
  es.addEventListener('ping', () => {
    if (open) handlers.onActivity();
  });
  es.addEventListener('error', (event) => {
    if (!open) return;
    close();
    const status = event.code;
    if (status !== undefined && status >= 400) handlers.onRefused(status, status < 500 ? statusError(status, token) : undefined);
    else handlers.onEnd('event stream error');
  });
  return { close };
}

/**
 * Server-Sent Events: `GET /sse` carries server messages, `POST /emulation` carries commands.
 * The token goes in the `token=` query parameter (an EventSource cannot set headers) unless
 * the app relies on the `tidings_token` cookie. In Node hand in `EventSource` from `eventsource`.
 */
export function sseTransport(url: string, EventSourceCtor?: EventSourceConstructor): TransportFactory {
  const base = httpBase(url);
  return {
    name: 'sse',
    open(handlers) {
      const Ctor = EventSourceCtor ?? defaultEventSource();
      return new OneWayTransport(base, (token, cursor, h) => openEventSource(Ctor, `${base}/sse`, token, cursor, h), handlers);
    },
  };
}
