import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Written } from '../observability/metrics.js';
import { quote } from './frames.js';
import { DRAIN_FRAME_BYTES, SockjsSession, type Receiver, type SessionOwner, type SessionUser } from './session.js';

class FakeReceiver implements Receiver {
  readonly frames: string[] = [];
  ended = false;
  buffered = 0;
  backedUp = false;
  constructor(readonly polling: boolean, private readonly room = Infinity) {}
  send(frame: string): boolean {
    this.frames.push(frame);
    return !this.polling && this.frames.length < this.room;
  }
  end(): void {
    this.ended = true;
  }
}

class FakeUser implements SessionUser {
  readonly received: string[] = [];
  goneCalls = 0;
  receive(message: string): void {
    this.received.push(message);
  }
  gone(): void {
    this.goneCalls++;
  }
  drain(): void {}
}

function session(): { s: SockjsSession; user: FakeUser; written: Written } {
  const user = new FakeUser();
  const owner: SessionOwner = { detect: () => user };
  const written = new Written();
  return { s: new SockjsSession(owner, undefined, written, { transport: 'sockjs', protocol: 'sockjs', remoteAddr: '', headers: {} }), user, written };
}

const timing = { heartbeatMs: 1000, disconnectDelayMs: 5000, connectTimeoutMs: 10_000 };
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('SockjsSession', () => {
  it('opens with o (a poll takes it alone), then delivers what a tick queued in one a frame', async () => {
    const { s } = session();
    const first = new FakeReceiver(true);
    s.attach(first);
    assert.deepEqual([first.frames, first.ended], [['o'], true]);
    const poll = new FakeReceiver(true);
    s.attach(poll);
    s.enqueue(quote('one'));
    s.enqueue(quote('two'));
    await tick();
    assert.deepEqual([poll.frames, poll.ended], [['a["one","two"]'], true]);
  });

  it('answers a second receiver with c[2010] and keeps the first', () => {
    const { s } = session();
    const stream = new FakeReceiver(false);
    s.attach(stream);
    const other = new FakeReceiver(false);
    s.attach(other);
    assert.deepEqual([other.frames, other.ended], [['c[2010,"Another connection still open"]'], true]);
    assert.equal(stream.ended, false);
    assert.equal(s.attached, true);
  });

  it('a streaming receiver out of room ends; messages wait for the next one', async () => {
    const { s } = session();
    const stream = new FakeReceiver(false, 2);
    s.attach(stream);
    s.enqueue(quote('a'));
    await tick();
    assert.deepEqual([stream.frames, stream.ended], [['o', 'a["a"]'], true]);
    s.enqueue(quote('b'));
    await tick();
    const next = new FakeReceiver(false);
    s.attach(next);
    assert.deepEqual(next.frames, ['a["b"]']);
  });

  it('closing without a receiver keeps the queue and the close frame for the next requests; the user ends once', () => {
    const { s, user } = session();
    s.attach(new FakeReceiver(true));
    s.receive(['hello']);
    assert.deepEqual(user.received, ['hello']);
    s.enqueue(quote('last'));
    s.close(3001, 'slow');
    s.close(3000, 'again');
    assert.equal(user.goneCalls, 1);
    const poll = new FakeReceiver(true);
    s.attach(poll);
    assert.deepEqual(poll.frames, ['a["last"]']);
    const next = new FakeReceiver(true);
    s.attach(next);
    assert.deepEqual(next.frames, ['c[3001,"slow"]']);
    s.receive(['ignored']);
    assert.deepEqual(user.received, ['hello']);
  });

  it('an interrupted receiver closes the session with 1002', () => {
    const { s, user } = session();
    const stream = new FakeReceiver(false);
    s.attach(stream);
    s.receive(['first']);
    s.detach(stream, true);
    assert.equal(s.state, 'closed');
    assert.equal(user.goneCalls, 1);
    const poll = new FakeReceiver(true);
    s.attach(poll);
    assert.deepEqual(poll.frames, ['c[1002,"Connection interrupted"]']);
  });

  it('tick: heartbeats an idle receiver, times out without one, is forgotten after the delay once closed', () => {
    const { s } = session();
    const stream = new FakeReceiver(false);
    s.attach(stream);
    const now = Date.now();
    assert.equal(s.tick(now + 500, timing), true);
    assert.deepEqual(stream.frames, ['o']);
    assert.equal(s.tick(now + 1500, timing), true);
    assert.deepEqual(stream.frames, ['o', 'h']);
    s.detach(stream, false);
    assert.equal(s.tick(now + 4000, timing), true);
    assert.equal(s.tick(Date.now() + 5001, timing), false);
    assert.equal(s.state, 'closed');
  });

  it('tick: a session that never sends its first message closes with 3007', () => {
    const { s } = session();
    const stream = new FakeReceiver(false);
    s.attach(stream);
    s.tick(Date.now() + 10_001, { ...timing, heartbeatMs: 60_000 });
    assert.equal(stream.frames.at(-1), 'c[3007,"no first message in time"]');
  });

  it('a backed-up receiver: messages wait whole, leave in frames of about DRAIN_FRAME_BYTES as it drains; frames and bytes counted', async () => {
    const { s, written } = session();
    const stream = new FakeReceiver(false);
    s.attach(stream);
    stream.backedUp = true;
    const big = quote('x'.repeat(6000));
    for (let i = 0; i < 6; i++) s.enqueue(big);
    await tick();
    assert.deepEqual(stream.frames, ['o']);
    assert.equal(s.backlog, 6 * (big.length + 1));
    let calls = 0;
    const full = stream.send.bind(stream);
    stream.send = (frame: string): boolean => {
      if (++calls === 2) stream.backedUp = true;
      return full(frame);
    };
    stream.backedUp = false;
    s.drained(stream);
    const perFrame = Math.floor(DRAIN_FRAME_BYTES / (big.length + 1));
    assert.equal(stream.frames.length, 3);
    assert.equal(stream.frames[1], `a[${Array(perFrame).fill(big).join(',')}]`);
    assert.equal(s.backlog, (6 - 2 * perFrame) * (big.length + 1));
    stream.backedUp = false;
    s.drained(stream);
    assert.equal(s.backlog, 0);
    assert.equal(written.frames, stream.frames.length - 1);
    assert.equal(written.bytes, stream.frames.slice(1).reduce((n, f) => n + Buffer.byteLength(f), 0));
  });

  it('discard then close on a backed-up receiver: the close frame follows the last whole message sent', async () => {
    const { s } = session();
    const stream = new FakeReceiver(false);
    s.attach(stream);
    s.enqueue(quote('sent'));
    await tick();
    stream.backedUp = true;
    s.enqueue(quote('waiting'));
    s.enqueue(quote('waiting too'));
    await tick();
    s.discard();
    s.enqueue(quote('disconnect'));
    s.close(3001, 'slow');
    assert.deepEqual(stream.frames, ['o', 'a["sent"]', 'a["disconnect"]', 'c[3001,"slow"]']);
    assert.equal(stream.ended, true);
  });
});
