/**
 * Helpers for the client SDK's integration tests: a TCP proxy that can cut the
 * network, a WebSocket constructor that records connection attempts, waiting.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import WebSocket from 'ws';
import { Client, type ClientOptions, type Publication, type WebSocketConstructor } from '@tidings/client';
import type { TidingsProcess } from '../helpers/tidings.js';

/** Forwards 127.0.0.1:port to a target port; `drop()` destroys every connection like a network failure. */
export class DropProxy {
  readonly accepted: number[] = [];
  private readonly sockets = new Set<Socket>();
  private blocked = false;

  private constructor(private readonly server: Server, readonly port: number) {}

  static async start(targetPort: number): Promise<DropProxy> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const proxy = new DropProxy(server, typeof address === 'object' && address ? address.port : 0);
    server.on('connection', (downstream) => proxy.forward(downstream, targetPort));
    return proxy;
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}/ws`;
  }

  /** Destroys every open connection (both sides), as if the network went away. */
  drop(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  /** Drops and refuses new connections until `allow()`. */
  block(): void {
    this.blocked = true;
    this.drop();
  }

  allow(): void {
    this.blocked = false;
  }

  async close(): Promise<void> {
    this.drop();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private forward(downstream: Socket, targetPort: number): void {
    this.accepted.push(Date.now());
    if (this.blocked) {
      downstream.destroy();
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    for (const [a, b] of [[downstream, upstream], [upstream, downstream]] as const) {
      this.sockets.add(a);
      a.on('error', () => b.destroy());
      a.on('close', () => { this.sockets.delete(a); b.destroy(); });
      a.pipe(b);
    }
  }
}

/** The `ws` constructor, noting the time of every connection attempt in `attempts`. */
export function recordingWebSocket(attempts: number[]): WebSocketConstructor {
  return class extends WebSocket {
    constructor(url: string) {
      super(url);
      attempts.push(Date.now());
    }
  };
}

export function nodeClient(url: string, options: ClientOptions = {}): Client {
  return new Client(url, { WebSocket, ...options });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function waitFor(what: string, condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** Publishes `data: n` for n = 1, 2, … every `everyMs` until `stop()`; counts the ones the server acknowledged. */
export function publishLoop(t: TidingsProcess, channel: string, everyMs = 5): { stop: () => Promise<Array<{ offset: number; epoch: string; n: number }>> } {
  const acked: Array<{ offset: number; epoch: string; n: number }> = [];
  let running = true;
  const done = (async () => {
    for (let n = 1; running; n++) {
      try {
        acked.push({ ...(await t.publish(channel, { n })), n });
      } catch {
        // the server is down: this one was not published
      }
      await sleep(everyMs);
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
      return acked;
    },
  };
}

export function offsetsOf(pubs: Publication[], epoch?: string): number[] {
  return pubs.filter((p) => epoch === undefined || p.epoch === epoch).map((p) => p.offset);
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}
