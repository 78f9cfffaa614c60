import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { it } from 'node:test';
import { MemoryEngine } from '../engine/memory.js';
import { Metrics, TRANSPORT_NAMES, type NodeGauges } from './metrics.js';
import { timed } from './timed.js';

const gauges: NodeGauges = {
  connections: () => ({ websocket: 3, 'stomp-ws': 0, 'stomp-tcp': 1, sse: 2, stream: 0, poll: 0, sockjs: 4 }),
  subscriptions: () => 7,
  channels: () => 2,
  engineUp: () => false,
};

async function sample(m: Metrics): Promise<Map<string, number>> {
  const { body } = await m.scrape();
  const out = new Map<string, number>();
  for (const line of body.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

it('reads gauges and plain-number counts at scrape time, every label value present from the start', async () => {
  const m = new Metrics(gauges, false);
  m.written.websocket.messages += 10;
  m.written.websocket.frames += 2;
  m.publications.stomp++;
  m.refused('origin');
  const s = await sample(m);
  assert.equal(s.get('tidings_connections{transport="websocket"}'), 3);
  assert.equal(s.get('tidings_connections{transport="sse"}'), 2);
  assert.equal(s.get('tidings_subscriptions'), 7);
  assert.equal(s.get('tidings_channels'), 2);
  assert.equal(s.get('tidings_engine_up'), 0);
  assert.equal(s.get('tidings_messages_written_total{transport="websocket"}'), 10);
  assert.equal(s.get('tidings_frames_written_total{transport="websocket"}'), 2);
  assert.equal(s.get('tidings_publications_total{source="stomp"}'), 1);
  assert.equal(s.get('tidings_refusals_total{reason="origin"}'), 1);
  assert.equal(s.get('tidings_refusals_total{reason="unavailable"}'), 0);
  for (const t of TRANSPORT_NAMES) assert.ok(s.has(`tidings_bytes_written_total{transport="${t}"}`), t);
  assert.ok(!s.has('tidings_handshakes_total{transport="poll"}'), 'polls have no handshake');
  assert.ok(![...s.keys()].some((k) => k.startsWith('process_')), 'no default metrics when asked for none');
  m.written.websocket.messages += 5;
  assert.equal((await sample(m)).get('tidings_messages_written_total{transport="websocket"}'), 15, 'a second scrape reads the new total');
});

it('counts slow-consumer cuts with the disconnect, only for known transports', async () => {
  const m = new Metrics(gauges, false);
  m.disconnect(3001, 'sse');
  m.disconnect(3001, 'something-else');
  m.disconnect(3000, 'websocket');
  const s = await sample(m);
  assert.equal(s.get('tidings_disconnects_total{code="3001"}'), 2);
  assert.equal(s.get('tidings_disconnects_total{code="3000"}'), 1);
  assert.equal(s.get('tidings_slow_consumer_disconnects_total{transport="sse"}'), 1);
  assert.equal(s.get('tidings_slow_consumer_disconnects_total{transport="websocket"}'), 0);
});

it('samples publish-to-write latency once per tick, after the flushes of that tick', async () => {
  const m = new Metrics(gauges, false);
  const now = Date.now();
  m.latency.sample(now - 40);
  m.latency.sample(now - 10);
  await new Promise((r) => setImmediate(r));
  const s = await sample(m);
  assert.equal(s.get('tidings_publish_to_write_seconds_count'), 1);
  assert.ok(s.get('tidings_publish_to_write_seconds_sum')! >= 0.04, 'the first publication of the tick');
  m.latency.sample(Date.now());
  await new Promise((r) => setImmediate(r));
  assert.equal((await sample(m)).get('tidings_publish_to_write_seconds_count'), 2);
});

it('timed(): times async calls by method, counts failures, passes the rest through', async () => {
  const m = new Metrics(gauges, false);
  const inner = new MemoryEngine();
  const engine = timed(inner, 'command', m.engineDuration, m.engineErrors);
  assert.ok(engine instanceof MemoryEngine);
  assert.equal(engine.name, inner.name);
  assert.equal(engine.isReady(), inner.isReady());
  await engine.start({ onPublication() {}, onJoin() {}, onLeave() {}, onControl() {} });
  await engine.publish('c', 1, { historySize: 10, historyTtl: 60 });
  await engine.publish('c', 2, { historySize: 10, historyTtl: 60, idempotencyKey: 'k' });
  await assert.rejects(engine.publish('c', 3, { historySize: 10, historyTtl: 60, idempotencyKey: 'k' }));
  const s = await sample(m);
  assert.equal(s.get('tidings_engine_command_duration_seconds_count{command="publish"}'), 3);
  assert.equal(s.get('tidings_engine_errors_total{command="publish"}'), 1);
  assert.equal(s.get('tidings_engine_command_duration_seconds_count{command="start"}'), 1);
  assert.ok(!s.has('tidings_engine_command_duration_seconds_count{command="isReady"}'), 'synchronous calls are not timed');
  await engine.close();
});

it('process metrics: open descriptors counted as the kernel lists them, nothing that enumerates every handle', { skip: process.platform !== 'linux' }, async () => {
  const m = new Metrics(gauges, true);
  const s = await sample(m);
  const listed = readdirSync('/proc/self/fd').length - 1;
  assert.ok(Math.abs(s.get('process_open_fds')! - listed) <= 2, `process_open_fds ${s.get('process_open_fds')} vs ${listed} listed`);
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_resources_total']) assert.ok(![...s.keys()].some((k) => k.startsWith(name)), name);
  assert.ok(s.has('nodejs_eventloop_lag_p99_seconds'));
  assert.ok(s.has('process_max_fds') && s.has('nodejs_heap_size_used_bytes') && s.has('process_resident_memory_bytes'));
});
