import type { StompParseError } from './errors.js';
import type { StompFrame, StompSide, StompVersion } from './frame.js';
import { StompParser, type StompLimits } from './parser.js';

export type Event = { type: 'frame'; frame: StompFrame } | { type: 'heartbeat' };

export interface Parsed {
  frames: StompFrame[];
  events: Event[];
  error: StompParseError | undefined;
}

const encoder = new TextEncoder();

export function bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

export function text(data: Uint8Array): string {
  return new TextDecoder().decode(data);
}

export interface ParseOptions {
  side?: StompSide;
  version?: StompVersion;
  limits?: Partial<StompLimits>;
}

/** Parses `chunks` in order with a fresh parser; records every event and the error. */
export function parse(chunks: readonly (Uint8Array | string)[], options: ParseOptions = {}): Parsed {
  const events: Event[] = [];
  const parser = new StompParser({
    side: options.side ?? 'server',
    version: options.version ?? '1.2',
    limits: options.limits ?? {},
    onFrame: (frame) => events.push({ type: 'frame', frame }),
    onHeartbeat: () => events.push({ type: 'heartbeat' }),
  });
  let error: StompParseError | undefined;
  for (const c of chunks) error = parser.push(typeof c === 'string' ? bytes(c) : c);
  const frames = events.flatMap((e) => (e.type === 'frame' ? [e.frame] : []));
  return { frames, events, error };
}

/** `data` cut at each of `cuts` (ascending offsets). */
export function split(data: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let from = 0;
  for (const c of cuts) {
    out.push(data.subarray(from, c));
    from = c;
  }
  out.push(data.subarray(from));
  return out;
}

/** A frame with its body as a plain array, for deepEqual. */
export function plain(frame: StompFrame): { command: string; headers: [string, string][]; body: number[] } {
  return { command: frame.command, headers: frame.headers, body: [...frame.body] };
}
