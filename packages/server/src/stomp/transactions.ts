import { ErrorCode } from '@tidings/protocol';
import type { StompFrame } from '@tidings/stomp';
import { StompError } from './errors.js';

/** Open transactions one connection may have. */
export const MAX_TRANSACTIONS = 16;
/** Frames one transaction may hold. */
export const MAX_TRANSACTION_FRAMES = 1000;

/** A SEND, ACK or NACK held until its transaction commits. */
export type TransactedFrame = StompFrame & { command: 'SEND' | 'ACK' | 'NACK' };

/**
 * A connection's open transactions: BEGIN opens one, SEND/ACK/NACK with its `transaction` header
 * join it, COMMIT hands them back in order to be carried out, ABORT (or the connection's end)
 * drops them. Body bytes held across all of them count against `maxBytes`.
 */
export class Transactions {
  private readonly open = new Map<string, TransactedFrame[]>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  begin(id: string): void {
    if (this.open.has(id)) throw new StompError(`transaction ${JSON.stringify(id)} is already open`);
    if (this.open.size >= MAX_TRANSACTIONS) {
      throw new StompError('too many open transactions', ErrorCode.LimitExceeded, undefined, `a connection may have at most ${MAX_TRANSACTIONS} open transactions`);
    }
    this.open.set(id, []);
  }

  add(id: string, frame: TransactedFrame): void {
    const frames = this.get(id);
    if (frames.length >= MAX_TRANSACTION_FRAMES) {
      throw new StompError('transaction too large', ErrorCode.LimitExceeded, undefined, `a transaction holds at most ${MAX_TRANSACTION_FRAMES} frames`);
    }
    if (this.bytes + frame.body.length > this.maxBytes) {
      throw new StompError('transaction too large', ErrorCode.LimitExceeded, undefined, `open transactions hold at most ${this.maxBytes} body bytes`);
    }
    this.bytes += frame.body.length;
    frames.push(frame);
  }

  /** Closes the transaction and returns its frames, oldest first. */
  commit(id: string): TransactedFrame[] {
    const frames = this.get(id);
    this.drop(id, frames);
    return frames;
  }

  abort(id: string): void {
    this.drop(id, this.get(id));
  }

  clear(): void {
    this.open.clear();
    this.bytes = 0;
  }

  private get(id: string): TransactedFrame[] {
    const frames = this.open.get(id);
    if (!frames) throw new StompError(`unknown transaction ${JSON.stringify(id.slice(0, 80))}`, ErrorCode.NotFound);
    return frames;
  }

  private drop(id: string, frames: TransactedFrame[]): void {
    this.open.delete(id);
    for (const f of frames) this.bytes -= f.body.length;
  }
}
