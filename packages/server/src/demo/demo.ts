import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SignJWT } from 'jose';
import { ErrorCode } from '@tidings/protocol';
import { AuthError } from '../auth/jwt.js';
import { TidingsError, badRequest } from '../errors.js';
import { isObject, readJson, sendError, sendJson } from '../http/json.js';
import type { Logger } from '../log.js';
import type { Inbox } from '../notifications/inbox.js';
import type { Publisher } from '../publisher.js';
import { PageAssets, type PagesPackage } from '../static/pages.js';
import type { TimerWheel } from '../timer.js';
import { RateWindow } from './rate.js';
import { DemoTicker } from './ticker.js';

/** Seconds a demo token is valid. */
export const DEMO_TOKEN_TTL = 600;
/** A demo name: 1–32 letters, digits, `_`, `-` or `.` (it becomes the user id, and `inbox:<name>`). */
export const DEMO_NAME = /^[A-Za-z0-9_.-]{1,32}$/;
/** What `POST /demo/notify` says, in turn. */
const SAMPLES: ReadonlyArray<{ title: string; body: string }> = [
  { title: 'Your build passed', body: 'main is green again after 3 commits' },
  { title: 'New comment on your post', body: '"Does this work over SSE too?"' },
  { title: 'Price alert: TIDE moved', body: 'See the ticker for the live price' },
  { title: 'Ada mentioned you', body: 'in chat:lobby' },
  { title: 'Weekly report is ready', body: '12 channels, 3 transports, 0 lost messages' },
];
/** Bytes a demo request body may have. */
const MAX_BODY = 1024;

/** What the demo needs from its node. */
export interface DemoHost {
  readonly publisher: Publisher;
  readonly inbox: Inbox;
  readonly timers: TimerWheel;
  readonly log: Logger;
  /** The user a token is for; throws when the token is refused. */
  verify(token: string): Promise<{ user: string }>;
  /** The client's address, for the request budget. */
  clientAddress(req: IncomingMessage): string | undefined;
}

/** A fresh random HS256 secret (base64url of 32 bytes), for a demo started without `jwt.secret`. */
export function ephemeralSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The demo behind `--demo` (docs/demo.md; never in production):
 * - `GET /demo/…`: the page from `@tidings/pages` (PageAssets);
 * - `POST /demo/token {name}` → `{token, user, expires}`: an HS256 token for `name` (DEMO_NAME),
 *   valid DEMO_TOKEN_TTL seconds, signed with `secret` (anyone may ask for any name);
 * - `POST /demo/notify` with `Authorization: Bearer <token>` → `{notification}`: a notification
 *   for the token's user, stored and announced through the inbox like one made by the API;
 * - the ticker (DemoTicker) while started.
 * Both POSTs share a budget of 20 per client address and 600 in all per 10 s (429, code 106 beyond).
 */
export class Demo {
  readonly assets: PageAssets;
  private readonly ticker: DemoTicker;
  private readonly key: Uint8Array;
  private readonly budget = new RateWindow({ perKey: 20, total: 600, windowMs: 10_000, maxKeys: 4096 });
  private count = 0;

  constructor(private readonly host: DemoHost, secret: string, pkg?: PagesPackage) {
    this.key = new TextEncoder().encode(secret);
    this.assets = new PageAssets('demo', pkg);
    this.ticker = new DemoTicker(host.publisher, host.timers, host.log);
  }

  start(): void {
    this.ticker.start();
  }

  stop(): void {
    this.ticker.stop();
  }

  /** True for the paths the demo answers: `/demo` and below `/demo/`. */
  owns(path: string): boolean {
    return this.assets.owns(path);
  }

  handle(req: IncomingMessage, res: ServerResponse, path: string): void {
    if (path !== '/demo/token' && path !== '/demo/notify') return this.assets.handle(req, res, path);
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return sendError(res, ErrorCode.NotFound, `${path} answers POST only`, 405);
    }
    if (!this.budget.allow(this.host.clientAddress(req) ?? '', Date.now())) {
      return sendError(res, ErrorCode.LimitExceeded, 'too many demo requests: try again in a few seconds');
    }
    const answer = path === '/demo/token' ? this.token(req) : this.notify(req);
    answer.then((body) => sendJson(res, 200, body), (err: unknown) => {
      if (err instanceof TidingsError || err instanceof AuthError) return sendError(res, err.code, err.message);
      this.host.log.error('demo failure', { path, err: String(err) });
      sendError(res, ErrorCode.Internal, 'internal error');
    });
  }

  private async token(req: IncomingMessage): Promise<{ token: string; user: string; expires: number }> {
    const body = await readJson(req, MAX_BODY, 2);
    const name = isObject(body) ? body.name : undefined;
    if (typeof name !== 'string' || !DEMO_NAME.test(name)) throw badRequest('`name` must be 1–32 letters, digits, _, - or .');
    const expires = Math.floor(Date.now() / 1000) + DEMO_TOKEN_TTL;
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(name).setIssuedAt().setExpirationTime(expires).sign(this.key);
    return { token, user: name, expires };
  }

  private async notify(req: IncomingMessage): Promise<{ notification: unknown }> {
    const auth = req.headers.authorization ?? '';
    const token = /^Bearer (\S{1,4096})$/.exec(auth)?.[1];
    if (token === undefined) throw new TidingsError(ErrorCode.Unauthorized, 'send the demo token as Authorization: Bearer <token>');
    const { user } = await this.host.verify(token);
    const sample = SAMPLES[this.count++ % SAMPLES.length]!;
    const { notifications } = await this.host.inbox.create([user], { type: 'demo', payload: sample });
    return { notification: notifications[0] };
  }
}
