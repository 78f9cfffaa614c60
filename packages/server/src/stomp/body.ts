/**
 * How STOMP bodies map to a publication's `data` and back (docs/stomp.md, "Bodies"):
 *
 * - A body sent with a JSON content type (`application/json`, `application/*+json`, any
 *   parameters) that parses as JSON becomes that value, whatever its spacing, when its value
 *   written again (`JSON.stringify`) says the same token for token (`sameJson`): other
 *   transports see plain JSON. Bodies whose parse loses something (a number JavaScript cannot
 *   hold exactly, a repeated key) stay text, so nothing is lost.
 * - Any other body is stored in an envelope, `{"$stomp": {"text": …}}` for UTF-8 text or
 *   `{"$stomp": {"base64": …}}` otherwise, with `contentType` when the frame had one.
 *
 * A JSON body nested deeper than `maxDepth` is refused (107), as any other publish of such data.
 *
 * Going out, an envelope becomes its exact bytes and content type again; any other data
 * becomes its JSON with `content-type: application/json`. So a body sent by one STOMP
 * client reaches other STOMP clients byte for byte, except a JSON body taken as a value: that
 * arrives in its canonical spelling (no whitespace, shortest numbers), the same JSON.
 */

import { ErrorCode, nestsDeeper } from '@tidings/protocol';
import { TidingsError } from '../errors.js';
import { sameJson } from './json-text.js';

export const ENVELOPE_KEY = '$stomp';
export const JSON_TYPE = 'application/json';

export type Envelope =
  | { text: string; contentType?: string }
  | { base64: string; contentType?: string };

export interface OutgoingBody {
  bytes: Uint8Array;
  /** Absent when the body was sent without one. */
  contentType: string | undefined;
  /** True when the bytes are not valid UTF-8 (sent as a binary WebSocket frame). */
  binary: boolean;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

export function isJsonType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const semi = contentType.indexOf(';');
  const type = (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  return type === JSON_TYPE || (type.startsWith('application/') && type.endsWith('+json'));
}

/** The text of `bytes` when they are valid UTF-8, else undefined. */
export function utf8Text(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The envelope inside `data`, if `data` is exactly `{"$stomp": {...}}` of a valid shape. */
export function envelopeOf(data: unknown): Envelope | undefined {
  if (!isRecord(data)) return undefined;
  const keys = Object.keys(data);
  if (keys.length !== 1 || keys[0] !== ENVELOPE_KEY) return undefined;
  const e = data[ENVELOPE_KEY];
  if (!isRecord(e)) return undefined;
  const { text, base64, contentType } = e;
  if (contentType !== undefined && typeof contentType !== 'string') return undefined;
  const type = contentType === undefined ? {} : { contentType };
  if (typeof text === 'string' && base64 === undefined) return { text, ...type };
  if (typeof base64 === 'string' && text === undefined) return { base64, ...type };
  return undefined;
}

/** The publication data for a SEND body. Throws TidingsError 107 for JSON nested deeper than `maxDepth`. */
export function bodyToData(body: Uint8Array, contentType: string | undefined, maxDepth: number): unknown {
  const text = utf8Text(body);
  const type = contentType === undefined ? {} : { contentType };
  if (text === undefined) return { [ENVELOPE_KEY]: { base64: Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('base64'), ...type } };
  if (isJsonType(contentType) && text !== '') {
    const value = parsedJson(text, maxDepth);
    if (value !== undefined && envelopeOf(value) === undefined) {
      const canonical = JSON.stringify(value);
      if (canonical === text || sameJson(text, canonical)) return value;
    }
  }
  return { [ENVELOPE_KEY]: { text, ...type } };
}

/**
 * The payload checks of a SEND to a queue, whose body is kept as bytes: a body sent with a JSON
 * content type that is JSON nested deeper than `maxDepth` throws TidingsError 107, as bodyToData does.
 */
export function checkQueueBody(body: Uint8Array, contentType: string | undefined, maxDepth: number): void {
  if (!isJsonType(contentType)) return;
  const text = utf8Text(body);
  if (text !== undefined && text !== '') parsedJson(text, maxDepth);
}

/** `text` parsed, undefined when it is no JSON; throws TidingsError 107 when it nests deeper than `maxDepth`. */
function parsedJson(text: string, maxDepth: number): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (nestsDeeper(value, maxDepth)) throw new TidingsError(ErrorCode.BadRequest, `data nests deeper than ${maxDepth} levels (maxDepth)`);
  return value;
}

/** The MESSAGE body for publication data. */
export function dataToBody(data: unknown): OutgoingBody {
  const envelope = envelopeOf(data);
  if (envelope === undefined) {
    return { bytes: encoder.encode(JSON.stringify(data) ?? 'null'), contentType: JSON_TYPE, binary: false };
  }
  if ('text' in envelope) return { bytes: encoder.encode(envelope.text), contentType: envelope.contentType, binary: false };
  const bytes = Buffer.from(envelope.base64, 'base64');
  return { bytes, contentType: envelope.contentType, binary: utf8Text(bytes) === undefined };
}
