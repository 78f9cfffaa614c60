/**
 * How STOMP bodies map to a publication's `data` and back (docs/stomp.md, "Bodies"):
 *
 * - A body sent with a JSON content type (`application/json`, `application/*+json`, any
 *   parameters) that is exactly the canonical JSON of its value (what `JSON.stringify`
 *   writes) becomes that value: other transports see plain JSON.
 * - Any other body is stored in an envelope, `{"$stomp": {"text": …}}` for UTF-8 text or
 *   `{"$stomp": {"base64": …}}` otherwise, with `contentType` when the frame had one.
 *
 * A JSON body nested deeper than `maxDepth` is refused (107), as any other publish of such data.
 *
 * Going out, an envelope becomes its exact bytes and content type again; any other data
 * becomes its JSON with `content-type: application/json`. So a body sent by one STOMP
 * client reaches other STOMP clients byte for byte.
 */

import { ErrorCode, nestsDeeper } from '@tidings/protocol';
import { TidingsError } from '../errors.js';

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
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    if (nestsDeeper(value, maxDepth)) throw new TidingsError(ErrorCode.BadRequest, `data nests deeper than ${maxDepth} levels (maxDepth)`);
    if (value !== undefined && envelopeOf(value) === undefined && JSON.stringify(value) === text) return value;
  }
  return { [ENVELOPE_KEY]: { text, ...type } };
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
