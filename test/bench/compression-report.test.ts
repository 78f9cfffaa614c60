// The arithmetic of issue 19's permessage-deflate report (target 5): medians, ratios, the bytes
// verdicts and the fan-out rows without a goal; the measurements run only in npm run bench.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compressionPanel, compressionSummary, compressionTargets, type CompressionRun } from '../../bench/lib/compression-report.js';
import { renderSvg } from '../../bench/lib/report.js';

const run = (peer: string, payload: CompressionRun['payload'], round: number, msgsPerSec: number, bytesPerMsg: number, serverCpu = 1): CompressionRun =>
  ({ peer, payload, round, msgsPerSec, bytesPerMsg, serverCpu });

describe('permessage-deflate report', () => {
  it('takes medians per payload, with ratios per second and per CPU-second', () => {
    const s = compressionSummary([
      run('tidings-ws', 'message', 1, 100_000, 200), run('tidings-ws', 'message', 2, 120_000, 202), run('tidings-ws', 'message', 3, 80_000, 204),
      run('tidings-ws-deflate', 'message', 1, 90_000, 86, 0.9), run('tidings-ws-deflate', 'message', 2, 60_000, 84, 0.5), run('tidings-ws-deflate', 'message', 3, 95_000, 88, 1),
    ]);
    assert.deepEqual(s.message, {
      plainMsgsPerSec: 100_000, deflateMsgsPerSec: 90_000, rateRatio: 0.9,
      plainMsgsPerCpuSec: 100_000, deflateMsgsPerCpuSec: 100_000, perCpuRatio: 1, // per CPU-s: 100k, 120k, 95k → 100k
      plainBytesPerMsg: 202, deflateBytesPerMsg: 86, bytesRatio: 2.35,
    });
    assert.equal(s.notification, undefined);
    // a side that failed every round leaves its figures and the ratios undefined, not NaN
    const half = compressionSummary([run('tidings-ws', 'notification', 1, 50_000, 1136)]).notification!;
    assert.equal(half.plainMsgsPerSec, 50_000);
    assert.equal(half.deflateMsgsPerSec, undefined);
    assert.equal(half.rateRatio, undefined);
  });

  it('judges bytes per notification against 3× fewer for on and takeover, and gives the fan-out ratios no verdict', () => {
    const fanout = compressionSummary([
      run('tidings-ws', 'message', 1, 100_000, 202), run('tidings-ws-deflate', 'message', 1, 97_000, 86, 0.97),
      run('tidings-ws', 'notification', 1, 40_000, 1136), run('tidings-ws-deflate', 'notification', 1, 44_000, 608),
    ]);
    const t = Object.fromEntries(compressionTargets(fanout, { off: 1054, on: 589, takeover: 48 }, '10k').map((r) => [r.id, r]));
    assert.deepEqual(Object.keys(t), ['compression-bytes-on', 'compression-bytes-takeover', 'compression-fanout-message', 'compression-fanout-notification']);
    assert.equal(t['compression-bytes-on']?.value, 1.79);
    assert.equal(t['compression-bytes-on']?.met, false);
    assert.equal(t['compression-bytes-on']?.valueText, '1.79× fewer');
    assert.equal(t['compression-bytes-on']?.measured, '1,054 vs 589 B per notification, one per frame');
    assert.equal(t['compression-bytes-takeover']?.value, 21.96);
    assert.equal(t['compression-bytes-takeover']?.met, true);
    assert.equal(t['compression-fanout-message']?.value, 0.97);
    assert.equal(t['compression-fanout-message']?.met, undefined);
    assert.equal(t['compression-fanout-message']?.goal, 'measured');
    assert.equal(t['compression-fanout-message']?.valueText, '0.97×');
    assert.equal(t['compression-fanout-message']?.measured, '97,000 vs 100,000 msg/s; per CPU-s 100,000 vs 100,000 = 1.00×; 86 vs 202 B per message read');
    assert.equal(t['compression-fanout-notification']?.value, 1.1);
    // exactly 3× is met; a mode not measured is n/a, and nothing at all when the stage did not run
    assert.equal(compressionTargets({}, { off: 900, on: 300 }, '10k')[0]?.met, true);
    assert.equal(compressionTargets({}, { off: 900, on: 300 }, '10k')[1]?.met, undefined);
    assert.deepEqual(compressionTargets({}, {}, '10k'), []);
  });

  it('draws bytes per notification by mode', () => {
    const panels = compressionPanel({ off: 1054, on: 589, takeover: 48 });
    assert.deepEqual(panels[0]?.values.map((v) => [v.label, v.value, v.text]), [
      ['--ws-compression off', 1054, '1,054 B'], ['--ws-compression on', 589, '589 B'], ['--ws-compression takeover', 48, '48 B'],
    ]);
    assert.ok(Math.abs(panels[0]!.target!.value - 1054 / 3) < 1e-9);
    assert.match(renderSvg([], {}, 10000, panels), />1,054 B</);
    assert.equal(compressionPanel({ on: 589 })[0]?.target, undefined);
    assert.deepEqual(compressionPanel({}), []);
  });
});
