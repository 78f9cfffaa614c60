import { CHANNEL_CHARS, ErrorCode, isValidChannel } from '@tidings/protocol';
import { StompError } from './errors.js';

/**
 * A destination as the client wrote it, resolved:
 * - `/topic/<channel>`: fan-out on the channel.
 * - `/user/queue/<name>`: the connected user's channel `user:<id>` (any name; it only labels the
 *   destination); for SEND, `/user/<id>/queue/<name>` addresses another user's channel.
 * - `/queue/<name>`: a point-to-point queue with competing consumers.
 */
export type Destination =
  | { kind: 'channel'; name: string; channel: string }
  | { kind: 'queue'; name: string; queue: string };

const TOPIC = '/topic/';
const QUEUE = '/queue/';
const USER = '/user/';
const USER_QUEUE = '/user/queue/';

function checkName(destination: string, name: string): string {
  if (!isValidChannel(name)) {
    throw new StompError(`invalid destination ${JSON.stringify(destination.slice(0, 80))}`, ErrorCode.InvalidChannel,
      undefined, `names after the prefix are 1–255 of ${CHANNEL_CHARS}`);
  }
  return name;
}

function userChannel(destination: string, user: string): string {
  if (user === '') {
    throw new StompError(`${destination} needs an authenticated connection`, ErrorCode.PermissionDenied, undefined,
      'user destinations belong to the connected user: connect with a token');
  }
  return checkName(destination, `user:${user}`);
}

/** Resolves `destination` for a connection of `user` ('' when anonymous). Throws StompError. */
export function parseDestination(destination: string, user: string, forSend: boolean): Destination {
  if (destination.startsWith(TOPIC)) {
    return { kind: 'channel', name: destination, channel: checkName(destination, destination.slice(TOPIC.length)) };
  }
  if (destination.startsWith(QUEUE)) {
    return { kind: 'queue', name: destination, queue: checkName(destination, destination.slice(QUEUE.length)) };
  }
  if (destination.startsWith(USER_QUEUE)) {
    checkName(destination, destination.slice(USER_QUEUE.length));
    return { kind: 'channel', name: destination, channel: userChannel(destination, user) };
  }
  if (forSend && destination.startsWith(USER)) {
    const rest = destination.slice(USER.length);
    const slash = rest.indexOf(QUEUE);
    if (slash > 0) {
      checkName(destination, rest.slice(slash + QUEUE.length));
      return { kind: 'channel', name: destination, channel: checkName(destination, `user:${rest.slice(0, slash)}`) };
    }
  }
  throw new StompError(`unknown destination ${JSON.stringify(destination.slice(0, 80))}`, ErrorCode.UnknownChannel, undefined,
    'destinations are /topic/<channel>, /queue/<name>, /user/queue/<name> (and /user/<id>/queue/<name> for SEND)');
}
