import type { ServerResponse } from 'node:http';
import type { Closable, CloseSweep } from '../websocket/close-sweep.js';
import type { Receiver, SockjsSession } from './session.js';

/** How one HTTP transport family writes frames. */
interface Framing {
  readonly contentType: string;
  /** Polling transports answer one frame per request. */
  readonly polling: boolean;
  prelude(callback: string): string;
  wrap(frame: string, callback: string): string;
}

export type ReceivingTransport = 'xhr' | 'xhr_streaming' | 'eventsource' | 'htmlfile' | 'jsonp';

const JAVASCRIPT = 'application/javascript; charset=UTF-8';

/** The htmlfile page head: the frames that follow call `p(frame)`; padded past 1 KiB so browsers render it at once. */
function htmlfileHead(callback: string): string {
  const head = `<!doctype html>
<html><head>
  <meta http-equiv="X-UA-Compatible" content="IE=edge" />
  <meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />
</head><body><h2>Don't panic!</h2>
  <script>
    document.domain = document.domain;
    var c = parent.${callback};
    c.start();
    function p(d) {c.message(d);};
    window.onload = function() {c.stop();};
  </script>`;
  return `${head}${' '.repeat(Math.max(0, 1024 - head.length + 14))}\r\n\r\n`;
}

/** A frame as a JavaScript string literal that cannot end an HTML script element. */
function scriptString(frame: string): string {
  return JSON.stringify(frame).replace(/</g, '\\u003c');
}

const FRAMINGS: Record<ReceivingTransport, Framing> = {
  xhr: { contentType: JAVASCRIPT, polling: true, prelude: () => '', wrap: (f) => `${f}\n` },
  xhr_streaming: { contentType: JAVASCRIPT, polling: false, prelude: () => `${'h'.repeat(2048)}\n`, wrap: (f) => `${f}\n` },
  eventsource: { contentType: 'text/event-stream; charset=UTF-8', polling: false, prelude: () => '\r\n', wrap: (f) => `data: ${f}\r\n\r\n` },
  htmlfile: { contentType: 'text/html; charset=UTF-8', polling: false, prelude: htmlfileHead, wrap: (f) => `<script>\np(${scriptString(f)});\n</script>\r\n` },
  jsonp: { contentType: JAVASCRIPT, polling: true, prelude: () => '', wrap: (f, c) => `/**/${c}(${scriptString(f)});\r\n` },
};

/** True for the transports whose requests carry a `c` callback name. */
export function needsCallback(transport: ReceivingTransport): boolean {
  return transport === 'htmlfile' || transport === 'jsonp';
}

export function contentTypeOf(transport: ReceivingTransport): string {
  return FRAMINGS[transport].contentType;
}

/**
 * One receiving HTTP response (headers already set by the caller): polling ones end after one
 * frame, streaming ones after `limit` bytes, so the client opens the next request. A response
 * whose last bytes do not drain within the sweep's timeout after it ended is cut.
 */
export class HttpReceiver implements Receiver, Closable {
  private readonly framing: Framing;
  private sentBytes = 0;
  private done = false;

  constructor(
    private readonly res: ServerResponse,
    transport: ReceivingTransport,
    private readonly callback: string,
    private readonly limit: number,
    private readonly sweep: CloseSweep,
  ) {
    this.framing = FRAMINGS[transport];
  }

  get polling(): boolean {
    return this.framing.polling;
  }

  get buffered(): number {
    return this.res.writableLength;
  }

  get backedUp(): boolean {
    return this.res.writableNeedDrain;
  }

  /** Writes the status line, headers and prelude. */
  open(): void {
    this.res.writeHead(200, { 'Content-Type': this.framing.contentType });
    const prelude = this.framing.prelude(this.callback);
    if (prelude !== '') this.res.write(prelude);
    this.res.once('close', () => this.sweep.delete(this));
  }

  /** Opens the response and ties it to `session`. */
  start(session: SockjsSession): void {
    this.open();
    this.res.once('close', () => {
      if (this.done) return;
      this.done = true;
      session.detach(this, true);
    });
    if (!this.framing.polling) this.res.on('drain', () => session.drained(this));
    session.attach(this);
  }

  send(frame: string): boolean {
    if (this.done) return false;
    const text = this.framing.wrap(frame, this.callback);
    this.sentBytes += Buffer.byteLength(text);
    this.res.write(text);
    return !this.framing.polling && this.sentBytes < this.limit;
  }

  end(): void {
    if (this.done) return;
    this.done = true;
    this.res.end();
    if (!this.res.writableFinished) this.sweep.add(this);
  }

  /** The response's last bytes did not drain in time. */
  terminate(): void {
    this.res.destroy();
  }
}
