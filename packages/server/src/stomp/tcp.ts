import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/** The plain TCP listener for STOMP clients (`--stomp-port`). */
export class TcpListener {
  private readonly server: Server;

  constructor(onSocket: (socket: Socket) => void) {
    this.server = createServer({ noDelay: true, keepAlive: true, keepAliveInitialDelay: 30_000 }, onSocket);
  }

  async listen(port: number, host: string): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return this.server.address() as AddressInfo;
  }

  get listening(): boolean {
    return this.server.listening;
  }

  address(): AddressInfo | undefined {
    const a = this.server.address();
    return a !== null && typeof a === 'object' ? a : undefined;
  }

  /** Stops accepting; open connections are left to the broker. */
  close(): Promise<void> {
    if (!this.server.listening) return Promise.resolve();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
