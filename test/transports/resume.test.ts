import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode, type ServerMessage } from '@tidings/protocol';
import { startTidings, type TidingsProcess } from '../helpers/tidings.js';

/**
 * Reads a streaming response's raw body until `done(text)` holds (or 5 s pass), then aborts it.
 * Error answers (4xx) are read whole.
 */
async function readStream(url: string, headers: Record<string, string>, done: (text: string) => boolean): Promise<{ status: number; text: string }> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 5000);
  const res = await fetch(url, { headers, signal: abort.signal });
  let text = '';
  try {
    if (!res.ok) return { status: res.status, text: await res.text() };
    const decoder = new TextDecoder();
    for await (const chunk of res.body!) {
      text += decoder.decode(chunk as Uint8Array, { stream: true });
      if (done(text)) break;
    }
  } catch {
    // aborted after 5 s: the caller's assertions say what was missing
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
  return { status: res.status, text };
}

/** The protocol messages of a raw SSE body (`data:` lines) or NDJSON body. */
function messagesOf(text: string, sse: boolean): ServerMessage[] {
  const lines = text.split('\n');
  const json = sse ? lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)) : lines.filter((l) => l.startsWith('{'));
  return json.filter((l) => l !== '').map((l) => JSON.parse(l) as ServerMessage);
}

const dataOf = (messages: ServerMessage[]): unknown[] => messages.flatMap((m) => (m.type === 'publication' ? [m.data] : []));

/** Until the publication with data 6 has arrived. */
const hasSix = (sse: boolean) => (text: string): boolean => {
  // a stream is read in pieces: only whole events count
  const whole = text.slice(0, text.lastIndexOf('\n') + 1);
  return dataOf(messagesOf(whole, sse)).includes(6);
};

