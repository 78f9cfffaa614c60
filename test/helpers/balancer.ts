/**
 * A plain round-robin TCP load balancer in front of several nodes, like a cloud L4 balancer
 * without sticky sessions: each new connection goes to the next node; a node that refuses the
 * connection is skipped.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { freePort } from './tidings.js';

export class Balancer {
  readonly url: string;
  readonly wsUrl: string;
  private next = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly server: Server, readonly port: number, private readonly targets: number[]) {
    this.url = `http://127.0.0.1:${port}`;
    this.wsUrl = `ws://127.0.0.1:${port}/ws`;
  }

  static async start(targets: number[]): Promise<Balancer> {
    const port = await freePort();
    let lb: Balancer | undefined;
    const server = createServer((client) => lb!.accept(client));
    lb = new Balancer(server, port, targets);
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return lb;
  }

  private accept(client: Socket): void {
    client.pause();
    this.sockets.add(client);
    client.on('close', () => this.sockets.delete(client));
    client.on('error', () => client.destroy());
    this.route(client, 0);
  }

  private route(client: Socket, attempt: number): void {
    const target = this.targets[this.next++ % this.targets.length]!;
    const upstream = createConnection(target, '127.0.0.1');
    upstream.once('error', () => {
      upstream.destroy();
      if (attempt + 1 < this.targets.length && !client.destroyed) this.route(client, attempt + 1);
      else client.destroy();
    });
    upstream.once('connect', () => {
      this.sockets.add(upstream);
      upstream.on('close', () => { this.sockets.delete(upstream); client.destroy(); });
      upstream.on('error', () => upstream.destroy());
      client.on('close', () => upstream.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
