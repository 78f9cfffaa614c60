import type { Publication, StreamPosition } from '@tidings/protocol';

/**
 * A channel's last seen offset and epoch. Decides which publications are new:
 * within one epoch, an offset at or below the last one is a duplicate.
 */
export class StreamCursor {
  private current: StreamPosition | undefined;

  constructor(start?: StreamPosition) {
    if (start) this.current = { ...start };
  }

  get position(): StreamPosition | undefined {
    return this.current ? { ...this.current } : undefined;
  }

  /** True when `pub` is new (and advances the cursor), false for a duplicate. */
  accept(pub: Pick<Publication, 'offset' | 'epoch'>): boolean {
    const c = this.current;
    if (c && c.epoch === pub.epoch && pub.offset <= c.offset) return false;
    this.current = { offset: pub.offset, epoch: pub.epoch };
    return true;
  }

  /** Moves to `position` unless the cursor is already past it in the same epoch. */
  advance(position: StreamPosition): void {
    const c = this.current;
    if (c && c.epoch === position.epoch && c.offset >= position.offset) return;
    this.current = { ...position };
  }

  /** Forgets everything before `epoch` (history was lost): the next publications start a new stream. */
  restart(epoch: string): void {
    this.current = { offset: 0, epoch };
  }
}
