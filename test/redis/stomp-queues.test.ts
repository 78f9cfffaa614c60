import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { IMessage } from '@stomp/stompjs';
import { RedisProcess, redisAvailability } from '../helpers/redis.js';
import { configFile, startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { RawStomp, header, stompJs, type StompJs } from '../stomp/helpers.js';

const availability = redisAvailability();
const REDELIVER_AFTER = 3000;

async function until(cond: () => boolean, ms: number, what: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A stompjs consumer of /queue/jobs (client-individual): records every MESSAGE, acks those `acks` approves. */
class Consumer {
  readonly got: Array<{ body: string; redelivered: boolean }> = [];
  acks: (body: string) => boolean = () => true;
  readonly held: string[] = [];

  constructor(readonly stomp: StompJs) {}

  static async on(node: TidingsProcess): Promise<Consumer> {
    const c = new Consumer(await stompJs(node.wsUrl));
    const subscribed = new Promise<void>((resolve) => c.stomp.client.watchForReceipt('sub', () => resolve()));
    c.stomp.client.subscribe('/queue/jobs', (m: IMessage) => c.take(m), { ack: 'client-individual', 'prefetch-count': '10', receipt: 'sub' });
    await subscribed;
    return c;
  }

  private take(m: IMessage): void {
    this.got.push({ body: m.body, redelivered: m.headers.redelivered === 'true' });
    if (this.acks(m.body)) m.ack();
    else this.held.push(m.body);
  }
}

describe('STOMP /queue/jobs across three nodes on one Redis', availability, () => {
  let redis: RedisProcess;
  let nodes: TidingsProcess[];
  let consumers: Consumer[];

  before(async () => {
    redis = await RedisProcess.start();
    const config = configFile({ namespaces: { '': { publish: true } } });
    nodes = [];
    // one at a time: three starting together can take longer than the helper waits on a busy machine
    for (let i = 0; i < 3; i++) {
      nodes.push(await startTidings({
        args: ['--engine', 'redis', '--redis-url', redis.url, '--config', config, '--stomp-queue-redeliver-after', String(REDELIVER_AFTER)],
      }));
    }
    consumers = await Promise.all(nodes.map((n) => Consumer.on(n)));
  });
  after(async () => {
    for (const c of consumers) await c.stomp.client.deactivate().catch(() => {});
    await Promise.all(nodes.map((n) => n.stop()));
    await redis.kill();
  });

  /** Sends `bodies` to /queue/jobs through `node` (raw STOMP over WebSocket); resolves once the last is receipted. */
  async function send(node: TidingsProcess, bodies: string[]): Promise<void> {
    const producer = await RawStomp.ws(node.wsUrl);
    await producer.connect();
    for (const [i, body] of bodies.entries()) {
      const headers: Array<[string, string]> = [['destination', '/queue/jobs'], ['content-type', 'text/plain']];
      if (i === bodies.length - 1) headers.push(['receipt', 'last']);
      producer.frame('SEND', headers, body);
    }
    const receipt = await producer.next('RECEIPT', 60_000);
    assert.equal(header(receipt, 'receipt-id'), 'last');
    assert.ok(!producer.frames.some((f) => f.command === 'ERROR'), 'no ERROR');
    producer.end();
  }

  it('hands 3,000 messages to the three consumers, each delivered and acked exactly once', async () => {
    const n = Number(process.env.QN ?? 3000);
    const bodies = Array.from({ length: n }, (_, i) => `job-${i}`);
    // all through node 0: node-local queues would hand every one to node 0's consumer
    await send(nodes[0]!, bodies);
    const total = (): number => consumers.reduce((s, c) => s + c.got.length, 0);
    await until(() => total() >= n, 60_000, () => `${n} deliveries (have ${total()})`);
    await new Promise((r) => setTimeout(r, REDELIVER_AFTER * 2));
    const seen = new Map<string, number>();
    for (const c of consumers) for (const g of c.got) seen.set(g.body, (seen.get(g.body) ?? 0) + 1);
    const twice = [...seen].filter(([, k]) => k > 1).map(([b]) => b);
    const missing = bodies.filter((b) => !seen.has(b));
    assert.deepEqual(twice, [], 'no message delivered twice');
    assert.deepEqual(missing, [], 'no message missing');
    assert.equal(total(), n);
    for (const [i, c] of consumers.entries()) {
      assert.ok(c.got.length > 0, `the consumer on node ${i} got some (${consumers.map((x) => x.got.length).join(' / ')})`);
      assert.ok(c.got.every((g) => !g.redelivered), 'nothing redelivered');
      const seqs = c.got.map((g) => Number(g.body.slice(4)));
      assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y), `node ${i}: in the order sent`);
    }
  });

  it('redelivers what the consumer on a SIGKILLed node held unacknowledged to the others, after the timeout', async () => {
    const [a, b, victim] = consumers as [Consumer, Consumer, Consumer];
    for (const c of consumers) c.got.length = 0;
    victim.acks = (body) => Number(body.slice(2)) % 2 === 0;
    const n = 60;
    const bodies = Array.from({ length: n }, (_, i) => `k-${i}`);
    await send(nodes[0]!, bodies);
    const accounted = (): number => a.got.length + b.got.length + victim.got.length;
    await until(() => accounted() >= n, 20_000, () => `${n} deliveries (have ${accounted()})`);
    const held = [...victim.held];
    assert.ok(held.length > 0, `the victim holds unacknowledged messages (got ${victim.got.length})`);

    const killedAt = Date.now();
    await nodes[2]!.kill('SIGKILL');
    const others = (): Array<{ body: string; redelivered: boolean }> => [...a.got, ...b.got];
    await until(() => others().filter((g) => g.redelivered).length >= held.length, REDELIVER_AFTER * 10,
      () => `${held.length} redeliveries (have ${others().filter((g) => g.redelivered).length})`);
    const waited = Date.now() - killedAt;
    await new Promise((r) => setTimeout(r, REDELIVER_AFTER));
    const redelivered = others().filter((g) => g.redelivered).map((g) => g.body).sort();
    assert.deepEqual(redelivered, [...held].sort(), 'exactly what the victim held, once each');
    assert.ok(waited >= REDELIVER_AFTER / 2, `not before the timeout (${waited} ms)`);
    const acked = new Map<string, number>();
    for (const g of [...others(), ...victim.got.filter((g) => !held.includes(g.body))]) acked.set(g.body, (acked.get(g.body) ?? 0) + 1);
    assert.deepEqual(bodies.filter((x) => acked.get(x) !== 1), [], 'every message consumed exactly once in the end');
  });

  it('gives what a consumer held back at once when its node shuts down gracefully (SIGTERM), without waiting for the timeout', async () => {
    const [a, b] = consumers as [Consumer, Consumer];
    for (const c of consumers) c.got.length = 0;
    b.acks = () => false;
    await send(nodes[0]!, Array.from({ length: 30 }, (_, i) => `t-${i}`));
    await until(() => a.got.length + b.got.length >= 30, 20_000, () => `30 deliveries (have ${a.got.length + b.got.length})`);
    const held = [...b.held].filter((x) => x.startsWith('t-'));
    assert.ok(held.length > 0, 'the consumer on node 1 holds some');
    const stoppedAt = Date.now();
    await nodes[1]!.kill('SIGTERM');
    await until(() => a.got.filter((g) => g.redelivered).length >= held.length, REDELIVER_AFTER * 3,
      () => `${held.length} redeliveries (have ${a.got.filter((g) => g.redelivered).length})`);
    const waited = Date.now() - stoppedAt;
    assert.deepEqual(a.got.filter((g) => g.redelivered).map((g) => g.body).sort(), held.sort());
    assert.ok(waited < (REDELIVER_AFTER * 2) / 3, `released at shutdown, not taken over after the timeout (${waited} ms)`);
  });
});
