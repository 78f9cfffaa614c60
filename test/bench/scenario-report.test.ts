// The arithmetic of issue 19's per-user and 100k-subscriber scenario reports (medians, ratios,
// verdicts, kernel memory parsing); the scenarios themselves run only in npm run bench.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderSvg, type RunRecord } from '../../bench/lib/report.js';
import { clusterPanel, clusterTargets, perUserPanel, perUserTargets, renderCluster, renderPerUser, summarizeCluster, summarizePerUser } from '../../bench/lib/scenario-report.js';
import { socketSlabBytes, sockstatTcpBytes } from '../../bench/scenarios/cluster-100k.js';

const perUser = (peer: string, round: number, rate: number, calls: number, p99: number, lower = false): RunRecord => ({
  kind: 'per-user', peer, conns: 10000, round,
  result: {
    overload: { seconds: 5, published: calls * 5, msgsPerSec: rate, serverCpu: 0.5 },
    latency: { msgsPerSec: 10_000, p50Ms: p99 / 2, p99Ms: p99, p99LowerBound: lower, callMeanMs: 2 },
  },
});

describe('per-user delivery report', () => {
  it('takes medians per peer and mode, with the server CPU per call', () => {
    const s = summarizePerUser([
      perUser('tidings/single', 1, 30_000, 30_000, 40), perUser('tidings/single', 2, 50_000, 50_000, 60), perUser('tidings/single', 3, 40_000, 40_000, 50),
      { kind: 'per-user', peer: 'socketio/single', conns: 10000, round: 1, error: 'boom' },
    ]);
    assert.equal(s['tidings/single']?.rate, 40_000);
    assert.equal(s['tidings/single']?.callsPerSec, 40_000);
    assert.equal(s['tidings/single']?.cpuPerCallUs, 12.5); // 0.5 CPU-s/s ÷ 40,000 calls/s
    assert.equal(s['tidings/single']?.p99, 50);
    assert.deepEqual(s['socketio/single']?.errors, ['boom']);
  });

  it('judges Tidings against Socket.IO (≥ 2×) and the ws map (≥ 0.8×) in each mode', () => {
    const s = summarizePerUser([
      perUser('tidings/single', 1, 30_000, 30_000, 40), perUser('socketio/single', 1, 10_000, 10_000, 90), perUser('ws-map/single', 1, 40_000, 40_000, 30),
      perUser('tidings/batch', 1, 150_000, 150, 40), perUser('socketio/batch', 1, 100_000, 100, 90),
    ]);
    const t = Object.fromEntries(perUserTargets(s, 10000).map((r) => [r.id, r]));
    assert.equal(t['per-user-single-socketio']?.value, 3);
    assert.equal(t['per-user-single-socketio']?.met, true);
    assert.equal(t['per-user-single-ws-map']?.value, 0.75);
    assert.equal(t['per-user-single-ws-map']?.met, false);
    assert.equal(t['per-user-batch-socketio']?.met, false);
    assert.equal(t['per-user-batch-ws-map']?.met, undefined);
    // the API's per-call cost beside the rates: server CPU per call, Tidings vs the peer
    assert.equal(t['per-user-single-socketio']?.measured, '30,000 vs 10,000 msg/s; server CPU per call 17 µs vs 50 µs');
    assert.equal(t['per-user-batch-ws-map']?.measured, '150,000 vs n/a msg/s; server CPU per call 3,333 µs vs n/a');
    const md = renderPerUser(s, { tidings: 'T', socketio: 'S' }, 10000, 10000).join('\n');
    assert.match(md, /\| T \| one user \| 30,000 \| 30,000 \| 17 µs \| 20 ms \| 40 ms \| 10,000 \| 2\.0 ms \|/);
    assert.match(md, /\| S \| 1,000 users \| 100,000 \| 100 \| 5,000 µs \|/);
    const panels = perUserPanel(s, { tidings: 'T, user', socketio: 'S' }, 10000);
    assert.deepEqual(panels[0]?.values.map((v) => [v.label, v.value]), [
      ['T, 1 user/call', 30_000], ['S, 1 user/call', 10_000], ['T, 1,000 users/call', 150_000], ['S, 1,000 users/call', 100_000],
    ]);
    const svg = renderSvg([], {}, 10000, panels);
    assert.match(svg, /Per-user delivery, 10k users \(msg\/s\)/);
    assert.match(svg, />150,000</);
    assert.deepEqual(perUserPanel({}, { tidings: 'T' }, 10000), []);
  });
});

