/**
 * A transport carries text frames between the client and the server. Each
 * frame holds one or more `\n`-separated JSON messages. WebSocket is the one
 * implemented now; SSE, HTTP streaming and long polling fit the same shape.
 */
export interface TransportHandlers {
  /** The transport can carry commands now. */
  onOpen(): void;
  onFrame(frame: string): void;
  /** The transport ended. Called once, also when opening failed (then without `onOpen`). */
  onClose(code: number, reason: string): void;
}

export interface Transport {
  send(frame: string): void;
  /** Closes the transport; no handler is called after this. */
  close(code?: number, reason?: string): void;
}

export interface TransportFactory {
  /** Shown in the `connected` event, e.g. `websocket`. */
  readonly name: string;
  open(handlers: TransportHandlers): Transport;
}

/** Close code used when the transport broke without a close frame (as browsers report it). */
export const ABNORMAL_CLOSURE = 1006;
