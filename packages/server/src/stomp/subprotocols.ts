import { STOMP_VERSIONS, type StompVersion } from '@tidings/stomp';

/** WebSocket subprotocols for STOMP, best first. */
const SUBPROTOCOLS: ReadonlyArray<readonly [string, StompVersion]> = [['v12.stomp', '1.2'], ['v11.stomp', '1.1'], ['v10.stomp', '1.0']];

/** The best STOMP subprotocol offered, or false (our JSON protocol). */
export function selectSubprotocol(offered: Set<string>): string | false {
  for (const [name] of SUBPROTOCOLS) if (offered.has(name)) return name;
  return false;
}

export function isStompSubprotocol(protocol: string): boolean {
  return SUBPROTOCOLS.some(([name]) => name === protocol);
}

/** Per subprotocol, the versions it allows: one array each, shared by its connections. */
const VERSIONS = new Map(SUBPROTOCOLS.map(([name, max]) => [name, STOMP_VERSIONS.filter((v) => v <= max)]));

/** The versions a connection on `protocol` may negotiate: up to the subprotocol's version. */
export function versionsFor(protocol: string | undefined): readonly StompVersion[] {
  return (protocol === undefined ? undefined : VERSIONS.get(protocol)) ?? STOMP_VERSIONS;
}
