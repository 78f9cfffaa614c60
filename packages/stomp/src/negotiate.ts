import { STOMP_VERSIONS, type StompVersion } from './frame.js';

/**
 * The highest version both in the comma-separated `accept-version` header and in
 * `supported`; undefined when they share none. An absent header means 1.0.
 */
export function negotiateVersion(
  acceptVersion: string | undefined,
  supported: readonly StompVersion[] = STOMP_VERSIONS,
): StompVersion | undefined {
  const offered = acceptVersion === undefined ? ['1.0'] : acceptVersion.split(',').map((v) => v.trim());
  for (let i = STOMP_VERSIONS.length - 1; i >= 0; i--) {
    const v = STOMP_VERSIONS[i] as StompVersion;
    if (offered.includes(v) && supported.includes(v)) return v;
  }
  return undefined;
}

/** `[can send every, wants to receive every]` in ms; 0 means never. */
export type Heartbeat = readonly [number, number];

const HEART_BEAT = /^\s*([0-9]{1,9})\s*,\s*([0-9]{1,9})\s*$/;

/** Parses a `heart-beat` header value. Absent means `[0, 0]`; malformed gives undefined. */
export function parseHeartbeat(value: string | undefined): Heartbeat | undefined {
  if (value === undefined) return [0, 0];
  const m = HEART_BEAT.exec(value);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

export interface HeartbeatTiming {
  /** Send something (an EOL will do) at least this often, in ms; 0 means never. */
  sendEvery: number;
  /** Expect something from the peer at least this often, in ms; 0 means don't check. */
  expectEvery: number;
}

function asHeartbeat(v: string | undefined | Heartbeat): Heartbeat {
  return typeof v === 'string' || v === undefined ? (parseHeartbeat(v) ?? [0, 0]) : v;
}

/**
 * The heart-beat timing for one side, per the STOMP spec: `ours` is the heart-beat
 * header this side sent, `theirs` the one the peer sent (so a client passes
 * (CONNECT's, CONNECTED's) and a server passes (CONNECTED's, CONNECT's)).
 * Each direction is off when the sender offers 0 or the receiver wants 0, and
 * otherwise runs at the larger of the two. A malformed header counts as "0,0".
 */
export function negotiateHeartbeat(ours: string | undefined | Heartbeat, theirs: string | undefined | Heartbeat): HeartbeatTiming {
  const [ourSend, ourWant] = asHeartbeat(ours);
  const [theirSend, theirWant] = asHeartbeat(theirs);
  return {
    sendEvery: ourSend === 0 || theirWant === 0 ? 0 : Math.max(ourSend, theirWant),
    expectEvery: theirSend === 0 || ourWant === 0 ? 0 : Math.max(theirSend, ourWant),
  };
}
