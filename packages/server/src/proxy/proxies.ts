import { ErrorCode } from '@tidings/protocol';
import type { Credentials } from '../auth/jwt.js';
import { TidingsError } from '../errors.js';
import type { ProxyOptions } from '../options.js';
import type { ProxyCaller } from './caller.js';
import type { ConnectRequest, WireProtocol } from './request.js';

/** Who a subscribe, publish, RPC or refresh call is for. */
export interface ProxyClient {
  /** The connection's id. */
  client: string;
  /** '' when anonymous. */
  user: string;
  transport: string;
  protocol: WireProtocol;
}

/**
 * The node's proxies to the app backend (docs/proxy.md): each method POSTs one call through the
 * shared ProxyCaller and returns what the backend allowed; a refusal throws a TidingsError with the
 * backend's application code (4000–4999), `{disconnect}` a ProxyDisconnect, a failure a ProxyError (124–127).
 */
export class Proxies {
  constructor(private readonly options: ProxyOptions, private readonly caller: ProxyCaller) {}

  /** Headers the connect proxy is sent (empty when it is off: nothing needs capturing). */
  get connectHeaders(): readonly string[] {
    return this.options.connect?.headers ?? [];
  }

  /** Whether the connect proxy is asked about a connection that brought `credentials` (never for an admin live token's). */
  wantsConnect(credentials: Credentials | undefined): boolean {
    const connect = this.options.connect;
    return connect !== undefined && credentials?.admin !== true && (connect.always || credentials === undefined);
  }

  /**
   * The connect seam of every transport: the credentials a connection goes on with. `credentials`
   * (a verified token, or none) are kept unless the connect proxy is on and they are absent (or
   * `always`); then the backend's `result` makes them (`expireAt` → `expires`, `channels` as the
   * server-side subscriptions a token's `subs` claim gives) and they are marked `proxied`.
   */
  async authenticate(credentials: Credentials | undefined, request: ConnectRequest, client: string, data: unknown): Promise<Credentials | undefined> {
    const connect = this.options.connect;
    if (connect === undefined || !this.wantsConnect(credentials)) return credentials;
    const body: Record<string, unknown> = { client, transport: request.transport, protocol: request.protocol, remoteAddr: request.remoteAddr, headers: request.headers };
    if (data !== undefined) body.data = data;
    const result = await this.caller.call('connect', connect, body);
    const creds: Credentials = { user: result.user, proxied: true };
    if (result.expireAt !== undefined) creds.expires = result.expireAt;
    if (result.channels !== undefined) creds.subs = result.channels;
    return creds;
  }

  /** Whether `credentials` are renewed through the refresh proxy when they expire (rather than the connection closing). */
  refreshes(credentials: Credentials | undefined): boolean {
    return this.options.refresh !== undefined && credentials?.proxied === true;
  }

  /**
   * `credentials` with the refresh proxy's new expiry (none when it gave none). Throws as the
   * other calls do, and TidingsError 109 when the new expiry has passed already.
   */
  async refresh(who: ProxyClient, credentials: Credentials): Promise<Credentials> {
    const refresh = this.options.refresh;
    if (refresh === undefined) throw new TidingsError(ErrorCode.TokenExpired, 'the session expired');
    const { expireAt } = await this.caller.call('refresh', refresh, { ...who });
    if (expireAt !== undefined && expireAt * 1000 <= Date.now()) throw new TidingsError(ErrorCode.TokenExpired, 'the refresh proxy gave an expiry in the past');
    const next: Credentials = { ...credentials };
    if (expireAt === undefined) delete next.expires;
    else next.expires = expireAt;
    return next;
  }

  /** Resolves when the backend allows `who` to subscribe to `channel`. */
  async subscribe(who: ProxyClient, channel: string): Promise<void> {
    const subscribe = this.options.subscribe;
    if (subscribe === undefined) throw new TidingsError(ErrorCode.NotAvailable, 'no subscribe proxy is configured');
    await this.caller.call('subscribe', subscribe, { ...who, channel });
  }

  /** The data to publish: the backend's `data` when it gave one, else the client's. */
  async publish(who: ProxyClient, channel: string, data: unknown): Promise<unknown> {
    const publish = this.options.publish;
    if (publish === undefined) throw new TidingsError(ErrorCode.NotAvailable, 'no publish proxy is configured');
    const result = await this.caller.call('publish', publish, { ...who, channel, data });
    return 'data' in result && result.data !== undefined ? result.data : data;
  }

  /** The backend's answer to an RPC (`{data}`, data absent when it gave none). */
  async rpc(who: ProxyClient, method: string, data: unknown): Promise<{ data?: unknown }> {
    const rpc = this.options.rpc;
    if (rpc === undefined) throw new TidingsError(ErrorCode.NotAvailable, 'RPC is not available: no RPC proxy is configured (--rpc-proxy)');
    const result = await this.caller.call('rpc', rpc, data === undefined ? { ...who, method } : { ...who, method, data });
    return result.data === undefined ? {} : { data: result.data };
  }

  /** Whether completed notification actions are reported (`proxy.notificationAction`). */
  get reportsActions(): boolean {
    return this.options.notificationAction !== undefined;
  }

  /**
   * Tells the backend a user completed a notification's action (the ActionReport shape of
   * notifications/actions.ts); resolves when it answered `{result: {}}`, throws as the other calls do.
   */
  async action(report: object): Promise<void> {
    const endpoint = this.options.notificationAction;
    if (endpoint === undefined) throw new TidingsError(ErrorCode.NotAvailable, 'no notification action proxy is configured');
    await this.caller.call('action', endpoint, report);
  }

  /** Reports suppressed log lines (the node's heartbeat). */
  flush(): void {
    this.caller.flush();
  }
}