describe('100k subscribers report', () => {
  const run = (connected: number, closed = 0): RunRecord => ({
    kind: 'cluster', peer: 'tidings-cluster', conns: connected, round: 1,
    result: { cluster: { nodes: 6, wanted: 100_002, connected, bytesPerConn: 6144, reachAllMs: 900, sustainedMsgsPerSec: 150_000, closedByServer: closed } },
  });

  it('is met only when every subscriber was held and none cut off', () => {
    assert.equal(clusterTargets(summarizeCluster([run(100_002)]))[0]?.met, true);
    assert.equal(clusterTargets(summarizeCluster([run(99_000)]))[0]?.met, false);
    assert.equal(clusterTargets(summarizeCluster([run(100_002, 3)]))[0]?.met, false);
    assert.deepEqual(clusterTargets(summarizeCluster([])), []);
    const failed = summarizeCluster([{ kind: 'cluster', peer: 'tidings-cluster', conns: 0, round: 1, error: 'no redis' }]);
    assert.equal(clusterTargets(failed)[0]?.met, undefined);
    assert.match(renderCluster(failed).join('\n'), /Failed: `no redis`/);
    assert.equal(clusterTargets(summarizeCluster([run(100_002, 3)]))[0]!.measured, '100,002 held, 3 closed by the server');
  });

  it('reports memory per connection, one broadcast to all and sustained fan-out as rows without a goal', () => {
    const c = summarizeCluster([{
      kind: 'cluster', peer: 'tidings-cluster', conns: 100_002, round: 1,
      result: { cluster: { nodes: 6, wanted: 100_002, connected: 100_002, bytesPerConn: 6144, userBytesPerConn: 3072, slabBytesPerConn: 2048,
        kernelBytesPerConn: 1024, reachAllMs: 900, sustainedMsgsPerSec: 150_000, nodesCpu: 0.75, closedByServer: 0 } },
    }]);
    const t = Object.fromEntries(clusterTargets(c).map((r) => [r.id, r]));
    assert.deepEqual(Object.keys(t), ['cluster-100k', 'cluster-memory', 'cluster-reach', 'cluster-sustained']);
    for (const id of ['cluster-memory', 'cluster-reach', 'cluster-sustained']) {
      assert.equal(t[id]?.met, undefined);
      assert.equal(t[id]?.goal, 'measured');
      assert.equal(t[id]?.issue, '19.6');
    }
    assert.equal(t['cluster-memory']?.measured, '6.0 KB: node RSS 3.0 KB, kernel socket objects 2.0 KB, kernel TCP buffers 1.0 KB');
    assert.equal(t['cluster-reach']?.valueText, '900 ms');
    assert.equal(t['cluster-sustained']?.measured, "150,000 msg/s delivered; nodes' CPU 0.75, 200,000 msg per CPU-s");
    const panel = clusterPanel(c)[0]!;
    assert.deepEqual(panel.values.map((v) => [v.label, v.text]), [['total', '6.0 KB'], ['node RSS', '3.0 KB'], ['kernel socket objects', '2.0 KB'], ['kernel TCP buffers', '1.0 KB']]);
    // a failed scenario says so in every row, and draws no panel
    const failed = summarizeCluster([{ kind: 'cluster', peer: 'tidings-cluster', conns: 0, round: 1, error: 'no redis' }]);
    assert.deepEqual(clusterTargets(failed).map((r) => r.measured), Array(4).fill('failed: no redis'));
    assert.deepEqual(clusterPanel(failed), []);
  });

  it('reads the kernel TCP memory and the socket slab caches', () => {
    assert.equal(sockstatTcpBytes('sockets: used 17\nTCP: inuse 1 orphan 0 tw 20038 alloc 1 mem 325\nUDP: inuse 0 mem 9\n'), 325 * 4096);
    assert.equal(sockstatTcpBytes('nothing'), 0);
    const slab = [
      'slabinfo - version: 2.1',
      'TCPv6                 26     26   2496   13    8 : tunables    0    0    0 : slabdata      2      2      0',
      'TCP                   92    143   2368   13    8 : tunables    0    0    0 : slabdata     11     11      0',
      'filp                1188   1575    192   21    1 : tunables    0    0    0 : slabdata     75     75      0',
    ].join('\n');
    assert.equal(socketSlabBytes(slab), 92 * 2368 + 1188 * 192);
  });
});
