import type { IncomingHttpHeaders } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { splitOutsideQuotes } from './header-values.js';

/** Proxy hops read from the right of `Forwarded` or `X-Forwarded-For`; hops further left are not looked at. */
export const MAX_HOPS = 16;
/** Characters of a forwarding header read, from its right end. */
export const MAX_HEADER_CHARS = 2048;

export type Scheme = 'http' | 'https';

/** What the client address and scheme are read from: node:http's IncomingMessage, or a head the front door parsed. */
export interface ForwardedRequest {
  headers: IncomingHttpHeaders;
  socket?: { readonly remoteAddress?: string | undefined; readonly encrypted?: boolean | undefined } | undefined;
}

/** One proxy hop: who connected to it (`for`), and with which scheme (`proto`), when known. */
export interface Hop {
  for: string | undefined;
  proto: Scheme | undefined;
}

const CIDR = /^([^/]+)\/(\d{1,3})$/;

/** Whether `text` is an IP address or a CIDR (`10.0.0.0/8`, `fd00::/8`): what `--trust-proxy` takes. */
export function isTrustEntry(text: string): boolean {
  const m = CIDR.exec(text);
  const family = isIP(m ? m[1]! : text);
  if (family === 0) return false;
  return !m || Number(m[2]) <= (family === 4 ? 32 : 128);
}

/**
 * An address as a socket or proxy writes it, without port, brackets or zone, and an IPv4-mapped
 * IPv6 address (`::ffff:10.0.0.1`) as IPv4; undefined for anything that is not an IP address
 * (`unknown`, `_hidden`, garbage).
 */
export function plainAddress(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  let a = text.trim();
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(a);
  if (bracketed) a = bracketed[1]!;
  else if (/^[\d.]+:\d{1,5}$/.test(a)) a = a.slice(0, a.indexOf(':'));
  const zone = a.indexOf('%');
  if (zone !== -1) a = a.slice(0, zone);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  if (mapped) a = mapped[1]!;
  return isIP(a) === 0 ? undefined : a.toLowerCase();
}

function headerText(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value.join(', ') : value;
  return text === undefined || text === '' ? undefined : text;
}

/** The right end of a list header, at most MAX_HEADER_CHARS, without a list member the cut went through. */
function rightEnd(text: string): string {
  if (text.length <= MAX_HEADER_CHARS) return text;
  const tail = text.slice(text.length - MAX_HEADER_CHARS);
  const comma = tail.indexOf(',');
  return comma === -1 ? '' : tail.slice(comma + 1);
}

function scheme(text: string | undefined): Scheme | undefined {
  const s = text?.trim().toLowerCase();
  return s === 'http' || s === 'https' ? s : undefined;
}

function unquote(value: string): string {
  const v = value.trim();
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1).replace(/\\(.)/g, '$1') : v;
}

/** The hops of an RFC 7239 `Forwarded` header, left (first proxy) to right (last); at most MAX_HOPS from the right. */
export function parseForwarded(value: string | string[] | undefined): Hop[] {
  const text = headerText(value);
  if (text === undefined) return [];
  return splitOutsideQuotes(rightEnd(text), ',').slice(-MAX_HOPS).map((element) => {
    const hop: Hop = { for: undefined, proto: undefined };
    for (const pair of splitOutsideQuotes(element, ';')) {
      const eq = pair.indexOf('=');
      if (eq === -1) continue;
      const name = pair.slice(0, eq).trim().toLowerCase();
      if (name === 'for') hop.for = unquote(pair.slice(eq + 1));
      else if (name === 'proto') hop.proto = scheme(unquote(pair.slice(eq + 1)));
    }
    return hop;
  });
}

/**
 * The hops of `X-Forwarded-For`, left to right (at most MAX_HOPS from the right), each with the
 * `X-Forwarded-Proto` value at the same place counted from the right (the leftmost one when
 * X-Forwarded-Proto has fewer: a single value set by the last proxy applies to every hop). Without
 * X-Forwarded-For, one hop with no address and X-Forwarded-Proto's last value.
 */
