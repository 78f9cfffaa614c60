import type { Command, ServerMessage } from '@tidings/protocol';
import { postCommands, type EmulationAuth } from './http.js';

/** The server takes at most 100 commands per request; bodies are kept well under its size limit. */
const MAX_BATCH_COMMANDS = 100;
const MAX_BATCH_CHARS = 16 * 1024;

export interface CommandQueueHandlers {
  onReplies(replies: ServerMessage[]): void;
  /** The request failed or the session is gone: the connection is over. */
  onFailed(reason: string): void;
}

/**
 * Sends commands to `POST /emulation` in order: one request at a time, each carrying every
 * command queued meanwhile, so the server runs them in the order they were sent.
 */
export class CommandQueue {
  private queue: Array<{ command: Command; size: number }> = [];
  private busy = false;
  private paused = true;
  private closed = false;
  private readonly controller = new AbortController();

  constructor(
    private readonly base: string,
    private readonly auth: () => EmulationAuth,
    private readonly handlers: CommandQueueHandlers,
  ) {}

  push(command: Command): void {
    this.queue.push({ command, size: JSON.stringify(command).length });
    this.run();
  }

  /** Starts sending (once the session is known). */
  resume(): void {
    this.paused = false;
    this.run();
  }

  close(): void {
    this.closed = true;
    this.controller.abort();
  }

  private run(): void {
    if (this.busy || this.paused || this.closed || this.queue.length === 0) return;
    this.busy = true;
    void this.send(this.takeBatch());
  }

  private takeBatch(): Command[] {
    let chars = 0;
    let n = 0;
    while (n < this.queue.length && n < MAX_BATCH_COMMANDS && (n === 0 || chars + this.queue[n]!.size <= MAX_BATCH_CHARS)) chars += this.queue[n++]!.size;
    return this.queue.splice(0, n).map((q) => q.command);
  }

  private async send(batch: Command[]): Promise<void> {
    const outcome = await postCommands(this.base, batch, this.auth(), this.controller.signal);
    this.busy = false;
    if (this.closed) return;
    switch (outcome.type) {
      case 'replies':
        this.handlers.onReplies(outcome.replies);
        break;
      case 'refused':
        this.handlers.onReplies(batch.map((c) => ({ type: 'error', id: c.id, error: outcome.error })));
        break;
      case 'failed':
        this.handlers.onFailed(outcome.reason);
        return;
    }
    this.run();
  }
}
