/**
 * Origin check for browser connections. Requests without `Origin` (non-browser clients) pass.
 * With an empty allowlist only same-origin pages pass (Origin's host equals the Host header);
 * `*` allows any origin; otherwise the origin must be listed exactly (scheme://host[:port]).
 */
export function originAllowed(origin: string | undefined, host: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined) return true;
  if (allowed.includes('*') || allowed.includes(origin)) return true;
  if (allowed.length > 0) return false;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}
