import type { RunRecord } from '../lib/report.js';

/** What bench/run.ts hands a scenario: where things are, which CPUs, and its helpers. */
export interface ScenarioContext {
  root: string;
  /** The built load generator (bench/loadgen, built by buildLoadgen). */
  loadgen: string;
  /** The CPU servers are pinned to, and the one load generators are pinned to (undefined: not pinned). */
  serverCpu: number | undefined;
  clientCpu: number | undefined;
  /** Where servers' stderr goes. */
  serverLog: string;
  /** bench/results: scenarios may write their config files there. */
  resultsDir: string;
  quick: boolean;
  /** A port no other server of this run uses. */
  port(): number;
  /** Waits (boundedly) for other work on the machine to calm down; the busy share seen last, 0–1. */
  waitQuiet(): Promise<number>;
  log(msg: string): void;
  /** Adds a run to the results. */
  record(run: RunRecord): void;
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
