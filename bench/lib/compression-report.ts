/**
 * The report of issue 19's permessage-deflate measurements (target 5; the compression stage of
 * bench/run.ts): fan-out with `--ws-compression on` against without, and bytes on the wire per
 * ~1 KB notification for `off`, `on` and `takeover` (bench/lib/wire-bytes.ts). Pure functions,
 * unit-tested in test/bench/compression-report.test.ts.
 */
import { fmtNum, MEASURED, median, type Panel, type TargetResult } from './report.js';

/** One saturated fan-out run of the compression stage. */
export interface CompressionRun {
  /** `tidings-ws` (no compression) or `tidings-ws-deflate` (`--ws-compression on`). */
  peer: string;
  /** The 100-byte bench message, or the same with a ~1 KB notification added. */
  payload: 'message' | 'notification';
  round: number;
  msgsPerSec: number;
  /** Bytes subscribers read per message (frames may batch several messages at saturation). */
  bytesPerMsg: number;
  /** Server CPU use (cores) during the phase. */
  serverCpu: number;
}

/** Medians of one payload: without (`plain…`) and with compression (`deflate…`), and their ratios. */
export interface CompressionFigures {
  plainMsgsPerSec?: number;
  deflateMsgsPerSec?: number;
  /** deflate ÷ plain. */
  rateRatio?: number;
  plainMsgsPerCpuSec?: number;
  deflateMsgsPerCpuSec?: number;
  perCpuRatio?: number;
  plainBytesPerMsg?: number;
  deflateBytesPerMsg?: number;
  /** plain ÷ deflate: how many times fewer bytes. */
  bytesRatio?: number;
}

export type CompressionSummary = Partial<Record<CompressionRun['payload'], CompressionFigures>>;

const PLAIN = 'tidings-ws';
const DEFLATE = 'tidings-ws-deflate';
const PAYLOADS = [['message', '100-byte message'], ['notification', '~1 KB notification']] as const;

function ratio(a: number | undefined, b: number | undefined, digits: number): number | undefined {
  return a !== undefined && b !== undefined && b > 0 ? +(a / b).toFixed(digits) : undefined;
}

/**
 * Medians by payload over the runs: fan-out and bytes per message with and without compression,
 * and their ratios; also per second of server CPU, the steadier figure on a shared machine. A
 * payload without runs is left out.
 */
export function compressionSummary(list: readonly CompressionRun[]): CompressionSummary {
  const out: CompressionSummary = {};
  for (const [payload] of PAYLOADS) {
    const of = (peer: string, f: (r: CompressionRun) => number | undefined): number | undefined =>
      median(list.filter((r) => r.payload === payload && r.peer === peer).map(f).filter((v): v is number => v !== undefined));
    const perCpu = (r: CompressionRun): number | undefined => (r.serverCpu > 0 ? r.msgsPerSec / r.serverCpu : undefined);
    const plain = { rate: of(PLAIN, (r) => r.msgsPerSec), bytes: of(PLAIN, (r) => r.bytesPerMsg), perCpu: of(PLAIN, perCpu) };
    const deflated = { rate: of(DEFLATE, (r) => r.msgsPerSec), bytes: of(DEFLATE, (r) => r.bytesPerMsg), perCpu: of(DEFLATE, perCpu) };
    if (plain.rate === undefined && deflated.rate === undefined) continue;
    out[payload] = {
      plainMsgsPerSec: plain.rate, deflateMsgsPerSec: deflated.rate, rateRatio: ratio(deflated.rate, plain.rate, 3),
      plainMsgsPerCpuSec: plain.perCpu === undefined ? undefined : Math.round(plain.perCpu),
      deflateMsgsPerCpuSec: deflated.perCpu === undefined ? undefined : Math.round(deflated.perCpu), perCpuRatio: ratio(deflated.perCpu, plain.perCpu, 3),
      plainBytesPerMsg: plain.bytes, deflateBytesPerMsg: deflated.bytes, bytesRatio: ratio(plain.bytes, deflated.bytes, 2),
    };
  }
  return out;
}

/** Bytes on the wire per ~1 KB notification by `--ws-compression` mode (`off`, `on`, `takeover`). */
export type WireBytes = Partial<Record<'off' | 'on' | 'takeover', number>>;

/**
 * Target 5 of issue 19: ≥ 3× fewer bytes per ~1 KB notification with `on` and with `takeover`
 * (each a row), and the fan-out rate with compression as a ratio to without, per payload (rows
 * without a goal). Nothing when the stage did not run.
 */
export function compressionTargets(fanout: CompressionSummary, wire: WireBytes, conns: string): TargetResult[] {
  const out: TargetResult[] = [];
  const off = wire.off;
  for (const [mode, words] of [['on', 'no context takeover'], ['takeover', 'context takeover']] as const) {
    const v = wire[mode];
    if (off === undefined && v === undefined) continue;
    const value = ratio(off, v, 2);
    out.push({
      id: `compression-bytes-${mode}`, issue: '19.5', text: `Bytes on the wire per ~1 KB JSON notification: \`--ws-compression off\` vs \`${mode}\` (${words})`,
      value, goal: '≥ 3× fewer', valueText: value === undefined ? undefined : `${value.toFixed(2)}× fewer`, met: value === undefined ? undefined : value >= 3,
      measured: `${fmtNum(off, 0)} vs ${fmtNum(v, 0)} B per notification, one per frame`,
    });
  }
  for (const [payload, words] of PAYLOADS) {
    const f = fanout[payload];
    if (!f) continue;
    out.push({
      id: `compression-fanout-${payload}`, issue: '19.5', text: `Fan-out, ${conns} subscribers, ${words}: \`--ws-compression on\` vs off`,
      value: f.rateRatio, valueText: f.rateRatio === undefined ? undefined : `${f.rateRatio.toFixed(2)}×`, goal: MEASURED, met: undefined,
      measured: `${fmtNum(f.deflateMsgsPerSec)} vs ${fmtNum(f.plainMsgsPerSec)} msg/s; per CPU-s ${fmtNum(f.deflateMsgsPerCpuSec)} vs ${fmtNum(f.plainMsgsPerCpuSec)}`
        + `${f.perCpuRatio === undefined ? '' : ` = ${f.perCpuRatio.toFixed(2)}×`}; ${fmtNum(f.deflateBytesPerMsg, 0)} vs ${fmtNum(f.plainBytesPerMsg, 0)} B per message read`,
    });
  }
  return out;
}

/** The chart's compression panel: bytes on the wire per ~1 KB notification by mode. */
export function compressionPanel(wire: WireBytes): Panel[] {
  const values = (['off', 'on', 'takeover'] as const).map((mode) => ({
    label: `--ws-compression ${mode}`, value: wire[mode], text: wire[mode] === undefined ? 'n/a' : `${fmtNum(wire[mode], 0)} B`, tidings: mode !== 'off',
  }));
  if (!values.some((v) => v.value !== undefined)) return [];
  return [{ title: 'Bytes on the wire per ~1 KB notification (one per frame)', log: false, values,
    ...(wire.off === undefined ? {} : { target: { value: wire.off / 3, label: 'goal: 3× fewer than off' } }) }];
}
