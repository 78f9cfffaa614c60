import { ErrorCode, type ActionName, type ActionResult, type Notification, type NotificationAction, type NotificationActions } from '@tidings/protocol';
import { TidingsError, badRequest } from '../errors.js';
import type { Logger } from '../log.js';

/** Longest action label, in characters. */
export const MAX_ACTION_LABEL = 64;
/** Longest action URL, in characters. */
export const MAX_ACTION_URL = 2048;
/** Largest action payload, in bytes of JSON. */
export const MAX_ACTION_PAYLOAD = 4096;

/** Where notifications' completions are recorded: MemoryStore, SqliteStore, PostgresStore. */
export interface ActionStore {
  /**
   * Records that `user` completed `action` of their visible notification `id`, unless a
   * completion is recorded already (then nothing changes). Resolves with the notification after and
   * whether this call recorded it; undefined when the user has no such visible notification.
   */
  completeAction(user: string, id: string, action: ActionName, now: number): Promise<{ notification: Notification; recorded: boolean } | undefined>;

  /** Marks the recorded completion of the user's notification `id` reported; resolves with the notification after. */
  setActionReported(user: string, id: string): Promise<Notification | undefined>;
}

/** What the app's backend is sent when a user completes an action (docs/notifications.md#actions). */
export interface ActionReport {
  user: string;
  notification: { id: string; type: string; payload: unknown; createdAt: number };
  action: ActionName;
  label: string;
  url?: string;
  payload?: unknown;
  completedAt: number;
  /** The connection that completed it; absent when the server API did. */
  client?: string;
}

/** Tells the app's backend (the action proxy); resolves when it accepted, throws a TidingsError otherwise. */
export type ActionReporter = (report: ActionReport) => Promise<void>;

/** Counts what became of each report (`tidings_notification_actions_total{report}`). */
export type ActionCounter = (report: ActionResult['report']) => void;

/** `actions` of a create, checked: `{primary, secondary?}`, each `{label, url}` or `{label, payload}`; bad_request otherwise. */
export function parseActions(v: unknown): NotificationActions | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw badRequest('`actions` must be {primary, secondary?}');
  const { primary, secondary, ...rest } = v as Record<string, unknown>;
  if (Object.keys(rest).length > 0) throw badRequest('`actions` takes only `primary` and `secondary`');
  if (primary === undefined) throw badRequest('`actions.primary` is required when `actions` is given');
  const out: NotificationActions = { primary: parseAction(primary, 'primary') };
  if (secondary !== undefined) out.secondary = parseAction(secondary, 'secondary');
  return out;
}

function parseAction(v: unknown, name: ActionName): NotificationAction {
  const where = `\`actions.${name}\``;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw badRequest(`${where} must be {label, url} or {label, payload}`);
  const { label, url, payload, ...rest } = v as Record<string, unknown>;
  if (Object.keys(rest).length > 0) throw badRequest(`${where} takes only \`label\`, \`url\` and \`payload\``);
  if (typeof label !== 'string' || label === '' || label.length > MAX_ACTION_LABEL || !(label as string & { isWellFormed(): boolean }).isWellFormed()) {
    throw badRequest(`${where}.label must be 1–${MAX_ACTION_LABEL} characters`);
  }
  if ((url === undefined) === (payload === undefined)) throw badRequest(`${where} needs either \`url\` or \`payload\``);
  if (url !== undefined) {
    if (typeof url !== 'string' || url.length > MAX_ACTION_URL || !/^https?:\/\//i.test(url) || !URL.canParse(url)) {
      throw badRequest(`${where}.url must be an http(s) URL of at most ${MAX_ACTION_URL} characters`);
    }
    return { label, url };
  }
  if (Buffer.byteLength(JSON.stringify(payload)) > MAX_ACTION_PAYLOAD) throw badRequest(`${where}.payload is over ${MAX_ACTION_PAYLOAD} bytes of JSON`);
  return { label, payload };
}

/**
 * Completing a notification's action: recorded first (durable), then reported to the app's
 * backend through the action proxy, then told to the user's devices (`notification.updated`).
 * A report that fails leaves the completion recorded with `reported: false`, logged and counted;
 * completing the same action again retries the report (at most once per call, never automatically).
 */
export class InboxActions {
  constructor(
    private readonly store: ActionStore,
    private readonly reporter: ActionReporter | undefined,
    private readonly updated: (user: string, notifications: Notification[]) => Promise<void>,
    private readonly log: Logger,
    private readonly count: ActionCounter,
  ) {}

  /**
   * Completes `action` of the user's notification `id`. Throws TidingsError 114 when the user has
   * no such notification, 107 when it has no such action, 131 when another action was completed.
   */
  async complete(user: string, id: string, action: ActionName, client?: string): Promise<ActionResult> {
    const done = await this.store.completeAction(user, id, action, Date.now());
    if (!done) throw new TidingsError(ErrorCode.NotFound, `no notification ${JSON.stringify(id.slice(0, 64))} in the inbox`);
    let n = done.notification;
    const chosen = n.actions?.[action];
    if (!chosen) throw badRequest(`notification ${id} has no ${action} action`);
    const completed = n.completed;
    if (completed && completed.action !== action) throw new TidingsError(ErrorCode.ActionCompleted, `the ${completed.action} action of notification ${id} was completed already`);
    if (completed?.reported) return { notification: n, report: 'sent' };
    let report: ActionResult['report'] = 'off';
    if (this.reporter && completed) {
      const body: ActionReport = {
        user, notification: { id: n.id, type: n.type, payload: n.payload, createdAt: n.createdAt }, action, label: chosen.label, completedAt: completed.at,
      };
      if (chosen.url !== undefined) body.url = chosen.url;
      if (chosen.payload !== undefined) body.payload = chosen.payload;
      if (client !== undefined) body.client = client;
      try {
        await this.reporter(body);
        n = (await this.store.setActionReported(user, id)) ?? n;
        report = 'sent';
      } catch (err) {
        report = 'failed';
        this.log.warn('notification action recorded but not reported', { notification: id, action, err: String(err) });
      }
    }
    this.count(report);
    if (done.recorded || report === 'sent') await this.updated(user, [n]);
    return { notification: n, report };
  }
}
