export type StompVersion = '1.0' | '1.1' | '1.2';

/** Every version this package speaks, oldest first. */
export const STOMP_VERSIONS: readonly StompVersion[] = ['1.0', '1.1', '1.2'];

export const CLIENT_COMMANDS = [
  'CONNECT',
  'STOMP',
  'SEND',
  'SUBSCRIBE',
  'UNSUBSCRIBE',
  'ACK',
  'NACK',
  'BEGIN',
  'COMMIT',
  'ABORT',
  'DISCONNECT',
] as const;

export const SERVER_COMMANDS = ['CONNECTED', 'MESSAGE', 'RECEIPT', 'ERROR'] as const;

export type StompClientCommand = (typeof CLIENT_COMMANDS)[number];
export type StompServerCommand = (typeof SERVER_COMMANDS)[number];
export type StompCommand = StompClientCommand | StompServerCommand;

/**
 * Which end of the connection does the parsing: a `server` parses the frames
 * clients send, a `client` parses the frames servers send.
 */
export type StompSide = 'server' | 'client';

/** One header line: name and value, unescaped. */
export type StompHeader = [name: string, value: string];

export interface StompFrame {
  command: StompCommand;
  /** In wire order; repeated names are kept. */
  headers: StompHeader[];
  body: Uint8Array;
}

const CLIENT_SET: ReadonlySet<string> = new Set(CLIENT_COMMANDS);
const SERVER_SET: ReadonlySet<string> = new Set(SERVER_COMMANDS);

/** True when `command` is a frame that the peer of `side` may send. */
export function isIncomingCommand(side: StompSide, command: string): command is StompCommand {
  return side === 'server' ? CLIENT_SET.has(command) : SERVER_SET.has(command);
}

export function isStompCommand(command: string): command is StompCommand {
  return CLIENT_SET.has(command) || SERVER_SET.has(command);
}

/**
 * The first value of header `name`, as STOMP 1.2 says repeated headers are read;
 * undefined when absent. Names are case-sensitive.
 */
export function header(frame: Pick<StompFrame, 'headers'>, name: string): string | undefined {
  for (const [n, v] of frame.headers) if (n === name) return v;
  return undefined;
}

/**
 * CONNECT, STOMP and CONNECTED carry their headers unescaped in every version,
 * so that a 1.0 peer can read them before the version is negotiated.
 */
export function isEscapeExempt(command: string): boolean {
  return command === 'CONNECT' || command === 'STOMP' || command === 'CONNECTED';
}
