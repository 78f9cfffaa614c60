import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ServerMessage } from '@tidings/protocol';
import { makeToken, startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { WsClient } from '../helpers/ws-client.js';

/** Reads an NDJSON stream from fetch into parsed messages. */
class NdjsonReader {
  readonly messages: ServerMessage[] = [];
  private readonly controller = new AbortController();
  blankLines = 0;
  status = 0;
  contentType = '';

  async open(url: string, headers: Record<string, string> = {}): Promise<void> {
    const res = await fetch(url, { headers, signal: this.controller.signal });
    this.status = res.status;
    this.contentType = res.headers.get('content-type') ?? '';
    void this.pump(res.body!.getReader());
  }

  private async pump(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffered = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffered += decoder.decode(value, { stream: true });
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          if (line === '') this.blankLines++;
          else this.messages.push(JSON.parse(line) as ServerMessage);
        }
      }
    } catch {
      // aborted
    }
  }

  of<K extends ServerMessage['type']>(type: K): Array<Extract<ServerMessage, { type: K }>> {
    return this.messages.filter((m): m is Extract<ServerMessage, { type: K }> => m.type === type);
  }

  async until(cond: () => boolean, ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out; got ${JSON.stringify(this.messages)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): void {
    this.controller.abort();
  }
}

async function emulate(t: TidingsProcess, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; replies: ServerMessage[] }> {
  const res = await fetch(`${t.url}/emulation`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const json = (await res.json()) as { replies: ServerMessage[] };
  return { status: res.status, replies: json.replies };
}

describe('HTTP streaming and /emulation', () => {
  let t: TidingsProcess;

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tidings-'));
    const config = join(dir, 'tidings.json');
    writeFileSync(config, JSON.stringify({ namespaces: { chat: { publish: true, presence: true, subscribe: 'authenticated' } } }));
    t = await startTidings({ args: ['--config', config, '--ping-interval', '1'] });
  });
  after(async () => {
    await t.stop();
  });

  it('streams the same protocol messages as WebSocket, in the same order, as NDJSON', async () => {
    const s = new NdjsonReader();
    await s.open(`${t.url}/stream?channel=news`);
    const ws = await WsClient.connect(t.wsUrl);
    await ws.command('subscribe', { channel: 'news' });
    assert.equal(s.status, 200);
    assert.match(s.contentType, /application\/x-ndjson/);
    await s.until(() => s.of('subscribed').length === 1);
    for (let n = 1; n <= 20; n++) await t.publish('news', { n });
    await s.until(() => s.of('publication').length === 20);
    await ws.until(() => ws.pushes('publication').length === 20);
    const viaStream = s.of('publication').map((p) => [p.offset, p.data]);
    const viaWs = ws.pushes('publication').map((p) => [p.offset, p.data]);
    assert.deepEqual(viaStream, viaWs);
    await s.until(() => s.blankLines > 0, 3000);
    s.close();
    ws.close();
  });

  it('runs subscribe, publish, presence and unsubscribe for a stream session through /emulation', async () => {
    const token = await makeToken('dana');
    const s = new NdjsonReader();
    await s.open(`${t.url}/stream?channel=chat:a`, { authorization: `Bearer ${token}` });
    await s.until(() => s.of('connected').length === 1);
    const { client, secret } = s.of('connected')[0]!;
    const { epoch } = await t.publish('chat:b', 'before');
    const first = await emulate(t, { client, secret, commands: [
      { id: 1, type: 'subscribe', channel: 'chat:b', since: { offset: 0, epoch } },
      { id: 2, type: 'publish', channel: 'chat:b', data: 'from emulation' },
      { id: 3, type: 'presence', channel: 'chat:b' },
      { id: 4, type: 'bogus' },
    ] });
    assert.equal(first.status, 200);
    assert.deepEqual(first.replies.map((r) => r.type), ['reply', 'reply', 'reply', 'error']);
    await s.until(() => s.of('publication').length === 2);
    assert.deepEqual(s.of('publication').map((p) => p.data), ['before', 'from emulation']);
    assert.equal(s.of('subscribed').find((x) => x.channel === 'chat:b')?.recovered, true);
    const second = await emulate(t, { client, secret, commands: [{ id: 5, type: 'unsubscribe', channel: 'chat:b' }] });
    assert.equal(second.replies[0]?.type, 'reply');
    await t.publish('chat:b', 'after unsubscribe');
    await t.publish('chat:a', 'still here');
    await s.until(() => s.of('publication').some((p) => p.data === 'still here'));
    assert.ok(!s.of('publication').some((p) => p.data === 'after unsubscribe'));
    s.close();
  });

  it('opens a session without channels; /emulation adds them (how the client SDK connects)', async () => {
    const s = new NdjsonReader();
    await s.open(`${t.url}/stream`);
    assert.equal(s.status, 200);
    await s.until(() => s.of('connected').length === 1);
    const { client, secret } = s.of('connected')[0]!;
    const res = await emulate(t, { client, secret, commands: [{ id: 1, type: 'subscribe', channel: 'late' }] });
    assert.equal(res.replies[0]?.type, 'reply');
    await s.until(() => s.of('subscribed').length === 1);
    await t.publish('late', 'joined later');
    await s.until(() => s.of('publication').length === 1);
    assert.equal(s.of('publication')[0]?.data, 'joined later');
    s.close();
  });

  it('answers a command that does not decode in its place among the others', async () => {
    const s = new NdjsonReader();
    await s.open(`${t.url}/stream`);
    await s.until(() => s.of('connected').length === 1);
    const client = s.of('connected')[0]!.client;
    const res = await emulate(t, { client, commands: [{ id: 1, type: 'ping' }, { id: 2, type: 'subscribe', channel: 'not a channel!' }, { id: 3, type: 'ping' }] });
    assert.deepEqual(res.replies.map((r) => r.type === 'reply' || r.type === 'error' ? [r.id, r.type] : []), [[1, 'reply'], [2, 'error'], [3, 'reply']]);
    s.close();
  });

  it('runs stateless commands without a session, as the token\'s user', async () => {
    const token = await makeToken('erin');
    const res = await emulate(t, { commands: [{ id: 1, type: 'publish', channel: 'chat:c', data: 'x' }, { id: 2, type: 'subscribe', channel: 'chat:c' }] }, { authorization: `Bearer ${token}` });
    assert.equal(res.replies[0]?.type, 'reply');
    assert.equal(res.replies[1]?.type, 'error');
    const anon = await emulate(t, { commands: [{ id: 1, type: 'publish', channel: 'chat:c', data: 'x' }] });
    assert.equal(anon.replies[0]?.type === 'error' && anon.replies[0].error.code, 103);
  });
});
