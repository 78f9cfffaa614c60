import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EventSource } from 'eventsource';
import WebSocket from 'ws';
import type { ServerMessage } from '@tidings/protocol';
import { RedisProcess, redisAvailability } from '../helpers/redis.js';
import { freePort, makeToken, startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { WsClient } from '../helpers/ws-client.js';
import { Inbox, RawStomp, startStompTidings, stompJs, type StompJs } from '../stomp/helpers.js';

type Sample = Map<string, number>;

/** Parses the Prometheus text format into `name{labels}` → value (labels as the exporter prints them). */
function parse(text: string): Sample {
  const out: Sample = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

async function scrape(url: string, headers: Record<string, string> = {}): Promise<Sample> {
  const res = await fetch(`${url}/metrics`, { headers });
  assert.equal(res.status, 200, `GET /metrics answered ${res.status}`);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parse(await res.text());
}

/** The value of `key` (`name{labels}`), 0 when absent. */
const v = (s: Sample, key: string): number => s.get(key) ?? 0;
const delta = (a: Sample, b: Sample, key: string): number => v(b, key) - v(a, key);
const sum = (s: Sample, prefix: string): number => [...s].filter(([k]) => k.startsWith(prefix)).reduce((n, [, x]) => n + x, 0);

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A stock EventSource recording protocol messages. */
class Sse {
  readonly messages: ServerMessage[] = [];
  readonly es: EventSource;
  constructor(url: string) {
    this.es = new EventSource(url);
    this.es.onmessage = (e) => { this.messages.push(JSON.parse(e.data as string) as ServerMessage); };
  }
  count(type: ServerMessage['type']): number {
    return this.messages.filter((m) => m.type === type).length;
  }
}

/** An NDJSON stream read with fetch. */
class Stream {
  readonly lines: ServerMessage[] = [];
  private readonly abort = new AbortController();
  constructor(url: string) {
    void fetch(url, { signal: this.abort.signal }).then(async (res) => {
      let rest = '';
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        const parts = (rest + Buffer.from(chunk).toString()).split('\n');
        rest = parts.pop() ?? '';
        for (const p of parts) if (p !== '') this.lines.push(JSON.parse(p) as ServerMessage);
      }
    }).catch(() => { /* aborted */ });
  }
  count(type: ServerMessage['type']): number {
    return this.lines.filter((m) => m.type === type).length;
  }
  close(): void {
    this.abort.abort();
  }
}

/** Tries a WebSocket handshake; resolves with the refusal's HTTP status. */
function refusedStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('open', () => reject(new Error('the handshake was accepted')));
    ws.once('error', () => { /* unexpected-response comes first */ });
  });
}

const CONNECTIONS = (t: string): string => `tidings_connections{transport="${t}"}`;
const HANDSHAKES = (t: string): string => `tidings_handshakes_total{transport="${t}"}`;
const MESSAGES = (t: string): string => `tidings_messages_written_total{transport="${t}"}`;
const FRAMES = (t: string): string => `tidings_frames_written_total{transport="${t}"}`;
const BYTES = (t: string): string => `tidings_bytes_written_total{transport="${t}"}`;

