import type { ServerMessage } from '@tidings/protocol';
import { httpBase, readError, withQuery } from './http.js';
import { OneWayTransport, type Downstream, type DownstreamHandlers } from './one-way.js';
import type { TransportFactory } from './transport.js';

/** Reads `GET /stream` (newline-delimited JSON) with `fetch` and a `ReadableStream`. */
function openNdjson(url: string, token: string | undefined, handlers: DownstreamHandlers): Downstream {
  // the token goes in a header here: only the cursor rides in the URL
  const controller = new AbortController();
  void (async () => {
    let res: Response;
    try {
      res = await fetch(url, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` }, signal: controller.signal });
    } catch {
      return handlers.onEnd('stream request failed');
    }
    if (!res.ok || !res.body) return handlers.onRefused(res.status, await readError(res));
    const reader = res.body.getReader() as ReadableStreamDefaultReader<Uint8Array>;
    const decoder = new TextDecoder();
    let buffered = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        handlers.onActivity();
        buffered += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, end);
          buffered = buffered.slice(end + 1);
          if (line !== '') handlers.onMessage(JSON.parse(line) as ServerMessage, line);
        }
      }
    } catch {
      return handlers.onEnd('stream broken');
    }
    handlers.onEnd('stream ended');
  })();
  return { close: () => controller.abort() };
}

/**
 * HTTP streaming: `GET /stream` carries server messages, `POST /emulation` carries commands.
 * `url` is the server's WebSocket URL (`wss://host/ws`) or its base URL (`https://host`).
 */
export function streamTransport(url: string): TransportFactory {
  const base = httpBase(url);
  return {
    name: 'stream',
    open: (handlers) => new OneWayTransport(base, (token, cursor, h) => openNdjson(withQuery(`${base}/stream`, undefined, cursor), token, h), handlers),
  };
}
