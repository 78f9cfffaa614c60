/**
 * A TCP proxy in front of a test server: it can cut every connection at once (a network drop), or
 * refuse WebSocket upgrades the way some corporate proxies do (strip them, answer 400).
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { freePort } from './tidings.js';

export class TestProxy {
  readonly url: string;
  private readonly sockets = new Set<Socket>();
  /** When true, a request carrying `Upgrade: websocket` is answered 400 and closed. */
  rejectUpgrades = false;

  private constructor(private readonly server: Server, readonly port: number) {
    this.url = `http://127.0.0.1:${port}`;
  }

  static async start(targetPort: number, options: { rejectUpgrades?: boolean } = {}): Promise<TestProxy> {
    const port = await freePort();
    let proxy: TestProxy | undefined;
    const server = createServer((client) => proxy!.accept(client, targetPort));
    proxy = new TestProxy(server, port);
    proxy.rejectUpgrades = options.rejectUpgrades ?? false;
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return proxy;
  }

  private accept(client: Socket, targetPort: number): void {
    this.sockets.add(client);
    client.on('close', () => this.sockets.delete(client));
    client.on('error', () => client.destroy());
    client.once('data', (first: Buffer) => {
      if (this.rejectUpgrades && /^upgrade:\s*websocket/im.test(first.toString('latin1'))) {
        client.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
        return;
      }
      const upstream = createConnection(targetPort, '127.0.0.1');
      this.sockets.add(upstream);
      upstream.on('close', () => { this.sockets.delete(upstream); client.destroy(); });
      upstream.on('error', () => upstream.destroy());
      client.on('close', () => upstream.destroy());
      upstream.write(first);
      client.pipe(upstream);
      upstream.pipe(client);
    });
  }

  /**
   * Stops forwarding on every open connection without closing it: both ends see a silent,
   * half-open connection, as after a NAT or proxy loses its state. New connections work.
   */
  freezeAll(): void {
    for (const s of this.sockets) {
      s.unpipe();
      s.pause();
    }
  }

  /** Destroys every open connection, as a network drop would. */
  dropAll(): void {
    for (const s of this.sockets) s.destroy();
  }

  async stop(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
