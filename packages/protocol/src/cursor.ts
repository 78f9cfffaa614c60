import { isValidChannel } from './channel.js';
import type { StreamPosition } from './messages.js';

/**
 * A resume cursor: every channel of a one-way session with its position, in one string that fits
 * an SSE `id:`, a `Last-Event-ID` header and a URL query without escaping:
 *   news~12~Xc2mP0Qa!chat:lobby~3~Ab3dE9Kk
 * Entries are `channel~offset~epoch`, joined by `!`. Neither character occurs in channel names
 * or epochs. The cursor holds everything needed to resume, so any node can serve the next request.
 */
export type Cursor = Map<string, StreamPosition>;

export const MAX_CURSOR_LENGTH = 16 * 1024;
const EPOCH_RE = /^[A-Za-z0-9_-]{1,64}$/;
const OFFSET_RE = /^\d{1,15}$/;

/** One entry of a cursor; a cursor with one channel is just its entry. */
export function cursorEntry(channel: string, offset: number, epoch: string): string {
  return `${channel}~${offset}~${epoch}`;
}

export function encodeCursor(cursor: Cursor): string {
  const parts: string[] = [];
  for (const [channel, p] of cursor) parts.push(cursorEntry(channel, p.offset, p.epoch));
  return parts.join('!');
}

/** Parses a cursor; null when it is malformed. The empty string is the empty cursor. */
export function decodeCursor(text: string): Cursor | null {
  const cursor: Cursor = new Map();
  if (text === '') return cursor;
  if (text.length > MAX_CURSOR_LENGTH) return null;
  for (const entry of text.split('!')) {
    const fields = entry.split('~');
    if (fields.length !== 3) return null;
    const [channel, offset, epoch] = fields as [string, string, string];
    if (!isValidChannel(channel) || !OFFSET_RE.test(offset) || !EPOCH_RE.test(epoch) || cursor.has(channel)) return null;
    cursor.set(channel, { offset: Number(offset), epoch });
  }
  return cursor;
}

/**
 * Merges resume cursors given most recent first into one: per channel, the epoch of the most
 * recent cursor naming the channel, and the highest offset any of them gives for that epoch.
 * Positions in another epoch lose: they describe a stream that the newer position has already
 * seen replaced (a client that resumed after an epoch change reports the new epoch).
 */
export function mergeCursors(newestFirst: readonly Cursor[]): Cursor {
  const merged: Cursor = new Map();
  for (const cursor of newestFirst) {
    for (const [channel, p] of cursor) {
      const have = merged.get(channel);
      if (have === undefined) merged.set(channel, { offset: p.offset, epoch: p.epoch });
      else if (have.epoch === p.epoch && p.offset > have.offset) merged.set(channel, { offset: p.offset, epoch: p.epoch });
    }
  }
  return merged;
}
