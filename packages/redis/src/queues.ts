import { randomBytes, randomUUID } from 'node:crypto';
import {
  EngineUnavailableError, OutcomeUnknownError,
  type LoggedMessage, type QueuePosition, type QueuedBody, type SharedQueueLog,
} from '@tidings/server';
import type { RedisClient } from './engine.js';
import { QUEUE_ACK, QUEUE_APPEND, QUEUE_FORGET_CONSUMERS, QUEUE_RELEASE, QUEUE_TOUCH } from './queue-scripts.js';
import { runScript, script, type Script } from './lua.js';

export interface RedisQueueLogOptions {
  /** Runs commands and scripts; the caller creates and closes it. Give it a `commandTimeout` (ms). */
  client: RedisClient;
  /** Runs the blocking reads; defaults to `client.duplicate()` (closed by `close()`). */
  reader?: RedisClient;
  /** Key prefix (default `tidings`), as the engine's. */
  prefix?: string;
  /** This node's consumer name in every queue's group; default a random id per process. */
  consumer?: string;
  /** Milliseconds one XREADGROUP blocks (default 2000); keep it under the reader's `commandTimeout`. */
  blockMs?: number;
  /**
   * Milliseconds after which a consumer of a queue's group that holds nothing and did nothing is
   * removed from the group (a node that is gone; default 1 hour). Checked by the nodes that look
   * for stale messages in that queue, at most every `forgetConsumersAfter / 2`.
   */
  forgetConsumersAfter?: number;
}

/** The consumer group every node reads a queue's stream in. */
export const GROUP = 'stomp';

const SCRIPTS = {
  append: script(QUEUE_APPEND), ack: script(QUEUE_ACK), release: script(QUEUE_RELEASE), touch: script(QUEUE_TOUCH), forget: script(QUEUE_FORGET_CONSUMERS),
};

type Fields = Buffer[];
type Entry = [Buffer, Fields | null];

/**
 * STOMP queues on Redis Streams: a queue is the stream `<prefix>:{queues}:s:<name>` (its
 * sequence number and epoch in the hash `<prefix>:{queues}:m:<name>`) with one consumer group,
 * in which each node is one consumer. Every queue key shares the hash tag `{queues}`, so one
 * XREADGROUP reads all of a node's queues, also on Redis Cluster (all queues then live on one
 * shard). An entry stays in the stream until acknowledged (XACK + XDEL), so XLEN is what the queue
 * holds. A released entry is appended again (marked `r`), a new entry at the end of the stream.
 *
 * A blocked read is ended early with CLIENT UNBLOCK on a standalone Redis; on a Cluster the read
 * ends by itself within `blockMs`.
 */
export class RedisQueueLog implements SharedQueueLog {
  private readonly client: RedisClient;
  private readonly reader: RedisClient;
  private readonly ownsReader: boolean;
  private readonly prefix: string;
  readonly consumer: string;
  private readonly blockMs: number;
  private readonly forgetConsumersAfter: number;
  /** When each queue's group was last cleared of gone consumers (ms). */
  private readonly forgotten = new Map<string, number>();
  private readerId: number | undefined;
  /** Counts reads; a read in flight has `inFlight` set. */
  private readGen = 0;
  private inFlight = false;
  /** The read `wake` should end (its generation); -1 when none. */
  private wakeFor = -1;
  private closed = false;

  constructor(options: RedisQueueLogOptions) {
    this.client = options.client;
    this.ownsReader = options.reader === undefined;
    this.reader = options.reader ?? options.client.duplicate();
    this.prefix = options.prefix ?? 'tidings';
    this.consumer = options.consumer ?? randomUUID();
    this.blockMs = options.blockMs ?? 2000;
    this.forgetConsumersAfter = options.forgetConsumersAfter ?? 3_600_000;
    // failures are reported by the reads themselves
    this.reader.on('error', () => {});
    if (!('nodes' in this.reader)) {
      const reader = this.reader;
      const learnId = (): void => {
        reader.call('CLIENT', 'ID').then((id) => { this.readerId = Number(id); }, () => { this.readerId = undefined; });
      };
      reader.on('ready', learnId);
      if (reader.status === 'ready') learnId();
    }
  }