describe('GET /metrics on the main port, driving every transport', () => {
  let t: TidingsProcess;
  let stompPort: number;

  before(async () => {
    ({ t, stompPort } = await startStompTidings(['--max-queue-bytes', '262144', '--history-size', '1000']));
  });
  after(async () => {
    await t.stop();
  });

  it('counts connections, subscriptions, publications, writes, recoveries and API requests as they happen', async () => {
    const s0 = await scrape(t.url);
    assert.ok(s0.has('process_cpu_user_seconds_total') && s0.has('nodejs_eventloop_lag_seconds') && s0.has('nodejs_heap_size_used_bytes'), 'default process metrics');
    assert.ok(s0.has('process_open_fds'), 'file descriptors');
    assert.equal(v(s0, 'tidings_engine_up'), 1);
    for (const transport of ['websocket', 'stomp-ws', 'stomp-tcp', 'sse', 'stream', 'poll']) assert.equal(v(s0, CONNECTIONS(transport)), 0, transport);

    const ws = await Promise.all([1, 2, 3].map(() => WsClient.connect(t.wsUrl)));
    for (const c of ws) await c.command('subscribe', { channel: 'm' });
    const sse = [new Sse(`${t.url}/sse?channel=m`), new Sse(`${t.url}/sse?channel=m`)];
    const stream = new Stream(`${t.url}/stream?channel=m`);
    const stompWs: StompJs = await stompJs(t.wsUrl);
    const stompWsInbox = new Inbox();
    await new Promise<void>((resolve) => {
      stompWs.client.watchForReceipt('r1', () => resolve());
      stompWs.client.subscribe('/topic/m', stompWsInbox.push, { receipt: 'r1' });
    });
    const tcp = await RawStomp.tcp(stompPort);
    await tcp.connect();
    tcp.frame('SUBSCRIBE', [['id', 's1'], ['destination', '/topic/m'], ['receipt', 'r2']]);
    await tcp.next('RECEIPT');
    // a fresh poll answers at once with the cursor; the next one waits
    const first = await (await fetch(`${t.url}/poll?channel=m&wait=0`)).json() as { cursor: string };
    const poll = fetch(`${t.url}/poll?cursor=${encodeURIComponent(first.cursor)}&wait=30`).then((r) => r.json() as Promise<{ messages: ServerMessage[] }>);
    await until(() => sse.every((s) => s.count('subscribed') === 1) && stream.count('subscribed') === 1, 'SSE and stream subscribed');
    await until(async () => v(await scrape(t.url), CONNECTIONS('poll')) === 1, 'the long poll waiting');

    const s1 = await scrape(t.url);
    assert.equal(v(s1, CONNECTIONS('websocket')), 3);
    assert.equal(v(s1, CONNECTIONS('sse')), 2);
    assert.equal(v(s1, CONNECTIONS('stream')), 1);
    assert.equal(v(s1, CONNECTIONS('stomp-ws')), 1);
    assert.equal(v(s1, CONNECTIONS('stomp-tcp')), 1);
    assert.equal(v(s1, CONNECTIONS('poll')), 1);
    for (const [transport, n] of [['websocket', 3], ['sse', 2], ['stream', 1], ['stomp-ws', 1], ['stomp-tcp', 1]] as const) {
      assert.equal(delta(s0, s1, HANDSHAKES(transport)), n, `handshakes ${transport}`);
    }
    assert.equal(v(s1, 'tidings_subscriptions'), 3 + 2 + 1 + 2, 'WebSocket, SSE, stream and STOMP subscriptions');
    assert.equal(v(s1, 'tidings_channels'), 1, 'one channel with local subscribers');

    for (let i = 1; i <= 5; i++) await t.publish('m', { i });
    await until(() => ws.every((c) => c.pushes('publication').length === 5) && sse.every((s) => s.count('publication') === 5) &&
      stream.count('publication') === 5 && stompWsInbox.messages.length === 5 && tcp.frames.filter((f) => f.command === 'MESSAGE').length === 5, 'every client got 5');
    const polled = await poll;
    assert.ok(polled.messages.length >= 1);

    const s2 = await scrape(t.url);
    assert.equal(delta(s1, s2, 'tidings_publications_total{source="api"}'), 5, '5 publishes add 5');
    assert.equal(delta(s1, s2, 'tidings_publication_size_bytes_count'), 5);
    assert.equal(delta(s1, s2, 'tidings_publication_size_bytes_sum'), 5 * Buffer.byteLength('{"i":1}'));
    assert.equal(delta(s1, s2, 'tidings_api_requests_total{route="POST /api/publish",status="200"}'), 5);
    assert.equal(delta(s1, s2, 'tidings_engine_command_duration_seconds_count{command="publish"}'), 5);
    assert.ok(delta(s1, s2, 'tidings_publish_to_write_seconds_count') >= 1, 'publish-to-write latency sampled');
    for (const [transport, n] of [['websocket', 15], ['sse', 10], ['stream', 5], ['stomp-ws', 5], ['stomp-tcp', 5]] as const) {
      assert.equal(delta(s1, s2, MESSAGES(transport)), n, `messages ${transport}`);
      const frames = delta(s1, s2, FRAMES(transport));
      assert.ok(frames >= 1 && frames <= n, `frames ${transport}: ${frames} for ${n} messages`);
      assert.ok(delta(s1, s2, BYTES(transport)) > n * 7, `bytes ${transport}`);
    }
    assert.equal(delta(s1, s2, MESSAGES('poll')), polled.messages.length);
    assert.equal(delta(s1, s2, FRAMES('poll')), 1);
    assert.equal(v(s2, CONNECTIONS('poll')), 0, 'the poll was answered');

    // publications by clients, over our protocol and STOMP
    await ws[0]!.command('publish', { channel: 'm', data: 'hi' });
    tcp.frame('SEND', [['destination', '/topic/m'], ['receipt', 'r3']], 'hello');
    await tcp.next('RECEIPT');
    // recovery: one resumable position, one from a lost epoch
    const late = await WsClient.connect(t.wsUrl);
    const top = ws[0]!.pushes('publication').at(-1)!;
    await late.command('subscribe', { channel: 'm', since: { offset: top.offset - 2, epoch: top.epoch } });
    await late.command('subscribe', { channel: 'other', since: { offset: 3, epoch: 'gone' } });
    const s3 = await scrape(t.url);
    assert.equal(delta(s2, s3, 'tidings_publications_total{source="client"}'), 1);
    assert.equal(delta(s2, s3, 'tidings_publications_total{source="stomp"}'), 1);
    assert.equal(delta(s2, s3, 'tidings_recoveries_total{recovered="true"}'), 1);
    assert.equal(delta(s2, s3, 'tidings_recoveries_total{recovered="false"}'), 1);
    assert.equal(v(s3, 'tidings_channels'), 2);

    // notifications and schedules: store operations, scheduler runs, publications by source
    assert.equal((await t.api('POST', '/api/notifications', { users: ['u1'], type: 'hello', payload: {} })).status, 200);
    const created = await t.api('POST', '/api/schedules', { cron: '* * * * * *', target: { channel: 'tick', data: 1 } });
    assert.equal(created.status, 200);
    await until(async () => v(await scrape(t.url), 'tidings_scheduler_runs_total{outcome="ok"}') >= 1, 'a scheduled run', 5000);
    const id = (created.body as { schedule: { id: string } }).schedule.id;
    assert.equal((await t.api('DELETE', `/api/schedules/${id}`)).status, 200);
    const s4 = await scrape(t.url);
    assert.ok(delta(s3, s4, 'tidings_publications_total{source="notification"}') >= 1);
    assert.ok(delta(s3, s4, 'tidings_publications_total{source="schedule"}') >= 1);
    assert.equal(delta(s3, s4, 'tidings_store_operation_duration_seconds_count{operation="create"}'), 1);
    assert.equal(delta(s3, s4, 'tidings_store_operation_duration_seconds_count{operation="createSchedule"}'), 1);
    assert.equal(delta(s3, s4, 'tidings_api_requests_total{route="DELETE /api/schedules/:id",status="200"}'), 1);
    assert.equal(sum(s4, 'tidings_store_errors_total'), 0);
    assert.equal(sum(s4, 'tidings_engine_errors_total'), 0);

    for (const c of [...ws, late]) c.close();
    for (const s of sse) s.es.close();
    stream.close();
    await stompWs.client.deactivate();
    tcp.frame('DISCONNECT', [['receipt', 'bye']]);
    await until(async () => {
      const s = await scrape(t.url);
      return ['websocket', 'stomp-ws', 'stomp-tcp', 'sse', 'stream'].every((transport) => v(s, CONNECTIONS(transport)) === 0);
    }, 'every connection closed');
    const s5 = await scrape(t.url);
    assert.equal(v(s5, 'tidings_subscriptions'), 0);
    assert.equal(v(s5, 'tidings_channels'), 0);
    assert.equal(delta(s4, s5, 'tidings_disconnects_total{code="1000"}'), 2, 'the two STOMP DISCONNECTs (stompjs sends one on deactivate)');
  });

  it('counts refusals by reason: a foreign Origin, a bad token, a wrong API key', async () => {
    const s0 = await scrape(t.url);
    assert.equal(await refusedStatus(t.wsUrl, { Origin: 'https://evil.example' }), 403);
    const bad = await fetch(`${t.url}/sse?channel=m`, { headers: { Authorization: 'Bearer not-a-token' } });
    assert.equal(bad.status, 401);
    await bad.body?.cancel();
    const wrongKey = await t.api('POST', '/api/publish', { channel: 'm', data: 1 }, { 'x-api-key': 'wrong' });
    assert.equal(wrongKey.status, 401);
    const s1 = await scrape(t.url);
    assert.equal(delta(s0, s1, 'tidings_refusals_total{reason="origin"}'), 1);
    assert.equal(delta(s0, s1, 'tidings_refusals_total{reason="auth"}'), 2);
    assert.equal(delta(s0, s1, 'tidings_refusals_total{reason="limit"}'), 0);
    assert.equal(delta(s0, s1, 'tidings_api_requests_total{route="POST /api/publish",status="401"}'), 1);
    assert.equal(delta(s0, s1, HANDSHAKES('websocket')) + delta(s0, s1, HANDSHAKES('sse')), 0);
  });

  it('counts a slow consumer cut with 3001', async () => {
    const s0 = await scrape(t.url);
    const slow = await WsClient.connect(t.wsUrl, await makeToken('slow-user-7'));
    await slow.command('subscribe', { channel: 'flood' });
    slow.ws.pause();
    const payload = 'x'.repeat(16 * 1024);
    for (let i = 1; i <= 800 && v(await scrape(t.url), 'tidings_slow_consumer_disconnects_total{transport="websocket"}') === v(s0, 'tidings_slow_consumer_disconnects_total{transport="websocket"}'); i++) {
      for (let j = 0; j < 10; j++) await t.publish('flood', { i, j, payload });
    }
    slow.ws.resume();
    assert.equal(await slow.closed(10_000), 3001);
    const s1 = await scrape(t.url);
    assert.equal(delta(s0, s1, 'tidings_disconnects_total{code="3001"}'), 1);
    assert.equal(delta(s0, s1, 'tidings_slow_consumer_disconnects_total{transport="websocket"}'), 1);
    assert.equal(v(s1, CONNECTIONS('websocket')), 0);
  });

  it('labels carry no channel, user, client id or token', async () => {
    const res = await fetch(`${t.url}/metrics`);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /tidings_connections\{transport="websocket"\} 0/);
    for (const secret of ['flood', '"m"', 'slow-user-7', '"u1"', '"tick"', 'Bearer', 'evil.example']) assert.ok(!text.includes(secret), `found ${secret}`);
  });
});

