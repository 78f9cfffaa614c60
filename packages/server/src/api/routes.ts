import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CloseCode, ErrorCode } from '@tidings/protocol';
import type { ClusterView } from '../cluster-view.js';
import type { Engine } from '../engine/engine.js';
import { TidingsError, badRequest } from '../errors.js';
import { channelField, intParam, jsonObject, optionalString, userField } from './fields.js';
import { RequestGone, sendError, sendJson, sendProtocolError } from '../http/json.js';
import type { Metrics } from '../observability/metrics.js';
import { reasonOf, type Refusals } from '../observability/refusals.js';
import type { ServerOptions } from '../options.js';
import type { Publisher } from '../publisher.js';
import { cancelSchedule, notificationRoutes, type NotificationsHost } from './notifications.js';
import { openApiDocument } from './openapi.js';
import { subscribeRoute, unsubscribeRoute, type SubscriptionsHost } from './subscriptions.js';

/** What the server API needs from its node. */
export interface ApiHost extends NotificationsHost, SubscriptionsHost {
  readonly options: ServerOptions;
  readonly publisher: Publisher;
  readonly engine: Engine;
  readonly refusals: Refusals;
  readonly metrics: Metrics;
  readonly views: ClusterView;
}

const MAX_BROADCAST_CHANNELS = 1000;

/** One server API route: its answer (sent as JSON with 200), or it throws a TidingsError. */
export type Handler = (host: ApiHost, req: IncomingMessage, url: URL) => Promise<unknown>;

const routes: Record<string, Handler> = {
  'POST /api/publish': async (host, req) => {
    const body = await jsonObject(req, host.options.limits.maxMessageSize, host.options.limits.maxDepth);
    const channel = channelField(body.channel);
    if (body.data === undefined) throw badRequest('`data` is required');
    const pub = await host.publisher.publish(channel, body.data, { idempotencyKey: optionalString(body, 'idempotencyKey') });
    return { offset: pub.offset, epoch: pub.epoch };
  },

  'POST /api/broadcast': async (host, req) => {
    const body = await jsonObject(req, host.options.limits.maxMessageSize, host.options.limits.maxDepth);
    const channels = body.channels;
    if (!Array.isArray(channels) || channels.length === 0) throw badRequest('`channels` must be a non-empty array');
    if (channels.length > MAX_BROADCAST_CHANNELS) {
      throw new TidingsError(ErrorCode.LimitExceeded, `at most ${MAX_BROADCAST_CHANNELS} channels per broadcast`);
    }
    const names = channels.map(channelField);
    if (body.data === undefined) throw badRequest('`data` is required');
    host.publisher.checkData(body.data);
    const dataJson = JSON.stringify(body.data);
    // one key for every channel, so repeating the whole broadcast with it is exactly once per channel
    const key = optionalString(body, 'idempotencyKey') ?? randomBytes(12).toString('base64url');
    const results = await Promise.all(names.map(async (channel) => {
      try {
        const pub = await host.publisher.publish(channel, body.data, { idempotencyKey: key, dataJson });
        return { channel, offset: pub.offset, epoch: pub.epoch };
      } catch (err) {
        return { channel, error: host.publisher.mapError(err) };
      }
    }));
    return { results, idempotencyKey: key };
  },

  'GET /api/history': async (host, _req, url) => {
    const channel = channelField(url.searchParams.get('channel'));
    const since = intParam(url, 'since');
    const limit = intParam(url, 'limit');
    return host.publisher.history(channel, since, limit);
  },

  'GET /api/presence': async (host, _req, url) => {
    const channel = channelField(url.searchParams.get('channel'));
    return { clients: await host.publisher.presence(channel) };
  },

  'GET /api/channels': async (host, _req, url) => {
    const perNode = url.searchParams.get('nodes');
    if (perNode !== null && perNode !== '0' && perNode !== '1') throw badRequest('`nodes` must be 0 or 1');
    const { nodes, ...view } = await host.views.channels();
    return perNode === '1' ? { ...view, nodes } : view;
  },

  'POST /api/disconnect': async (host, req) => {
    const body = await jsonObject(req, host.options.limits.maxMessageSize, host.options.limits.maxDepth);
    const user = userField(body.user);
    const reason = optionalString(body, 'reason') ?? 'disconnected by the server';
    await host.engine.publishControl({ type: 'disconnect', user, code: CloseCode.ForceDisconnect, reason });
    return {};
  },

  'POST /api/subscribe': subscribeRoute,
  'POST /api/unsubscribe': unsubscribeRoute,
};

/** Serves `/api/*`. Every route but the OpenAPI document needs the `X-API-Key` header. */
export async function handleApi(host: ApiHost, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const name = routeName(req.method ?? 'GET', url.pathname);
  res.once('finish', () => host.metrics.apiRequests.inc({ route: name, status: String(res.statusCode) }));
  if (req.method === 'GET' && url.pathname === '/api/openapi.json') return sendJson(res, 200, openApiDocument());
  const route = apiRoute(req.method ?? 'GET', url.pathname);
  if (!route) return sendError(res, ErrorCode.NotFound, `no endpoint ${req.method} ${url.pathname}`);
  const denied = checkApiKey(host.options.apiKey, req.headers['x-api-key']);
  if (denied) {
    host.refusals.request('auth', req, ErrorCode.Unauthorized, denied);
    return sendError(res, ErrorCode.Unauthorized, denied);
  }
  try {
    sendJson(res, 200, await route(host, req, url));
  } catch (err) {
    if (err instanceof RequestGone) return;
    const e = host.publisher.mapError(err);
    host.refusals.request(reasonOf(e.code), req, e.code, e.message);
    sendProtocolError(res, e);
  }
}

/** The route's name for the metrics (`POST /api/publish`, `DELETE /api/schedules/:id`), `unknown` for none: bounded. */
function routeName(method: string, path: string): string {
  const key = `${method} ${path}`;
  if (Object.hasOwn(routes, key) || Object.hasOwn(notificationRoutes, key) || key === 'GET /api/openapi.json') return key;
  return method === 'DELETE' && /^\/api\/schedules\/[0-9a-z]{1,64}$/.test(path) ? 'DELETE /api/schedules/:id' : 'unknown';
}

/** The server API route for `method` and `path` (`/api/…`), without the API key check: the caller authenticates. */
export function apiRoute(method: string, path: string): Handler | undefined {
  const key = `${method} ${path}`;
  const exact = Object.hasOwn(routes, key) ? routes[key] : Object.hasOwn(notificationRoutes, key) ? notificationRoutes[key] : undefined;
  if (exact) return exact;
  const schedule = /^\/api\/schedules\/([0-9a-z]{1,64})$/.exec(path);
  if (schedule && method === 'DELETE') return (host) => cancelSchedule(host, schedule[1]!);
  return undefined;
}

function checkApiKey(configured: string | undefined, given: string | string[] | undefined): string | undefined {
  if (!configured) return 'the server API is disabled: no API key is configured (set --api-key or TIDINGS_API_KEY)';
  if (typeof given !== 'string' || given === '') return 'missing X-API-Key header';
  const a = Buffer.from(given);
  const b = Buffer.from(configured);
  if (a.length !== b.length || !timingSafeEqual(a, b)) return 'wrong API key';
  return undefined;
}