  async append(queue: string, body: QueuedBody, headers: ReadonlyArray<readonly [string, string]>, maxLength: number): Promise<QueuePosition | 'full'> {
    const reply = await this.run(SCRIPTS.append, [this.stream(queue), this.meta(queue)], [
      maxLength, randomBytes(6).toString('base64url'), body.contentType === undefined ? '0' : '1', body.contentType ?? '',
      JSON.stringify(headers), Buffer.from(body.bytes.buffer, body.bytes.byteOffset, body.bytes.byteLength), GROUP,
    ], true) as [string, number?, string?];
    if (reply[0] === 'full') return 'full';
    return { offset: Number(reply[1]), epoch: String(reply[2]) };
  }

  async read(queues: readonly string[], count: number): Promise<Array<{ queue: string; messages: LoggedMessage[] }>> {
    if (this.closed || queues.length === 0) return [];
    await this.readerReady();
    const keys = queues.map((q) => this.stream(q));
    const args = ['GROUP', GROUP, this.consumer, 'COUNT', count, 'BLOCK', this.blockMs, 'STREAMS', ...keys, ...keys.map(() => '>')];
    this.inFlight = true;
    this.readGen++;
    let reply: unknown;
    try {
      reply = await this.reader.callBuffer('XREADGROUP', args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOGROUP')) throw unavailable(err);
      // a queue no one sent to yet, or Redis lost its data: make the groups and read next time
      for (const key of keys) await this.guard(() => this.client.call('XGROUP', 'CREATE', key, GROUP, '0', 'MKSTREAM'), false).catch(busyGroup);
      return [];
    } finally {
      this.inFlight = false;
    }
    if (!Array.isArray(reply)) return [];
    return (reply as Array<[Buffer, Entry[]]>).map(([key, entries]) => {
      const queue = this.queueOf(key.toString());
      return { queue, messages: entries.flatMap((e) => (e[1] ? [toLogged(e[0].toString(), e[1], false)] : [])) };
    });
  }

  /** Waits up to `blockMs` for the reader's connection; EngineUnavailableError when it does not come. */
  private async readerReady(): Promise<void> {
    const reader = this.reader;
    if (reader.status !== 'ready' && reader.status !== 'end') {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          reader.off('ready', done);
          resolve();
        };
        const timer = setTimeout(done, this.blockMs);
        reader.once('ready', done);
      });
    }
    if (reader.status !== 'ready') throw new EngineUnavailableError(`redis is not connected (${reader.status})`);
  }

  wake(): void {
    if (!this.inFlight || this.readerId === undefined) return;
    const running = this.wakeFor !== -1;
    this.wakeFor = this.readGen;
    if (running) return;
    void (async () => {
      // the read may not have reached Redis yet: try again until it ended
      for (let i = 0; i < 100 && this.inFlight && this.readGen === this.wakeFor; i++) {
        const n = await this.client.call('CLIENT', 'UNBLOCK', this.readerId!).catch(() => 0);
        if (n === 1) break;
        await new Promise((r) => setTimeout(r, 5));
      }
      this.wakeFor = -1;
    })();
  }

  async ack(queue: string, refs: readonly string[]): Promise<void> {
    if (refs.length > 0) await this.run(SCRIPTS.ack, [this.stream(queue)], [GROUP, ...refs], false);
  }

  async release(queue: string, refs: readonly string[]): Promise<void> {
    if (refs.length > 0) await this.run(SCRIPTS.release, [this.stream(queue)], [GROUP, this.consumer, ...refs], true);
  }

  async claimStale(queue: string, idleMs: number, count: number, cursor: string): Promise<{ messages: LoggedMessage[]; cursor: string }> {
    let reply: unknown;
    try {
      reply = await this.guard(() => this.client.callBuffer('XAUTOCLAIM', this.stream(queue), GROUP, this.consumer, idleMs, cursor === '' ? '0-0' : cursor, 'COUNT', count), true);
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('NOGROUP')) return { messages: [], cursor: '' };
      throw err;
    }
    const [next, entries] = reply as [Buffer, Entry[], Buffer[]?];
    const messages = entries.flatMap((e) => (e[1] ? [toLogged(e[0].toString(), e[1], true)] : []));
    await this.forgetConsumers(queue);
    return { messages, cursor: next.toString() === '0-0' ? '' : next.toString() };
  }

  /** Removes gone nodes' consumers from the queue's group, at most every `forgetConsumersAfter / 2`. */
  private async forgetConsumers(queue: string): Promise<void> {
    const now = Date.now();
    const last = this.forgotten.get(queue);
    if (last === undefined) this.forgotten.set(queue, now);
    if (last === undefined || now - last < this.forgetConsumersAfter / 2) return;
    this.forgotten.set(queue, now);
    await this.run(SCRIPTS.forget, [this.stream(queue)], [GROUP, this.forgetConsumersAfter, this.consumer], false);
  }

  async touch(queue: string, refs: readonly string[]): Promise<string[]> {
    if (refs.length === 0) return [];
    return await this.run(SCRIPTS.touch, [this.stream(queue)], [GROUP, this.consumer, ...refs], false) as string[];
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.ownsReader) this.reader.disconnect();
  }

  private stream(queue: string): string {
    return `${this.prefix}:{queues}:s:${queue}`;
  }

  private meta(queue: string): string {
    return `${this.prefix}:{queues}:m:${queue}`;
  }

  private queueOf(key: string): string {
    return key.slice(`${this.prefix}:{queues}:s:`.length);
  }

  /** EVALSHA, loading the script on NOSCRIPT; `write`: see guard. */
  private run(s: Script, keys: string[], args: Array<string | number | Buffer>, write: boolean): Promise<unknown> {
    return this.guard(() => runScript(this.client, s, keys, args), write);
  }

  /**
   * Runs `op` unless Redis is known to be down (EngineUnavailableError at once). A failure other
   * than Redis's own error reply means the command may have been sent: for a `write`
   * OutcomeUnknownError, otherwise EngineUnavailableError.
   */
  private async guard<T>(op: () => Promise<T>, write: boolean): Promise<T> {
    if (this.client.status !== 'ready') throw new EngineUnavailableError(`redis is not connected (${this.client.status})`);
    try {
      return await op();
    } catch (err) {
      if (!(err instanceof Error) || err.name === 'ReplyError') throw err;
      if (write && !/enableOfflineQueue options is false/.test(err.message)) {
        throw new OutcomeUnknownError(`redis did not confirm the command (${err.message}): it may or may not have run`);
      }
      throw unavailable(err);
    }
  }
}

function unavailable(err: unknown): Error {
  if (err instanceof Error && err.name === 'ReplyError') return err;
  return new EngineUnavailableError(`redis is unavailable: ${err instanceof Error ? err.message : String(err)}`);
}

function busyGroup(err: unknown): void {
  if (!(err instanceof Error) || !err.message.startsWith('BUSYGROUP')) throw err;
}

/** A stream entry's fields: `s` seq, `e` epoch, `h` headers (JSON), `c` content type (when given), `b` body, `r` released. */
function toLogged(ref: string, fields: Fields, claimed: boolean): LoggedMessage {
  const f = new Map<string, Buffer>();
  for (let i = 0; i + 1 < fields.length; i += 2) f.set(fields[i]!.toString(), fields[i + 1]!);
  const body = f.get('b') ?? Buffer.alloc(0);
  return {
    ref,
    seq: Number(f.get('s')?.toString() ?? 0),
    epoch: f.get('e')?.toString() ?? '',
    headers: JSON.parse(f.get('h')?.toString() ?? '[]') as Array<[string, string]>,
    contentType: f.get('c')?.toString(),
    bytes: new Uint8Array(body.buffer, body.byteOffset, body.byteLength),
    delivered: claimed || f.has('r'),
  };
}
