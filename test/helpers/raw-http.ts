/**
 * A raw TCP HTTP/1.1 client for tests that care about connections: what goes on which socket,
 * pipelining, bytes split over packets, and the exact response bytes.
 */
import { connect, type Socket } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  /** The body, de-chunked when `Transfer-Encoding: chunked`. */
  body: string;
}

export class RawConnection {
  private buffer = Buffer.alloc(0);
  closed = false;
  private waiter: (() => void) | undefined;

  private constructor(readonly socket: Socket, private readonly port: number) {
    socket.on('data', (d: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, d]);
      this.waiter?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
    socket.on('error', () => { /* seen as close */ });
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new RawConnection(socket, port)));
      socket.once('error', reject);
    });
  }

  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** A GET with a Host header; more header lines in `headers`. */
  get(path: string, headers = ''): void {
    this.send(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${this.port}\r\n${headers}\r\n`);
  }

  close(): void {
    this.socket.destroy();
  }

  /** Waits until `done(buffered)` or the connection closes; throws after `ms`. */
  private async until(done: (b: Buffer) => boolean, ms: number, what: string): Promise<void> {
    const deadline = Date.now() + ms;
    while (!done(this.buffer) && !this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; have ${JSON.stringify(this.buffer.toString('latin1'))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => { clearTimeout(timer); resolve(); };
      });
      this.waiter = undefined;
    }
  }

  /**
   * Reads one response: by Content-Length, chunked to the last chunk, or else (a body that ends
   * with the connection) until `bodyDone(body)` or the close.
   */
  async response(bodyDone: (body: string) => boolean = () => false, ms = 5000): Promise<RawResponse> {
    await this.until((b) => b.includes('\r\n\r\n'), ms, 'a response head');
    const end = this.buffer.indexOf('\r\n\r\n');
    if (end < 0) throw new Error(`closed before a response head: ${JSON.stringify(this.buffer.toString('latin1'))}`);
    const lines = this.buffer.subarray(0, end).toString('latin1').split('\r\n');
    const status = Number(lines[0]!.split(' ')[1]);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    this.buffer = this.buffer.subarray(end + 4);
    if (status === 100) return { status, headers, body: '' };
    if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      await this.until((b) => b.length >= length, ms, 'the body');
      const body = this.buffer.subarray(0, length).toString('utf8');
      this.buffer = this.buffer.subarray(length);
      return { status, headers, body };
    }
    if (headers['transfer-encoding'] === 'chunked') {
      let body = Buffer.alloc(0);
      for (;;) {
        await this.until((b) => b.includes('\r\n'), ms, 'a chunk size');
        const eol = this.buffer.indexOf('\r\n');
        const size = parseInt(this.buffer.subarray(0, eol).toString('latin1'), 16);
        await this.until((b) => b.length >= eol + 2 + size + 2, ms, 'a chunk');
        body = Buffer.concat([body, this.buffer.subarray(eol + 2, eol + 2 + size)]);
        this.buffer = this.buffer.subarray(eol + 2 + size + 2);
        if (size === 0 || bodyDone(body.toString('utf8'))) return { status, headers, body: body.toString('utf8') };
      }
    }
    await this.until((b) => bodyDone(b.toString('utf8')), ms, 'the body');
    const body = this.buffer.toString('utf8');
    this.buffer = Buffer.alloc(0);
    return { status, headers, body };
  }

  /** Reads what comes next, raw, until `done(text)` or the close. */
  async read(done: (text: string) => boolean, ms = 5000): Promise<string> {
    await this.until((b) => done(b.toString('utf8')), ms, 'more');
    const text = this.buffer.toString('utf8');
    this.buffer = Buffer.alloc(0);
    return text;
  }

  /** Resolves once the server closed the connection. */
  async whenClosed(ms = 5000): Promise<void> {
    await this.until(() => false, ms, 'the close');
  }
}
