/**
 * The SockJS transport for the demo's switch: the JSON protocol over a sockjs-client session to the
 * server's `/sockjs` endpoint, as a TransportFactory of the SDK. sockjs-client is loaded by the page
 * (`sockjs.min.js`, the global `SockJS`).
 */
import type { Transport, TransportFactory, TransportHandlers } from '@tidings/client/fallback';

interface SockJSLike {
  /** The SockJS transport in use once open (`websocket`, `xhr-streaming`, …). */
  transport?: string;
  onopen: (() => void) | null;
  onmessage: ((e: { data: unknown }) => void) | null;
  onclose: ((e: { code: number; reason: string }) => void) | null;
  send(data: string): void;
  close(): void;
}
type SockJSConstructor = new (url: string, reserved?: null, options?: { transports?: string[] }) => SockJSLike;

/** The sockjs-client global, when its script has loaded. */
function sockjsGlobal(): SockJSConstructor | undefined {
  return (globalThis as { SockJS?: SockJSConstructor }).SockJS;
}

/** A transport to `url` (`https://host/sockjs`); `onSockjsTransport` is told which SockJS transport opened. */
export function sockjsTransport(url: string, onSockjsTransport: (name: string) => void = () => {}): TransportFactory {
  return {
    name: 'sockjs',
    open(handlers: TransportHandlers): Transport {
      const SockJS = sockjsGlobal();
      if (!SockJS) {
        setTimeout(() => handlers.onClose(1006, 'sockjs-client is not loaded'), 0);
        return { send: () => {}, close: () => {} };
      }
      const sock = new SockJS(url);
      let done = false;
      sock.onopen = () => {
        onSockjsTransport(sock.transport ?? '');
        handlers.onOpen();
      };
      sock.onmessage = (e) => handlers.onFrame(String(e.data));
      sock.onclose = (e) => {
        if (done) return;
        done = true;
        handlers.onClose(e.code, e.reason);
      };
      return {
        send: (frame) => sock.send(frame),
        close: () => {
          done = true;
          sock.close();
        },
      };
    },
  };
}
