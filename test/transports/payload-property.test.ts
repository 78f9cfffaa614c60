import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { IMessage } from '@stomp/stompjs';
import { EventSource } from 'eventsource';
import fc from 'fast-check';
import type { ServerMessage } from '@tidings/protocol';
import { stompJs } from '../stomp/helpers.js';
import { API_KEY, startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { WsClient } from '../helpers/ws-client.js';

/**
 * Issue 12 item 3, as a property: any payload the server accepts reaches WebSocket, SSE, NDJSON,
 * poll and STOMP subscribers intact; anything else is refused (107 or 112) and reaches no one.
 */

const CHANNEL = 'prop';
const MAX_DEPTH = 64;
const MAX_BODY = 64 * 1024;

interface Received { offset: number; data: unknown }

/** One subscriber on some transport: what it has received so far, in order. */
interface Subscriber {
  readonly name: string;
  received(): Received[];
  close(): void | Promise<void>;
}

const publications = (messages: ServerMessage[]): Received[] =>
  messages.flatMap((m) => (m.type === 'publication' ? [{ offset: m.offset, data: m.data }] : []));

async function waitFor(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function wsSubscriber(t: TidingsProcess): Promise<Subscriber> {
  const c = await WsClient.connect(t.wsUrl);
  await c.command('subscribe', { channel: CHANNEL });
  return {
    name: 'WebSocket',
    received: () => publications(c.messages),
    close: () => c.close(),
  };
}

async function sseSubscriber(t: TidingsProcess): Promise<Subscriber> {
  const messages: ServerMessage[] = [];
  const es = new EventSource(`${t.url}/sse?channel=${CHANNEL}`);
  es.onmessage = (e) => { messages.push(JSON.parse(e.data as string) as ServerMessage); };
  await waitFor(() => messages.some((m) => m.type === 'subscribed'), 'SSE subscribed');
  return { name: 'SSE', received: () => publications(messages), close: () => es.close() };
}

async function ndjsonSubscriber(t: TidingsProcess): Promise<Subscriber> {
  const messages: ServerMessage[] = [];
  const controller = new AbortController();
  const res = await fetch(`${t.url}/stream?channel=${CHANNEL}`, { signal: controller.signal });
  void (async () => {
    const decoder = new TextDecoder();
    let buffered = '';
    try {
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        buffered += decoder.decode(chunk, { stream: true });
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          if (line !== '') messages.push(JSON.parse(line) as ServerMessage);
        }
      }
    } catch {
      // aborted
    }
  })();
  await waitFor(() => messages.some((m) => m.type === 'subscribed'), 'NDJSON subscribed');
  return { name: 'NDJSON', received: () => publications(messages), close: () => controller.abort() };
}

async function pollSubscriber(t: TidingsProcess): Promise<Subscriber> {
  const messages: ServerMessage[] = [];
  const controller = new AbortController();
  const poll = async (query: string): Promise<string> => {
    const res = await fetch(`${t.url}/poll?${query}`, { signal: controller.signal });
    const body = (await res.json()) as { messages: ServerMessage[]; cursor: string };
    messages.push(...body.messages);
    return body.cursor;
  };
  let cursor = await poll(`channel=${CHANNEL}`);
  void (async () => {
    try {
      for (;;) cursor = await poll(`cursor=${encodeURIComponent(cursor)}&wait=20`);
    } catch {
      // aborted
    }
  })();
  return { name: 'poll', received: () => publications(messages), close: () => controller.abort() };
}

async function stompSubscriber(t: TidingsProcess): Promise<Subscriber> {
  const { client } = await stompJs(t.wsUrl);
  const messages: IMessage[] = [];
  const subscribed = new Promise<void>((resolve) => client.watchForReceipt('sub-prop', () => resolve()));
  client.subscribe(`/topic/${CHANNEL}`, (m) => messages.push(m), { receipt: 'sub-prop' });
  await subscribed;
  return {
    name: 'STOMP',
    received: () => messages.map((m) => {
      assert.equal(m.headers['content-type'], 'application/json');
      return { offset: Number(m.headers['x-offset']), data: JSON.parse(m.body) as unknown };
    }),
    close: () => client.deactivate(),
  };
}

// ---- payloads, as the JSON text of `data` ----

const ODD = ['\ud800', '\udfff', '\u0000', '\n', '\r', '\r\n\r\n', '\u2028', '\u2029', '"', '\\', '</script>', 'data: x', 'id: 1', '__proto__', 'constructor', '$stomp', '🙂', '\ufeff', '\uffff', 'é'];
const oddString = fc.array(fc.constantFrom(...ODD), { maxLength: 6 }).map((parts) => parts.join(''));

