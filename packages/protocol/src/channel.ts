/**
 * Channel naming rules, shared by server and client.
 *
 * A channel name is 1–255 characters from `A–Z a–z 0–9 _ - . : @ = , / |` (`|` lets identity
 * providers' subjects such as `auth0|123` name `user:` and `inbox:` channels).
 * The namespace is the part before the first `:` (`chat:lobby` → `chat`);
 * a name without `:` is in the default namespace (``).
 */
export const MAX_CHANNEL_LENGTH = 255;
const CHANNEL_RE = /^[A-Za-z0-9_\-.:@=,/|]+$/;
/** The allowed characters, for error messages. */
export const CHANNEL_CHARS = 'A–Z a–z 0–9 _ - . : @ = , / |';

/**
 * The admin namespace: `$admin:<name>`, hidden from every client. `$` is not a channel character,
 * so no user channel, namespace, token grant, `subs` claim, API call or STOMP destination can name
 * it; only the admin console's live credential (docs/admin.md) is subscribed to it, by the server.
 */
export const ADMIN_NAMESPACE = '$admin';
/** Where each node publishes its stats snapshot about once a second while an admin console watches. */
export const ADMIN_STATS_CHANNEL = '$admin:stats';
const ADMIN_CHANNEL_RE = /^\$admin:[a-z0-9-]{1,64}$/;

/** Whether `name` is a channel of the admin namespace (`$admin:stats`). Such a name is never `isValidChannel`. */
export function isAdminChannel(name: string): boolean {
  return ADMIN_CHANNEL_RE.test(name);
}

export function isValidChannel(name: string): boolean {
  return name.length > 0 && name.length <= MAX_CHANNEL_LENGTH && CHANNEL_RE.test(name);
}

/** A namespace name: `` (the default namespace), or a channel name without `:`. */
export function isValidNamespace(name: string): boolean {
  return name === '' || (isValidChannel(name) && !name.includes(':'));
}

export function namespaceOf(channel: string): string {
  const i = channel.indexOf(':');
  return i < 0 ? '' : channel.slice(0, i);
}

/** The part after the namespace separator (`user:42` → `42`). */
export function channelKey(channel: string): string {
  const i = channel.indexOf(':');
  return i < 0 ? channel : channel.slice(i + 1);
}
