import assert from 'node:assert/strict';
import type { TidingsProcess } from './tidings.js';
import { WsClient } from './ws-client.js';

/** A well-behaved client subscribed to a channel, which must keep receiving while others misbehave. */
export class Bystander {
  private sent = 0;

  private constructor(private readonly t: TidingsProcess, readonly client: WsClient, private readonly channel: string) {}

  static async start(t: TidingsProcess, channel = 'news'): Promise<Bystander> {
    const client = await WsClient.connect(t.wsUrl);
    await client.command('subscribe', { channel });
    return new Bystander(t, client, channel);
  }

  /** Publishes one more message and waits for it: the server still serves this client, which is still open. */
  async stillReceives(): Promise<void> {
    const sent = ++this.sent;
    await this.t.publish(this.channel, { sent });
    await this.client.until(() => this.client.pushes('publication').length === sent, 5000, `publication ${sent}`);
    assert.equal(this.client.closeCode, undefined);
  }
}
