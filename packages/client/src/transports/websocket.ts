import { ABNORMAL_CLOSURE, type Transport, type TransportFactory, type TransportHandlers } from './transport.js';

/** The part of the WebSocket API the client uses: met by the browser's `WebSocket` and by `ws`. */
export interface WebSocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(type: 'close', listener: (event: { code: number; reason: string }) => void): void;
  addEventListener(type: 'error', listener: () => void): void;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

function defaultWebSocket(): WebSocketConstructor {
  const ctor = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!ctor) throw new Error('no global WebSocket: pass one in the `WebSocket` option (in Node: `import WebSocket from \'ws\'`)');
  return ctor;
}

/** Close codes a browser lets a script send. */
function sendableCode(code: number | undefined): number | undefined {
  return code === 1000 || (code !== undefined && code >= 3000 && code <= 4999) ? code : undefined;
}

/** The WebSocket URL for `url`: `https://host` → `wss://host/ws`; a `ws(s)://` URL as it is. */
export function websocketUrl(url: string): string {
  return /^https?:/i.test(url) ? `${url.replace(/^http/i, 'ws').replace(/\/$/, '')}/ws` : url;
}

export function websocketTransport(url: string, WebSocketCtor?: WebSocketConstructor): TransportFactory {
  return {
    name: 'websocket',
    open(handlers: TransportHandlers): Transport {
      const ws = new (WebSocketCtor ?? defaultWebSocket())(url);
      let done = false;
      const finish = (code: number, reason: string): void => {
        if (done) return;
        done = true;
        handlers.onClose(code, reason);
      };
      ws.addEventListener('open', () => { if (!done) handlers.onOpen(); });
      ws.addEventListener('message', (event) => {
        if (!done && typeof event.data === 'string') handlers.onFrame(event.data);
      });
      ws.addEventListener('close', (event) => finish(event.code, event.reason));
      ws.addEventListener('error', () => finish(ABNORMAL_CLOSURE, 'websocket error'));
      return {
        send(frame) {
          if (!done) ws.send(frame);
        },
        close(code, reason) {
          if (done) return;
          done = true;
          try {
            ws.close(sendableCode(code), sendableCode(code) === undefined ? undefined : reason);
          } catch {
            // already closing
          }
        },
      };
    },
  };
}