describe('/metrics settings', () => {
  let t: TidingsProcess;
  let metricsPort: number;

  before(async () => {
    metricsPort = await freePort();
    t = await startTidings({ args: ['--metrics-port', String(metricsPort), '--metrics-key', 'scrape-key'] });
  });
  after(async () => {
    await t.stop();
  });

  it('with --metrics-port, serves /metrics only there, and requires the key', async () => {
    const internal = `http://127.0.0.1:${metricsPort}`;
    const main = await fetch(`${t.url}/metrics`, { headers: { Authorization: 'Bearer scrape-key' } });
    assert.equal(main.status, 404);
    await main.body?.cancel();
    const other = await fetch(`${internal}/healthz`);
    assert.equal(other.status, 404, 'nothing but /metrics on the internal port');
    await other.body?.cancel();
    for (const headers of [{}, { Authorization: 'Bearer wrong' }, { 'X-Metrics-Key': 'scrape-ke' }] as Array<Record<string, string>>) {
      const res = await fetch(`${internal}/metrics`, { headers });
      assert.equal(res.status, 401);
      assert.equal(((await res.json()) as { error: { code: number } }).error.code, 101);
    }
    const byBearer = await scrape(internal, { Authorization: 'Bearer scrape-key' });
    assert.equal(v(byBearer, 'tidings_refusals_total{reason="auth"}'), 3, 'the refused scrapes count as auth refusals');
    const byHeader = await scrape(internal, { 'X-Metrics-Key': 'scrape-key' });
    assert.equal(v(byHeader, 'tidings_engine_up'), 1);
    assert.ok(!t.output.includes('scrape-key'), 'the key is never logged');
  });

  it('--metrics off serves no /metrics', async () => {
    const off = await startTidings({ args: ['--metrics', 'off'] });
    try {
      const res = await fetch(`${off.url}/metrics`);
      assert.equal(res.status, 404);
      await res.body?.cancel();
    } finally {
      await off.stop();
    }
  });
});

