/**
 * The bytes of one tick's SSE events or NDJSON lines, built once for every subscriber sent the
 * same messages (see transports/http-stream.ts, which queues them, and http/response.ts and
 * http/bare-response.ts, which write them).
 */

const NO_MESSAGES: Buffer[] = [];
const NO_IDS: string[] = [];

/**
 * The last body built and what it holds. A publication reaches every subscriber of a channel in
 * the same order within a tick, and subscribers at the same position share the same cursor, so
 * consecutive flushes usually carry the same messages (the same Buffers) with the same ids: the
 * bytes, chunk framing included, are then built once and written to every socket.
 */
let last = { messages: NO_MESSAGES, ids: NO_IDS, chunked: false, bytes: Buffer.alloc(0) };

function sameAsLast(messages: Buffer[], ids: string[], chunked: boolean): boolean {
  if (last.chunked !== chunked || last.messages.length !== messages.length || last.ids.length !== ids.length) return false;
  for (let i = 0; i < messages.length; i++) if (messages[i] !== last.messages[i]) return false;
  for (let i = 0; i < ids.length; i++) if (ids[i] !== last.ids[i]) return false;
  return true;
}

/**
 * One tick's messages as SSE events (`id: <ids[i]>\ndata: <message>\n\n`, when `ids` has one per
 * message) or NDJSON lines, wrapped in one HTTP/1.1 chunk when `chunked`. An empty id writes no
 * `id:` line: an empty one would reset the browser's last event id, and its next reconnect would
 * then resume from nothing (the `connected` event comes before any subscription has a position).
 */
export function streamBody(messages: Buffer[], ids: string[], chunked: boolean): Buffer {
  if (sameAsLast(messages, ids, chunked)) return last.bytes;
  const sse = ids.length > 0;
  let length = 0;
  for (let i = 0; i < messages.length; i++) {
    const id = sse ? ids[i]! : '';
    length += messages[i]!.length + (!sse ? 1 : id === '' ? 8 : 13 + Buffer.byteLength(id));
  }
  const head = chunked ? `${length.toString(16)}\r\n` : '';
  const bytes = Buffer.allocUnsafe(head.length + length + (chunked ? 2 : 0));
  let at = bytes.write(head, 0, 'latin1');
  for (let i = 0; i < messages.length; i++) {
    if (sse) {
      if (ids[i] !== '') {
        at += bytes.write('id: ', at, 'latin1');
        at += bytes.write(ids[i]!, at, 'utf8');
        bytes[at++] = 0x0a;
      }
      at += bytes.write('data: ', at, 'latin1');
      at += messages[i]!.copy(bytes, at);
      at += bytes.write('\n\n', at, 'latin1');
    } else {
      at += messages[i]!.copy(bytes, at);
      bytes[at++] = 0x0a;
    }
  }
  if (chunked) bytes.write('\r\n', at, 'latin1');
  last = { messages, ids, chunked, bytes };
  return bytes;
}
