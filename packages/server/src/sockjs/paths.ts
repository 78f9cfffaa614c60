/** The SockJS paths under a prefix. */

export type TransportName = 'xhr' | 'xhr_streaming' | 'eventsource' | 'htmlfile' | 'jsonp' | 'xhr_send' | 'jsonp_send';

/**
 * What a path under the prefix is. `label` names it for logs without the session id:
 * `<prefix>/<transport>`.
 */
export type Route =
  | { kind: 'greeting'; label: string }
  | { kind: 'info'; label: string }
  | { kind: 'iframe'; label: string }
  | { kind: 'websocket'; label: string; raw: boolean }
  | { kind: 'transport'; label: string; transport: TransportName; server: string; session: string };

const TRANSPORTS: ReadonlySet<string> = new Set(['xhr', 'xhr_streaming', 'eventsource', 'htmlfile', 'jsonp', 'xhr_send', 'jsonp_send']);
/** `/<server>/<session>/<transport>`: server and session ids are non-empty and have no dot. */
const SESSION_PATH = /^\/([^/.]+)\/([^/.]+)\/([a-z_]+)$/;
const IFRAME = /^\/iframe[0-9a-zA-Z._-]*\.html$/;

/** The route of `path` under the first matching prefix (`/sockjs`, an alias); undefined outside them or for an unknown path. */
export function routeOf(path: string, prefixes: readonly string[]): Route | undefined {
  for (const prefix of prefixes) {
    if (path !== prefix && !path.startsWith(`${prefix}/`)) continue;
    const rest = path.slice(prefix.length);
    if (rest === '' || rest === '/') return { kind: 'greeting', label: prefix };
    if (rest === '/info') return { kind: 'info', label: `${prefix}/info` };
    if (IFRAME.test(rest)) return { kind: 'iframe', label: `${prefix}/iframe.html` };
    if (rest === '/websocket') return { kind: 'websocket', label: `${prefix}/websocket`, raw: true };
    const match = SESSION_PATH.exec(rest);
    if (!match) return undefined;
    const [, server, session, transport] = match as unknown as [string, string, string, string];
    if (transport === 'websocket') return { kind: 'websocket', label: `${prefix}/websocket`, raw: false };
    if (!TRANSPORTS.has(transport)) return undefined;
    return { kind: 'transport', label: `${prefix}/${transport}`, transport: transport as TransportName, server, session };
  }
  return undefined;
}
