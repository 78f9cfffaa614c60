import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { SlowReader, parseReceived, type SlowKind } from '../helpers/slow-readers.js';
import { configFile, freePort, startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { WsClient } from '../helpers/ws-client.js';

/** Subscribers of `channel` on the node (`GET /api/channels`). */
async function subscribers(t: TidingsProcess, channel: string): Promise<number> {
  const res = await t.api('GET', '/api/channels');
  return (res.body as { channels: Array<{ channel: string; subscribers: number }> }).channels.find((c) => c.channel === channel)?.subscribers ?? 0;
}

describe('slow consumers', () => {
  let t: TidingsProcess;

  before(async () => {
    t = await startTidings({ args: ['--max-queue-bytes', '262144', '--history-size', '1000'], env: { TIDINGS_LOG_LEVEL: 'info' } });
  });
  after(async () => {
    await t.stop();
  });

  it('disconnects a client that stops reading with 3001 while a normal client keeps receiving', async () => {
    const slow = await WsClient.connect(t.wsUrl);
    const normal = await WsClient.connect(t.wsUrl);
    await slow.command('subscribe', { channel: 'flood' });
    await normal.command('subscribe', { channel: 'flood' });
    slow.ws.pause();

    const payload = 'x'.repeat(16 * 1024);
    const total = 800;
    let resumed = false;
    for (let i = 1; i <= total; i++) {
      await t.publish('flood', { i, payload });
      if (i % 100 === 0) assert.equal((await fetch(`${t.url}/readyz`)).status, 200, 'the server keeps answering during the flood');
      if (!resumed && i % 10 === 0 && (await subscribers(t, 'flood')) === 1) {
        // cut: it starts reading now, well within the time the server gives its last write to drain
        slow.ws.resume();
        resumed = true;
      }
    }
    await normal.until(() => normal.pushes('publication').length === total, 20_000, 'all publications at the normal client');
    assert.deepEqual(normal.pushes('publication').map((p) => (p.data as { i: number }).i), Array.from({ length: total }, (_, i) => i + 1));
    assert.equal(normal.closeCode, undefined);

    assert.ok(resumed, 'the slow client was cut during the flood');
    assert.equal(await slow.closed(10_000), 3001);
    assert.ok(slow.pushes('publication').length < total, 'the slow client was cut off before the end');
    assert.equal(t.output.split('\n').filter((l) => l.includes('"msg":"slow consumer disconnected"') && l.includes('"code":3001')).length, 1, 'one info line for the cut');
    normal.close();
  });
});

/** VmRSS of a process, in bytes. */
function rss(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for ${pid}`);
  return Number(kb) * 1024;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The load: 1 KiB publications at 500/s, 200 clients that stop reading, 100 that keep up. */
const CHANNEL = 'load:feed';
const TICK_MS = 20;
const PER_TICK = 10;
/** Never-reading clients of each kind, and how many of them start reading once cut. */
const SLOW: ReadonlyArray<{ kind: SlowKind; count: number; late: number }> = [
  { kind: 'websocket', count: 140, late: 3 },
  { kind: 'sse', count: 20, late: 2 },
  { kind: 'ndjson', count: 20, late: 2 },
  { kind: 'stomp', count: 20, late: 2 },
];
const FAST = 100;
const PUBLICATION = Buffer.from('{"type":"publication"');
const OFFSET = Buffer.from('"offset":');
/** How long after being cut a late reader starts reading: well inside the server's 5 s bound for the last write. */
const LATE_MS = 1000;
/**
 * How much the server's RSS may grow under the load, with the default `--max-queue-bytes` (1 MiB).
 * The clients cut off hold the same queued messages (the same Buffers, encoded once), so at most
 * 1 MiB of distinct queued data, plus per connection a socket buffer (16 KiB) and one piece written
 * after a drain (16 KiB): 300 × 32 KiB ≈ 10 MiB. The kernel's socket buffers are not in RSS. The
 * rest is headroom for garbage not yet collected. Copies per connection would be 300 × 1 MiB, and
 * without a limit each cut-off client would hold all it was sent: 200 × ~5 MiB.
 */
const RSS_GROWTH_BOUND = 128 * 1024 * 1024;

describe('slow consumers under load (WebSocket, SSE, NDJSON, STOMP)', () => {
  let t: TidingsProcess;
  let stompPort: number;

  before(async () => {
    const config = configFile({ namespaces: { load: { presence: true, publish: true } } });
    stompPort = await freePort();
    t = await startTidings({ args: ['--config', config, '--stomp-port', String(stompPort)] });
  });
  after(async () => {
    await t.stop();
  });

  it('cuts clients that stop reading at a message boundary, last writing 3001, with bounded memory, while fast clients get everything in order', async () => {
    const pid = t.pid!;
    const port = Number(new URL(t.url).port);
    const readers: SlowReader[] = [];
    const late: SlowReader[] = [];
    for (const { kind, count, late: lateCount } of SLOW) {
      for (let i = 0; i < count; i += 20) {
        const batch = await Promise.all(Array.from({ length: Math.min(20, count - i) }, () =>
          SlowReader.open(kind, kind === 'stomp' ? stompPort : port, CHANNEL)));
        readers.push(...batch);
        if (i === 0) late.push(...batch.slice(0, lateCount));
      }
    }

    const fast = await Promise.all(Array.from({ length: FAST }, async () => {
      const ws = new WebSocket(`${t.wsUrl}?connect=1&channel=${CHANNEL}`, { skipUTF8Validation: true });
      const state = { ws, last: 0, inOrder: true, closeCode: 0 };
      ws.on('message', (data: Buffer) => {
        // cheap on purpose (100 clients share the test's CPU): the offset of each publication, in order
        for (let at = data.indexOf(PUBLICATION); at >= 0; at = data.indexOf(PUBLICATION, at + 1)) {
          let digit = data.indexOf(OFFSET, at) + OFFSET.length;
          let offset = 0;
          while (data[digit]! >= 0x30 && data[digit]! <= 0x39) offset = offset * 10 + data[digit++]! - 0x30;
          if (offset !== state.last + 1) state.inOrder = false;
          state.last = offset;
        }
      });
      ws.on('close', (code: number) => { state.closeCode = code; });
      await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
      return state;
    }));
    const publisher = await WsClient.connect(t.wsUrl);

    const presence = async (): Promise<Set<string>> => {
      const res = await t.api('GET', `/api/presence?channel=${CHANNEL}`);
      return new Set(Object.keys((res.body as { clients: Record<string, unknown> }).clients));
    };
    await until(async () => (await presence()).size === readers.length + FAST, 10_000, 'every client subscribed');
    const baseline = rss(pid);

    let published = 0;
    const pad = 'x'.repeat(1000);
    const feed = setInterval(() => {
      const commands: string[] = [];
      for (let k = 0; k < PER_TICK; k++) {
        published++;
        commands.push(JSON.stringify({ id: published, type: 'publish', channel: CHANNEL, data: { i: published, pad } }));
      }
      publisher.ws.send(commands.join('\n'));
    }, TICK_MS);

    let peak = baseline;
    const resumed = new Set<SlowReader>();
    const deadline = Date.now() + 30_000;
    try {
      for (;;) {
        await sleep(250);
        peak = Math.max(peak, rss(pid));
        const present = await presence();
        for (const r of late) {
          if (!present.has(r.id) && !resumed.has(r)) {
            resumed.add(r);
            setTimeout(() => r.resume(), LATE_MS);
          }
        }
        if (readers.every((r) => !present.has(r.id))) break;
        if (Date.now() > deadline) assert.fail(`after 30 s, ${readers.filter((r) => present.has(r.id)).length} slow clients are still subscribed`);
      }
    } finally {
      clearInterval(feed);
    }
    const total = published;
    await until(async () => fast.every((f) => f.last === total), 20_000, 'every publication at every fast client');
    peak = Math.max(peak, rss(pid));

    assert.ok(fast.every((f) => f.inOrder), 'fast clients got every publication, in order');
    assert.ok(fast.every((f) => f.closeCode === 0), 'no fast client was disconnected');
    assert.ok(peak - baseline < RSS_GROWTH_BOUND, `RSS grew by ${Math.round((peak - baseline) / 2 ** 20)} MiB (baseline ${Math.round(baseline / 2 ** 20)} MiB)`);

    const problems: string[] = [];
    for (const r of late) {
      try {
        await r.ended(15_000);
        const got = parseReceived(r.kind, r.bytes());
        const last = r.kind === 'websocket' ? 'close frame' : r.kind === 'stomp' ? 'ERROR' : 'disconnect';
        if (got.finalCode !== 3001) problems.push(`${r.kind}: the last ${last} has code ${got.finalCode}, not 3001`);
        if (r.kind === 'websocket' && got.disconnect !== 3001) problems.push('websocket: no `disconnect` 3001 right before the close frame');
        if (got.trailing !== 0) problems.push(`${r.kind}: ${got.trailing} more after the ${last}`);
        if (!(got.offsets.length > 0 && got.offsets.length < total)) problems.push(`${r.kind}: got ${got.offsets.length} of ${total} before being cut`);
        if (got.offsets.some((offset, i) => offset !== i + 1)) problems.push(`${r.kind}: what it got is not the start of the channel in order`);
      } catch (err) {
        problems.push(`${r.kind}: ${(err as Error).message.slice(0, 300)}`);
      }
    }
    assert.deepEqual(problems, [], 'every late reader parses cleanly and finds 3001 last');

    for (const r of readers) r.destroy();
    for (const f of fast) f.ws.close();
    publisher.close();
  });
});

async function until(cond: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}