export function parseXForwarded(forValue: string | string[] | undefined, protoValue: string | string[] | undefined): Hop[] {
  const protoText = headerText(protoValue);
  const protos = protoText === undefined ? [] : rightEnd(protoText).split(',').slice(-MAX_HOPS);
  const text = headerText(forValue);
  if (text === undefined) return protos.length === 0 ? [] : [{ for: undefined, proto: scheme(protos[protos.length - 1]) }];
  const fors = rightEnd(text).split(',').slice(-MAX_HOPS);
  return fors.map((f, i) => {
    const fromRight = fors.length - 1 - i;
    const proto = protos.length === 0 ? undefined : protos[protos.length - 1 - Math.min(fromRight, protos.length - 1)];
    return { for: f.trim(), proto: scheme(proto) };
  });
}

/**
 * Which peers are proxies whose forwarding headers are believed (`--trust-proxy`), and the client
 * address and scheme of a request that follow from that. Every component that logs, checks an
 * Origin or calls a backend about a request's client asks here, so they agree.
 */
export class ProxyTrust {
  private readonly list = new BlockList();
  private readonly empty: boolean;

  /** `entries`: IP addresses and CIDRs (`127.0.0.1`, `10.0.0.0/8`, `fd00::/8`). Throws a TypeError naming a bad one. */
  constructor(entries: readonly string[] = []) {
    for (const entry of entries) {
      if (!isTrustEntry(entry)) throw new TypeError(`not an IP address or CIDR: ${JSON.stringify(entry)}`);
      const m = CIDR.exec(entry);
      const address = m ? m[1]! : entry;
      const family = isIP(address) === 4 ? 'ipv4' : 'ipv6';
      if (m) this.list.addSubnet(address, Number(m[2]), family);
      else this.list.addAddress(address, family);
    }
    this.empty = entries.length === 0;
  }

  /** Whether `address` (as a socket or proxy writes it) is a trusted proxy. */
  trusts(address: string | undefined): boolean {
    if (this.empty) return false;
    const a = plainAddress(address);
    return a !== undefined && this.list.check(a, isIP(a) === 4 ? 'ipv4' : 'ipv6');
  }

  /**
   * The client's address and the scheme it used. Without a trusted peer: the TCP peer, and `https`
   * on TLS. From a trusted peer: the hops of `X-Forwarded-For` with `X-Forwarded-Proto` (or,
   * without either, of `Forwarded`) are walked from the right, skipping trusted proxies; the first
   * untrusted one is the client. A hop that is not an IP address (`unknown`, obfuscated) ends the
   * walk at the last address known; one without an address (only `proto`) gives the scheme and
   * ends it. X-Forwarded-* come first because nearly every proxy writes them and passes on a
   * `Forwarded` header the client wrote; a proxy that writes only `Forwarded` must drop the
   * client's X-Forwarded-*. `address` is undefined only when the socket has none (it is gone).
   */
  client(req: ForwardedRequest): { address: string | undefined; scheme: Scheme } {
    let address = plainAddress(req.socket?.remoteAddress);
    let proto: Scheme = req.socket?.encrypted === true ? 'https' : 'http';
    if (!this.trusts(address)) return { address, scheme: proto };
    const xff = req.headers['x-forwarded-for'];
    const xfp = req.headers['x-forwarded-proto'];
    const hops = headerText(xff) !== undefined || headerText(xfp) !== undefined ? parseXForwarded(xff, xfp) : parseForwarded(req.headers.forwarded);
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i]!;
      const next = plainAddress(hop.for);
      if (next === undefined) {
        if (hop.for === undefined && hop.proto !== undefined) proto = hop.proto;
        break;
      }
      address = next;
      if (hop.proto !== undefined) proto = hop.proto;
      if (!this.trusts(next)) break;
    }
    return { address, scheme: proto };
  }

  /** The client's address (see `client`). */
  clientAddress(req: ForwardedRequest): string | undefined {
    return this.client(req).address;
  }

  /** The scheme the client used: `https` or `http` (see `client`). */
  requestScheme(req: ForwardedRequest): Scheme {
    if (this.empty) return req.socket?.encrypted === true ? 'https' : 'http';
    return this.client(req).scheme;
  }
}
