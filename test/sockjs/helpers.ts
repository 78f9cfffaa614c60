/**
 * Helpers for the SockJS integration tests: a server whose default namespace takes client
 * publishes, the stock `sockjs-client` under `@stomp/stompjs`, and raw SockJS requests.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, type IMessage } from '@stomp/stompjs';
import SockJS from 'sockjs-client';
import { startTidings, type TidingsProcess } from '../helpers/tidings.js';

/** Starts `tidings serve` with client publishing on in the default namespace, plus `args`. */
export async function startSockjsTidings(args: string[] = []): Promise<TidingsProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'tidings-sockjs-'));
  const config = join(dir, 'tidings.json');
  writeFileSync(config, JSON.stringify({ namespaces: { '': { publish: true, historySize: 100 } } }));
  return startTidings({ args: ['--config', config, ...args] });
}

export interface StompOverSockjs {
  client: Client;
  /** The transport sockjs-client settled on. */
  transport: string;
  /** Close events of the SockJS socket: `[code, reason]`. */
  closes: Array<[number, string]>;
}

/** `@stomp/stompjs` with `webSocketFactory: () => new SockJS(url, null, {transports})`; resolves on CONNECTED. */
export async function stompOverSockjs(url: string, transports?: string[], connectHeaders: Record<string, string> = {}): Promise<StompOverSockjs> {
  let sock: (WebSocket & { transport?: string }) | undefined;
  const closes: Array<[number, string]> = [];
  const client = new Client({
    webSocketFactory: () => {
      sock = new SockJS(url, null, transports ? { transports } : {}) as unknown as WebSocket & { transport?: string };
      return sock;
    },
    connectHeaders,
    reconnectDelay: 0,
    debug: () => {},
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no CONNECTED over ${transports?.join(',') ?? 'default'} within 10 s`)), 10_000);
    client.onConnect = () => {
      clearTimeout(timer);
      resolve();
    };
    client.onWebSocketClose = (e: { code: number; reason: string }) => {
      closes.push([e.code, e.reason]);
      clearTimeout(timer);
      reject(new Error(`closed ${e.code} ${e.reason}`));
    };
    client.activate();
  });
  client.onWebSocketClose = (e: { code: number; reason: string }) => {
    closes.push([e.code, e.reason]);
  };
  return { client, transport: sock?.transport ?? '', closes };
}

/** Subscribes and collects bodies. */
export function collect(client: Client, destination: string): string[] {
  const bodies: string[] = [];
  client.subscribe(destination, (m: IMessage) => bodies.push(m.body));
  return bodies;
}

/** Waits until `cond` holds, polling every 20 ms. */
export async function until(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A random SockJS session path part: `/<server>/<session>`. */
export function sessionPath(): string {
  return `/${Math.floor(Math.random() * 1000)}/${Math.random().toString(36).slice(2)}`;
}
