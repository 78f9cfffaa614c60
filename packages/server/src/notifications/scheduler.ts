import type { Logger } from '../log.js';
import type { Metrics } from '../observability/metrics.js';
import type { Publisher } from '../publisher.js';
import type { Timed, TimerWheel } from '../timer.js';
import { nextRun } from './cron.js';
import { digestsOf } from './digest.js';
import type { Inbox } from './inbox.js';
import type { NotificationStore, Schedule } from './store.js';

const TICK_MS = 250;
const LEASE_MS = 30_000;
const PURGE_EVERY_MS = 60_000;
const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;
/** A run fired later than this after its time counts as missed (`tidings_scheduler_missed_total`). */
const MISSED_MS = 5000;

/**
 * Fires what is due, from the node's shared timer: delayed notifications (announced once, ever),
 * snoozed notifications whose time came (leased like schedules), and cron schedules. Each due run is leased in the store to one node, so in a cluster exactly one
 * node fires it. A run missed while no node was up fires once when one starts, then the schedule
 * continues from the next time after now (missed runs are not replayed one by one).
 */
export class Scheduler implements Timed {
  private handle = -1;
  private running = false;
  private stopped = false;
  private lastPurge = 0;
  /** The last tick failed (the store is down): said once, until a tick succeeds. */
  private failing = false;

  constructor(
    private readonly store: NotificationStore,
    private readonly inbox: Inbox,
    private readonly publisher: Publisher,
    private readonly timers: TimerWheel,
    private readonly log: Logger,
    /** This node's id: the owner of the leases it takes. */
    private readonly owner: string,
    private readonly metrics?: Metrics,
  ) {}

  start(): void {
    this.stopped = false;
    this.handle = this.timers.schedule(this, Date.now());
  }

  stop(): void {
    this.stopped = true;
    this.timers.cancel(this, this.handle);
  }

  onTimer(now: number): void {
    if (this.stopped) return;
    this.handle = this.timers.schedule(this, now + TICK_MS);
    if (this.running) return;
    this.running = true;
    this.tick(now)
      .then(() => {
        if (this.failing) this.log.info('scheduler recovered: due work is fired again');
        this.failing = false;
      }, (err: unknown) => {
        // once per outage, not once per tick (four times a second while the store is down)
        if (!this.failing) this.log.warn('scheduler tick failed; retrying every tick', { err: String(err) });
        this.failing = true;
      })
      .finally(() => { this.running = false; });
  }

  private async tick(now: number): Promise<void> {
    const due = await this.store.claimDue(now, 1000);
    if (due.length > 0) this.log.info('delayed notifications due', { count: due.length });
    this.inbox.announce(due);
    for (const schedule of await this.store.claimSchedules(now, this.owner, LEASE_MS, 100)) await this.run(schedule, now);
    // after the schedules: a wake that cannot be announced (engine down) is retried after its lease, without holding them up
    const woken = await this.inbox.wake(now, this.owner, LEASE_MS);
    if (woken > 0) this.log.info('snoozed notifications woken', { count: woken });
    if (now - this.lastPurge >= PURGE_EVERY_MS) {
      this.lastPurge = now;
      await this.store.purge(now, IDEMPOTENCY_TTL_MS);
      await digestsOf(this.store)?.purge(now);
    }
  }

  private async run(schedule: Schedule, now: number): Promise<void> {
    const runAt = schedule.nextRunAt ?? now;
    try {
      const target = schedule.target;
      if (now - runAt > MISSED_MS) this.metrics?.schedulerMisses.inc();
      const idempotencyKey = `schedule:${schedule.id}:${runAt}`;
      if (target.type === 'publication') await this.publisher.publish(target.channel, target.data, { idempotencyKey, source: 'schedule' });
      else await this.inbox.create(target.users, target.notification, idempotencyKey);
      this.metrics?.schedulerRuns.inc({ outcome: 'ok' });
    } catch (err) {
      this.metrics?.schedulerRuns.inc({ outcome: 'failed' });
      // not completed: the lease runs out and the run is tried again (notifications by their idempotency key)
      this.log.warn('schedule run failed; retrying after the lease', { schedule: schedule.id, err: String(err) });
      return;
    }
    let next: number | null = null;
    try {
      next = nextRun(schedule.cron, schedule.timezone, Math.max(now, runAt));
    } catch (err) {
      this.log.error('schedule has a bad cron expression', { schedule: schedule.id, err: String(err) });
    }
    await this.store.completeSchedule(schedule.id, this.owner, now, next);
    this.log.info('schedule ran', { schedule: schedule.id, target: schedule.target.type, runAt: new Date(runAt).toISOString(), next: next === null ? null : new Date(next).toISOString() });
  }
}
