const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443', 'ws:': '80', 'wss:': '443' };

/** `scheme://host:port` with the default port written out, or undefined when `text` is not an absolute http(s) URL. */
function fullOrigin(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  const port = url.port === '' ? DEFAULT_PORTS[url.protocol] : url.port;
  if (port === undefined) return undefined;
  return `${url.protocol}//${url.hostname}:${port}`;
}

/**
 * Origin check for browser connections. Requests without `Origin` (non-browser clients) pass.
 * With an empty allowlist only same-origin pages pass: the Origin's scheme, host and port
 * (default ports filled in) equal the request's own — `scheme` (`http`, or `https` on TLS) and
 * the Host header. `*` allows any origin; otherwise the origin must be listed exactly
 * (`scheme://host[:port]`). Behind a TLS-terminating proxy, `scheme` is the client's only when the
 * proxy is trusted (`ProxyTrust.requestScheme`); otherwise list the page's `https://` origin.
 */
export function originAllowed(origin: string | undefined, host: string | undefined, allowed: readonly string[], scheme: 'http' | 'https' = 'http'): boolean {
  if (origin === undefined) return true;
  if (allowed.includes('*') || allowed.includes(origin)) return true;
  if (allowed.length > 0 || host === undefined || host === '' || /[/?#@\\]/.test(host)) return false;
  const theirs = fullOrigin(origin);
  return theirs !== undefined && theirs === fullOrigin(`${scheme}://${host}`);
}
