import { escapeHeader, serializeFrame, type StompVersion } from '@tidings/stomp';
import type { OutgoingBody } from './body.js';

/**
 * Something sent in MESSAGE frames. A MESSAGE is written as three parts: the subscription's
 * cached prefix (`MESSAGE`, `subscription`), the delivery's own lines (`ack`, `redelivered`;
 * usually none), and `tail(version, destination)`, the remaining headers, body and NUL, which
 * is encoded once per (destination, version) and written to every subscriber.
 */
export interface Deliverable {
  readonly messageId: string;
  /** The channel offset (topics) or the queue's sequence number (queues). */
  readonly offset: number;
  /** True when the body is not valid UTF-8. */
  readonly binary: boolean;
  tail(version: StompVersion, destination: string): Buffer;
}

type Headers = ReadonlyArray<readonly [string, string]>;

const MESSAGE_LINE = 'MESSAGE\n'.length;

/**
 * Encodes the tail once per (version, destination) and keeps it. One instance per publication
 * (shared by every subscriber of its channel on this node) or per queued message.
 */
export class EncodedMessage implements Deliverable {
  readonly binary: boolean;
  /** The common case, one (version, destination) for every subscriber: compared without building a key. */
  private first: { version: StompVersion; destination: string; bytes: Buffer } | undefined;
  private more: Map<string, Buffer> | undefined;

  constructor(
    readonly messageId: string,
    private readonly body: OutgoingBody,
    /** `x-offset`, `x-epoch` and, for queues, forwarded user headers. */
    private readonly extra: Headers,
    readonly offset: number,
    /** The channel's epoch (topics) or the queue's. */
    readonly epoch: string,
  ) {
    this.binary = body.binary;
  }

  tail(version: StompVersion, destination: string): Buffer {
    const first = this.first;
    if (first === undefined) {
      const bytes = this.encode(version, destination);
      this.first = { version, destination, bytes };
      return bytes;
    }
    if (first.version === version && first.destination === destination) return first.bytes;
    const key = `${version} ${destination}`;
    let bytes = this.more?.get(key);
    if (!bytes) {
      bytes = this.encode(version, destination);
      (this.more ??= new Map()).set(key, bytes);
    }
    return bytes;
  }

  private encode(version: StompVersion, destination: string): Buffer {
    const headers: Array<readonly [string, string]> = [['destination', destination], ['message-id', this.messageId]];
    if (this.body.contentType !== undefined) headers.push(['content-type', this.body.contentType]);
    for (const h of this.extra) if (version !== '1.0' || representableIn10(h[0], h[1])) headers.push(h);
    const frame = serializeFrame({ command: 'MESSAGE', headers, body: this.body.bytes }, version);
    return Buffer.from(frame.buffer, frame.byteOffset + MESSAGE_LINE, frame.byteLength - MESSAGE_LINE);
  }
}

/** STOMP 1.0 has no escaping: forwarded headers it cannot carry are left out. */
function representableIn10(name: string, value: string): boolean {
  return name !== '' && !name.includes(':') && !name.includes('\n') && !value.includes('\n') && !value.endsWith('\r');
}

/** `name:value\n`, escaped for `version`, as bytes. */
export function headerLine(name: string, value: string, version: StompVersion): Buffer {
  return Buffer.from(version === '1.0' ? `${name}:${value}\n` : `${escapeHeader(name, version)}:${escapeHeader(value, version)}\n`);
}

/** Distinct prefixes kept by `subscriptionPrefix`; past it, new ones are not kept. */
export const MAX_INTERNED_PREFIXES = 4096;
/** Longer subscription ids are not interned. */
const MAX_INTERNED_ID = 64;
const prefixes = new Map<string, Buffer>();

/**
 * The first lines of every MESSAGE of one subscription (`MESSAGE`, `subscription`). Interned:
 * subscriptions with the same id (clients usually number theirs alike, e.g. `sub-0`) share one
 * Buffer, so their MESSAGE frames are the same parts and the frame is built once for all of them
 * (see PartsCache). At most MAX_INTERNED_PREFIXES, of ids up to MAX_INTERNED_ID characters, are
 * kept for the life of the process.
 */
export function subscriptionPrefix(id: string, version: StompVersion): Buffer {
  const text = version === '1.0' ? `MESSAGE\nsubscription:${id}\n` : `MESSAGE\n${escapeHeader('subscription', version)}:${escapeHeader(id, version)}\n`;
  let prefix = prefixes.get(text);
  if (prefix === undefined) {
    prefix = Buffer.from(text);
    if (prefixes.size < MAX_INTERNED_PREFIXES && id.length <= MAX_INTERNED_ID) prefixes.set(text, prefix);
  }
  return prefix;
}

export const REDELIVERED_LINE = Buffer.from('redelivered:true\n');
/** On the first MESSAGE after publications the subscription may have missed (docs/stomp.md#gaps). */
export const NOT_RECOVERED_LINE = Buffer.from('x-recovered:false\n');