describe('/metrics with the Redis engine', redisAvailability(), () => {
  let redis: RedisProcess;
  let t: TidingsProcess;

  before(async () => {
    redis = await RedisProcess.start();
    t = await startTidings({ args: ['--engine', 'redis', '--redis-url', redis.url] });
  });
  after(async () => {
    await t.stop();
    await redis.kill();
  });

  it('shows the engine down and up, its failed commands, and the gap read after a reconnect', async () => {
    const c = await WsClient.connect(t.wsUrl);
    await c.command('subscribe', { channel: 'r' });
    await t.publish('r', 1);
    await c.until(() => c.pushes('publication').length === 1, 5000, 'the publication');
    const s0 = await scrape(t.url);
    assert.equal(v(s0, 'tidings_engine_up'), 1);
    assert.ok(v(s0, 'tidings_engine_command_duration_seconds_count{command="publish"}') >= 1);

    await redis.kill();
    await until(async () => v(await scrape(t.url), 'tidings_engine_up') === 0, 'the engine down');
    assert.notEqual((await t.api('POST', '/api/publish', { channel: 'r', data: 2 })).status, 200);
    const s1 = await scrape(t.url);
    assert.ok(delta(s0, s1, 'tidings_engine_errors_total{command="publish"}') >= 1, 'the failed publish');

    await redis.start();
    await until(async () => v(await scrape(t.url), 'tidings_engine_up') === 1, 'the engine up again', 15_000);
    await until(async () => delta(s1, await scrape(t.url), 'tidings_engine_gap_fills_total') >= 1, 'the catch-up read', 5000);
    c.close();
  });
});