/** `levels` of alternating arrays and objects around `leaf`. */
function nest(levels: number, leaf: string): string {
  let text = JSON.stringify(leaf);
  for (let i = 0; i < levels; i++) text = i % 2 === 0 ? `[${text}]` : `{"k":${text}}`;
  return text;
}

const payload: fc.Arbitrary<string> = fc.oneof(
  fc.jsonValue({ maxDepth: 5, stringUnit: 'binary' }).map((v) => JSON.stringify(v)),
  oddString.map((s) => JSON.stringify(s)),
  fc.tuple(oddString, fc.jsonValue({ maxDepth: 2 })).map(([s, v]) => `{${JSON.stringify(s)}:${JSON.stringify(v)},"__proto__":{"polluted":${JSON.stringify(s)}}}`),
  fc.tuple(fc.integer({ min: MAX_DEPTH - 4, max: MAX_DEPTH + 4 }), oddString).map(([n, s]) => nest(n, s)),
  fc.constantFrom('1e400', '-1e400', '[1,2e999]', '1e308', '-0', '-0.0', '5e-324', '123456789012345678901234567890', '1E2', '{"n":-1e-400}'),
  fc.integer({ min: MAX_BODY - 60, max: MAX_BODY }).map((n) => JSON.stringify('x'.repeat(n))),
).filter((text) => !isEnvelope(JSON.parse(text))); // `{"$stomp": {...}}` is STOMP's own body mapping (stomp/body.test.ts)

function isEnvelope(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 && '$stomp' in v;
}

function depthOf(v: unknown): number {
  if (typeof v !== 'object' || v === null) return 0;
  return 1 + Math.max(0, ...Object.values(v).map(depthOf));
}

function allFinite(v: unknown): boolean {
  if (typeof v === 'number') return Number.isFinite(v);
  if (typeof v === 'object' && v !== null) return Object.values(v).every(allFinite);
  return true;
}

describe('any payload the server accepts reaches every transport intact', () => {
  let t: TidingsProcess;
  let subscribers: Subscriber[];

  before(async () => {
    t = await startTidings();
    subscribers = [await wsSubscriber(t), await sseSubscriber(t), await ndjsonSubscriber(t), await pollSubscriber(t), await stompSubscriber(t)];
  });
  after(async () => {
    for (const s of subscribers) await s.close();
    await t.stop();
  });

  it('publishes generated payloads through the API: accepted ones arrive deepEqual everywhere, refused ones (107/112) nowhere', async () => {
    const accepted: Received[] = [];
    let refused = 0;
    await fc.assert(fc.asyncProperty(payload, async (text) => {
      const body = `{"channel":"${CHANNEL}","data":${text}}`;
      const value = JSON.parse(text) as unknown;
      const fits = Buffer.byteLength(body) <= MAX_BODY && depthOf(value) <= MAX_DEPTH && allFinite(value);
      const res = await fetch(`${t.url}/api/publish`, { method: 'POST', headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' }, body });
      const answer = (await res.json()) as { offset?: number; error?: { code: number; message: string } };
      if (!fits) {
        assert.ok(res.status === 400 || res.status === 413, `refused, not ${res.status}`);
        assert.ok(answer.error?.code === 107 || answer.error?.code === 112, JSON.stringify(answer));
        refused++;
        return;
      }
      assert.equal(res.status, 200, JSON.stringify(answer));
      // JSON has no -0: every wire format carries it as 0
      const expected = { offset: answer.offset!, data: JSON.parse(JSON.stringify(value)) as unknown };
      accepted.push(expected);
      for (const s of subscribers) {
        await waitFor(() => s.received().length >= accepted.length, `${s.name} to receive offset ${expected.offset}`);
        assert.deepStrictEqual(s.received().at(-1), expected, s.name);
      }
    }), { numRuns: 150 });
    assert.ok(accepted.length > 50 && refused > 5, `both kinds were tried: ${accepted.length} accepted, ${refused} refused`);
    // a last publication: nothing refused arrived late, everything accepted arrived once, in order
    const res = await fetch(`${t.url}/api/publish`, { method: 'POST', headers: { 'x-api-key': API_KEY }, body: `{"channel":"${CHANNEL}","data":"end"}` });
    accepted.push({ offset: ((await res.json()) as { offset: number }).offset, data: 'end' });
    for (const s of subscribers) {
      await waitFor(() => s.received().length >= accepted.length, `${s.name}: the end`);
      assert.deepStrictEqual(s.received(), accepted, s.name);
    }
  });
});