describe('resume positions: from every position given, the newest wins', () => {
  let t: TidingsProcess;

  before(async () => {
    t = await startTidings();
  });
  after(async () => {
    await t.stop();
  });

  /** Publishes 1..6 to `channel`; returns its epoch. */
  async function publishSix(channel: string): Promise<string> {
    let epoch = '';
    for (let n = 1; n <= 6; n++) epoch = (await t.publish(channel, n)).epoch;
    return epoch;
  }

  async function sse(query: string, headers: Record<string, string> = {}): Promise<ServerMessage[]> {
    const { status, text } = await readStream(`${t.url}/sse?${query}`, headers, hasSix(true));
    assert.equal(status, 200, text);
    return messagesOf(text, true);
  }

  it('/sse: cursor=<saved> with the polyfill\'s lastEventId=<newest> delivers exactly what came after the newest', async () => {
    const E = await publishSix('r-sse');
    const messages = await sse(`channel=r-sse&cursor=r-sse~1~${E}&lastEventId=r-sse~4~${E}`);
    assert.deepEqual(dataOf(messages), [5, 6]);
    const subscribed = messages.find((m) => m.type === 'subscribed');
    assert.equal(subscribed?.type === 'subscribed' && subscribed.recovered, true);
  });

  it('/stream: the same', async () => {
    const E = await publishSix('r-stream');
    const { status, text } = await readStream(`${t.url}/stream?channel=r-stream&cursor=r-stream~1~${E}&lastEventId=r-stream~4~${E}`, {}, hasSix(false));
    assert.equal(status, 200, text);
    assert.deepEqual(dataOf(messagesOf(text, false)), [5, 6]);
  });

  it('/poll: the same', async () => {
    const E = await publishSix('r-poll');
    const res = await fetch(`${t.url}/poll?cursor=r-poll~1~${E}&lastEventId=r-poll~4~${E}&wait=0`);
    assert.equal(res.status, 200);
    const body = await res.json() as { messages: ServerMessage[]; cursor: string };
    assert.deepEqual(dataOf(body.messages), [5, 6]);
    assert.equal(body.cursor, `r-poll~6~${E}`);
  });

  it('repeated cursor= parameters: the most advanced wins in either order', async () => {
    const E = await publishSix('r-rep');
    assert.deepEqual(dataOf(await sse(`channel=r-rep&cursor=r-rep~1~${E}&cursor=r-rep~4~${E}`)), [5, 6]);
    assert.deepEqual(dataOf(await sse(`channel=r-rep&cursor=r-rep~4~${E}&cursor=r-rep~1~${E}`)), [5, 6]);
  });

  it('Last-Event-ID header and query: the most advanced wins, whichever carries it', async () => {
    const E = await publishSix('r-hdr');
    assert.deepEqual(dataOf(await sse(`channel=r-hdr&cursor=r-hdr~4~${E}`, { 'Last-Event-ID': `r-hdr~1~${E}` })), [5, 6]);
    assert.deepEqual(dataOf(await sse(`channel=r-hdr&cursor=r-hdr~1~${E}`, { 'Last-Event-ID': `r-hdr~4~${E}` })), [5, 6]);
  });

  it('positions in different epochs: the most recent source\'s epoch wins (header, then the last parameter)', async () => {
    const E = await publishSix('r-epoch');
    // a saved cursor from before the channel's history was lost, and the newest id seen since
    const messages = await sse(`channel=r-epoch&cursor=r-epoch~5~gone&lastEventId=r-epoch~3~${E}`);
    assert.deepEqual(dataOf(messages), [4, 5, 6]);
    const viaHeader = await sse(`channel=r-epoch&lastEventId=r-epoch~5~gone`, { 'Last-Event-ID': `r-epoch~4~${E}` });
    assert.deepEqual(dataOf(viaHeader), [5, 6]);
  });

  it('refuses a malformed position in any source with 400, and too many positions', async () => {
    const E = await publishSix('r-bad');
    for (const query of [`cursor=r-bad~4~${E}&lastEventId=nonsense`, `lastEventId=r-bad~4~${E}&cursor=r-bad~x~${E}`]) {
      for (const path of ['/sse', '/stream', '/poll']) {
        const { status, text } = await readStream(`${t.url}${path}?channel=r-bad&${query}&wait=0`, {}, () => true);
        assert.equal(status, 400, `${path}?${query}`);
        assert.equal((JSON.parse(text) as { error: { code: number } }).error.code, ErrorCode.BadRequest);
      }
    }
    const many = Array.from({ length: 9 }, () => `cursor=r-bad~4~${E}`).join('&');
    const res = await fetch(`${t.url}/poll?${many}&wait=0`);
    assert.equal(res.status, 400);
    const eight = Array.from({ length: 8 }, () => `cursor=r-bad~4~${E}`).join('&');
    assert.equal((await fetch(`${t.url}/poll?${eight}&wait=0`)).status, 200);
  });

  it('/sse with several channels: every event id keeps each channel\'s position, also before that channel is resubscribed', async () => {
    const [A, B] = [await publishSix('r-two-a'), await publishSix('r-two-b')];
    const done = (text: string): boolean => (text.match(/"type":"publication"/g) ?? []).length === 7 && text.endsWith('\n\n');
    const { status, text } = await readStream(`${t.url}/sse?channel=r-two-a&channel=r-two-b`, { 'Last-Event-ID': `r-two-a~2~${A}!r-two-b~3~${B}` }, done);
    assert.equal(status, 200);
    const events = text.split('\n\n').filter((e) => e.startsWith('id: ') || e.startsWith('data: '));
    assert.equal(events.length, 1 + 2 + 4 + 3, 'connected, two subscribed, and the publications after 2 and 3');
    for (const event of events) {
      const id = /^id: (.*)$/m.exec(event)?.[1] ?? '';
      assert.match(id, /(^|!)r-two-a~\d+~/, event);
      assert.match(id, /(^|!)r-two-b~\d+~/, event);
    }
    assert.match(events[1]!, new RegExp(`^id: r-two-a~2~${A}!r-two-b~3~${B}\ndata: \\{"type":"subscribed","channel":"r-two-a"`));
  });

  it('/sse: the connected event carries no empty id: line (it would reset the browser\'s last event id)', async () => {
    const { status, text } = await readStream(`${t.url}/sse?channel=r-id`, {}, (s) => s.includes('"type":"subscribed"') && s.endsWith('\n\n'));
    assert.equal(status, 200);
    const events = text.split('\n\n').filter((e) => e !== '');
    assert.equal(events[0], 'retry: 2000');
    assert.match(events[1]!, /^data: \{"type":"connected"/);
    assert.doesNotMatch(text, /^id:\s*$/m);
    assert.match(events[2]!, /^id: r-id~0~[\w-]+\ndata: \{"type":"subscribed"/);
  });
});
