import type { QueuePosition } from './queue-contract.js';

/** A queued body as a shared log keeps it. */
export interface QueuedBody {
  readonly bytes: Uint8Array;
  /** The SEND's `content-type`, when it had one. */
  readonly contentType: string | undefined;
}

/** One message as a shared log hands it to this node. */
export interface LoggedMessage extends QueuedBody {
  /** The log's id of the entry (Redis: the stream entry id); what `ack`, `release` and `touch` name. */
  readonly ref: string;
  /** The queue's sequence number of the message. */
  readonly seq: number;
  /** The queue's epoch when the message was sent. */
  readonly epoch: string;
  /** User headers of the SEND, in order. */
  readonly headers: Array<[string, string]>;
  /** Delivered to a consumer before (released by a NACK or a departing consumer, or taken over from another node). */
  readonly delivered: boolean;
}

/**
 * The storage under cluster-wide STOMP queues (`ClusterQueues`): one log per queue shared by
 * every node, each node reading as one consumer of the queue's group, so an entry read by one
 * node is read by no other until it is released or taken over. `@tidings/redis` implements it
 * on Redis Streams consumer groups (`RedisQueueLog`).
 *
 * Errors: EngineUnavailableError when the backend is down (nothing done); OutcomeUnknownError
 * when a write was sent but not confirmed. A read may also reject with either.
 */
export interface SharedQueueLog {
  /**
   * Appends a message (numbered: the queue's next sequence number) unless the queue holds
   * `maxLength` messages (read or not, until acknowledged): then 'full' and nothing is appended.
   */
  append(queue: string, body: QueuedBody, headers: ReadonlyArray<readonly [string, string]>, maxLength: number): Promise<QueuePosition | 'full'>;
  /**
   * Waits a bounded time (a few seconds at most) for messages of `queues` that no node has read,
   * and takes at most `count` of each for this node, oldest first. Resolves with what it took
   * (maybe nothing: the wait ended, or `wake` was called). One read at a time.
   */
  read(queues: readonly string[], count: number): Promise<Array<{ queue: string; messages: LoggedMessage[] }>>;
  /** Ends a waiting `read` soon (the queues to read changed). */
  wake(): void;
  /** Done for good: removes the entries. */
  ack(queue: string, refs: readonly string[]): Promise<void>;
  /** Gives entries this node holds back to every node, marked delivered. Entries it no longer holds are left alone. */
  release(queue: string, refs: readonly string[]): Promise<void>;
  /**
   * Takes over at most `count` entries any node has held for `idleMs` ms without vouching for
   * them (`touch`), looking at a bounded part of what is held, from `cursor` ('' for the start).
   * Resolves with them and the cursor to go on from next time ('' when it went through all).
   */
  claimStale(queue: string, idleMs: number, count: number, cursor: string): Promise<{ messages: LoggedMessage[]; cursor: string }>;
  /** Vouches for entries this node holds (their idle time restarts); resolves with those it no longer holds. */
  touch(queue: string, refs: readonly string[]): Promise<string[]>;
  /** Stops reading (a waiting read resolves empty) and lets go of the log's own connections. */
  close(): Promise<void>;
}
