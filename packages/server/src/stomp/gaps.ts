import type { StompVersion } from '@tidings/stomp';
import type { Engine } from '../engine/engine.js';
import type { EncodedMessage } from './message.js';
import type { TopicSubscription } from './subscriptions.js';
import { topicMessage } from './topics.js';

/** True when `message` is not the next one `sub` expects: a gap in its epoch, or another epoch. */
export function breaksSequence(sub: TopicSubscription, message: EncodedMessage): boolean {
  return message.epoch !== sub.epoch || message.offset > sub.offset + 1;
}

/**
 * The publications a topic subscription missed after its last offset, read from the channel's
 * history, oldest first; undefined when they cannot all be replayed: the history no longer holds
 * the whole gap, the channel's epoch is no longer the subscription's (history lost), the engine
 * cannot be read, or the replay's frames would pass `maxBytes` (half the connection's queue,
 * which would cut it as slow). The caller then sends `x-recovered:false` on the next MESSAGE.
 */
export async function readGap(
  engine: Engine, sub: TopicSubscription, historySize: number, maxBytes: number, version: StompVersion,
): Promise<EncodedMessage[] | undefined> {
  let h;
  try {
    h = await engine.history(sub.channel, { since: sub.offset, limit: historySize });
  } catch {
    return undefined;
  }
  const { position, publications } = h;
  if (position.epoch !== sub.epoch || position.offset < sub.offset || publications.length !== position.offset - sub.offset) return undefined;
  if (publications.length > 0 && publications[0]!.offset !== sub.offset + 1) return undefined;
  const replay = publications.map(topicMessage);
  let bytes = 0;
  for (const m of replay) {
    bytes += m.tail(version, sub.destination).length;
    if (bytes > maxBytes) return undefined;
  }
  return replay;
}
