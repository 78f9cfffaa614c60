import type { Command, ServerMessage } from '@tidings/protocol';
import { CommandQueue } from './command-queue.js';
import type { EmulationAuth } from './http.js';
import { ABNORMAL_CLOSURE, type Transport, type TransportHandlers } from './transport.js';

/**
 * What the HTTP transports (one-way streams and long polling) share: they take the session's
 * frames one command at a time, send commands through `POST /emulation` in order, open on the
 * next microtask, and close once.
 */
export abstract class HttpTransport implements Transport {
  protected done = false;
  protected readonly commands: CommandQueue;

  constructor(base: string, protected readonly handlers: TransportHandlers) {
    this.commands = new CommandQueue(base, () => this.auth(), {
      onReplies: (replies) => this.onReplies(replies),
      onFailed: (reason) => this.finish(ABNORMAL_CLOSURE, reason),
    });
    queueMicrotask(() => {
      if (!this.done) handlers.onOpen();
    });
  }

  send(frame: string): void {
    for (const line of frame.split('\n')) {
      if (this.done) return;
      this.command(JSON.parse(line) as Command);
    }
  }

  close(): void {
    if (this.done) return;
    this.done = true;
    this.stop();
    this.commands.close();
  }

  /** One command from the session. */
  protected abstract command(command: Command): void;
  /** What `/emulation` requests carry to identify the client. */
  protected abstract auth(): EmulationAuth;
  /** The replies of an `/emulation` request. */
  protected abstract onReplies(replies: ServerMessage[]): void;
  /** Ends what is under way (streams, polls, timers); called once, from `close`. */
  protected abstract stop(): void;

  protected emit(message: ServerMessage): void {
    if (!this.done) this.handlers.onFrame(JSON.stringify(message));
  }

  protected finish(code: number, reason: string): void {
    if (this.done) return;
    this.close();
    this.handlers.onClose(code, reason);
  }
}
