import { Cron } from 'croner';
import { badRequest } from '../errors.js';

/** Throws bad_request unless `timezone` is an IANA zone this runtime knows (e.g. `Asia/Seoul`, `UTC`). */
export function checkTimezone(timezone: string): void {
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
  } catch {
    throw badRequest(`unknown timezone ${JSON.stringify(timezone)} (use an IANA name such as Europe/Berlin or UTC)`);
  }
}

/**
 * The first run of `cron` (5 fields, or 6 with seconds first) in `timezone` strictly after `after`
 * (ms); null when there is none. Throws bad_request for an expression that does not parse.
 */
export function nextRun(cron: string, timezone: string, after: number): number | null {
  let job: Cron;
  try {
    job = new Cron(cron, { timezone, paused: true });
  } catch (err) {
    throw badRequest(`cron expression ${JSON.stringify(cron)} does not parse: ${(err as Error).message}`);
  }
  return job.nextRun(new Date(after))?.getTime() ?? null;
}
