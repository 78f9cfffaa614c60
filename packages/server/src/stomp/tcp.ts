import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import type { TlsOptions } from '../options.js';

/** Milliseconds a STOMP-over-TLS client has to finish its TLS handshake. */
const HANDSHAKE_TIMEOUT_MS = 10_000;

/** The TCP listener for STOMP clients (`--stomp-port`): plain, or TLS when given a certificate (`--stomp-tls`). */
export class TcpListener {
  private readonly server: Server | TlsServer;
  private readonly tls: TlsServer | undefined;

  constructor(onSocket: (socket: Socket) => void, tls?: TlsOptions) {
    const options = { noDelay: true, keepAlive: true, keepAliveInitialDelay: 30_000 };
    if (tls) {
      this.tls = createTlsServer({ ...options, cert: tls.cert, key: tls.key, handshakeTimeout: HANDSHAKE_TIMEOUT_MS }, onSocket);
      this.server = this.tls;
    } else {
      this.tls = undefined;
      this.server = createServer(options, onSocket);
    }
  }

  /** Whether connections are TLS. */
  get secure(): boolean {
    return this.tls !== undefined;
  }

  /** Serves new TLS connections with this certificate (open ones keep theirs); throws, changing nothing, for a bad pair or a plain listener. */
  setCertificate(tls: TlsOptions): void {
    if (!this.tls) throw new Error('the STOMP listener is not TLS');
    this.tls.setSecureContext({ cert: tls.cert, key: tls.key });
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
