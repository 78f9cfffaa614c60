/**
 * The URL of a request target, or undefined when it must be refused (400): anything but an
 * origin-form (`/path?query`) or absolute-form (`http://host/path`) target, and any path with an
 * empty segment (`//`) or a backslash. `//evil.example/api/publish` would otherwise parse as host
 * `evil.example` and path `/api/publish`. The returned URL's host means nothing; use its
 * `pathname` and `searchParams`.
 */
export function requestUrl(target: string | undefined): URL | undefined {
  if (target === undefined) return undefined;
  const end = target.search(/[?#]/);
  const path = end === -1 ? target : target.slice(0, end);
  let url: URL;
  try {
    if (path.startsWith('/')) {
      if (path.includes('//') || path.includes('\\')) return undefined;
      url = new URL(target, 'http://localhost');
    } else if (/^https?:\/\/[^/?#\\]+(\/|$)/i.test(target)) {
      url = new URL(target);
    } else {
      return undefined;
    }
  } catch {
    return undefined;
  }
  return url.pathname.includes('//') ? undefined : url;
}
