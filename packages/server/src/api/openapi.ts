import { ERROR_CODES, MAX_FILTER_TYPES, MAX_TAGS, SEVERITIES } from '@tidings/protocol';
import { preferenceAndActionPaths, preferenceAndActionSchemas } from './openapi-preferences.js';
import { DEFAULT_DIGEST_ITEMS, MAX_DIGEST_ITEMS, MAX_DIGEST_KEY, MAX_DIGEST_WINDOW, MAX_THROTTLE_LIMIT, MIN_DIGEST_WINDOW } from '../notifications/digest.js';

/** The OpenAPI 3.1 description of the server API, served at `/api/openapi.json`. */
export function openApiDocument(): object {
  const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
  const json = (schema: object) => ({ content: { 'application/json': { schema } } });
  const errors = {
    400: { description: 'Bad request (codes 107 bad_request, also for data or a payload nested deeper than maxDepth; 111 invalid_channel)', ...json(ref('Error')) },
    401: { description: 'Missing or wrong X-API-Key (101 unauthorized)', ...json(ref('Error')) },
    403: { description: 'Forbidden (103 permission_denied)', ...json(ref('Error')) },
    404: { description: 'Unknown namespace (102) or endpoint (114)', ...json(ref('Error')) },
    413: { description: 'Body over the maximum message size (112)', ...json(ref('Error')) },
    503: { description: 'Engine down or not answering; nothing was done (113). Notification and schedule calls: the store (PostgreSQL) unreachable or over its statement timeout (120)', ...json(ref('Error')) },
  };
  const unknown = { 504: { description: 'Sent to the engine but not confirmed: it may or may not have happened (119); `error.idempotencyKey` is the key to retry with', ...json(ref('Error')) } };
  const channelParam = { name: 'channel', in: 'query', required: true, schema: { type: 'string' } };
  return {
    openapi: '3.1.0',
    info: { title: 'Tidings server API', version: '1', description: 'Backend API of the Tidings real-time server. Every call needs the `X-API-Key` header.' },
    security: [{ apiKey: [] }],
    paths: {
      '/api/publish': {
        post: {
          summary: 'Publish to one channel',
          requestBody: { required: true, ...json({ type: 'object', required: ['channel', 'data'], properties: { channel: { type: 'string' }, data: {}, idempotencyKey: { type: 'string', maxLength: 255 } } }) },
          responses: { 200: { description: 'Published', ...json(ref('StreamPosition')) }, 409: { description: 'Idempotency key reused with other data (117)', ...json(ref('Error')) }, ...errors, ...unknown },
        },
      },
      '/api/broadcast': {
        post: {
          summary: 'Publish the same data to many channels (at most 1000)',
          requestBody: { required: true, ...json({ type: 'object', required: ['channels', 'data'], properties: { channels: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 1000 }, data: {}, idempotencyKey: { type: 'string', maxLength: 255 } } }) },
          responses: {
            200: {
              description: 'One result per channel: a position or an error; `idempotencyKey` is the key used for every channel (the one given, or one the server made)',
              ...json({ type: 'object', properties: { idempotencyKey: { type: 'string' }, results: { type: 'array', items: { type: 'object', properties: { channel: { type: 'string' }, offset: { type: 'integer' }, epoch: { type: 'string' }, error: ref('ErrorBody') } } } } }),
            },
            ...errors,
          },
        },
      },
      '/api/history': {
        get: {
          summary: 'Publications held for a channel',
          parameters: [channelParam, { name: 'since', in: 'query', schema: { type: 'integer', minimum: 0 }, description: 'Publications after this offset, oldest first; without it the latest `limit`' }, { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 0 } }],
          responses: { 200: { description: 'History', ...json({ type: 'object', properties: { position: ref('StreamPosition'), publications: { type: 'array', items: ref('Publication') } } }) }, ...errors },
        },
      },
      '/api/presence': {
        get: {
          summary: 'Clients subscribed to a channel (namespaces with presence on)',
          parameters: [channelParam],
          responses: { 200: { description: 'Clients by client id', ...json({ type: 'object', properties: { clients: { type: 'object', additionalProperties: ref('ClientInfo') } } }) }, ...errors },
        },
      },
      '/api/channels': {
        get: {
          summary: 'Channels with subscribers on every node of the cluster',
          description: 'Asks every node through the engine and waits at most 1 s for the nodes heard from in the last 3 ping intervals. `channels` sums the nodes that answered (`answered`); `missing` names those that did not; `complete` is false when a node is missing or reported more than 10,000 channels (it sends its busiest 10,000, `truncated`). On the memory engine, the node alone.',
          parameters: [{ name: 'nodes', in: 'query', schema: { type: 'string', enum: ['0', '1'] }, description: '1: add `nodes`, each answering node\'s own channels' }],
          responses: { 200: { description: 'Channels', ...json({
            type: 'object', required: ['channels', 'answered', 'missing', 'complete'],
            properties: {
              channels: { type: 'array', items: ref('ChannelCount') },
              answered: { type: 'array', items: { type: 'string' }, description: 'ids of the nodes counted, this one first' },
              missing: { type: 'array', items: { type: 'string' }, description: 'ids of live nodes that did not answer in time' },
              complete: { type: 'boolean' },
              nodes: { type: 'array', items: { type: 'object', properties: { node: { type: 'string' }, channels: { type: 'array', items: ref('ChannelCount') }, truncated: { type: 'boolean' } } } },
            },
          }) }, ...errors },
        },
      },
      '/api/disconnect': {
        post: {
          summary: 'Disconnect every connection of a user, on every node (close code 3502, no reconnect)',
          requestBody: { required: true, ...json({ type: 'object', required: ['user'], properties: { user: { type: 'string' }, reason: { type: 'string' } } }) },
          responses: { 200: { description: 'Done', ...json({ type: 'object' }) }, ...errors, ...unknown },
        },
      },
      ...notificationPaths(json, ref, errors),
      ...preferenceAndActionPaths(json, ref, errors),
      '/api/subscribe': {
        post: {
          summary: 'Server-side subscription: subscribe every connection of a user, on every node, to a channel (subscribed push with server: true), and remember it for the user\'s later connections and reconnects',
          requestBody: { required: true, ...json({ type: 'object', required: ['user', 'channel'], properties: { user: { type: 'string', maxLength: 255 }, channel: { type: 'string' }, since: ref('StreamPosition') } }) },
          responses: { 200: { description: 'Remembered and sent to the nodes; connections that cannot take it get an unsubscribed push (2000)', ...json(ref('SubscriptionAnswer')) }, 429: { description: 'The user already has maxSubscriptions remembered channels (106)', ...json(ref('Error')) }, ...errors, ...unknown },
        },
      },
      '/api/unsubscribe': {
        post: {
          summary: 'End a user\'s subscription to a channel (server-side or the client\'s own), on every node (unsubscribed push, code 2000), and forget the server-side one',
          requestBody: { required: true, ...json({ type: 'object', required: ['user', 'channel'], properties: { user: { type: 'string' }, channel: { type: 'string' }, reason: { type: 'string' } } }) },
          responses: { 200: { description: 'Forgotten and sent to the nodes', ...json(ref('SubscriptionAnswer')) }, ...errors, ...unknown },
        },
      },
    },
    components: {
      securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' } },
      schemas: {
        StreamPosition: { type: 'object', required: ['offset', 'epoch'], properties: { offset: { type: 'integer' }, epoch: { type: 'string' } } },
        ClientInfo: { type: 'object', properties: { client: { type: 'string' }, user: { type: 'string' } } },
        ChannelCount: { type: 'object', properties: { channel: { type: 'string' }, subscribers: { type: 'integer', description: 'connections subscribed (a waiting long poll counts while it waits)' } } },
        Publication: { type: 'object', properties: { channel: { type: 'string' }, offset: { type: 'integer' }, epoch: { type: 'string' }, data: {}, time: { type: 'integer' }, info: ref('ClientInfo'),
          headers: { type: 'object', additionalProperties: { type: 'string' }, description: 'User headers of the STOMP SEND that made it (docs/stomp.md, User headers).' } } },
        ErrorBody: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'integer', enum: ERROR_CODES.map((e) => e.code) }, message: { type: 'string' }, idempotencyKey: { type: 'string', description: 'With 119 outcome_unknown from a publish: repeat it with this key and it happens exactly once' } } },
        Error: { type: 'object', required: ['error'], properties: { error: ref('ErrorBody') } },
        SubscriptionAnswer: {
          type: 'object', required: ['remembered', 'sent'],
          description: 'What the server did (not what each connection did): the user\'s record was written or cleared, and the control message went to every node through a shared engine (cluster) or to this, the only, node',
          properties: { remembered: { const: true }, sent: { enum: ['cluster', 'node'] } },
        },
        Notification: {
          type: 'object', required: ['id', 'user', 'type', 'payload', 'createdAt'],
          properties: {
            id: { type: 'string' }, user: { type: 'string' }, type: { type: 'string' }, payload: {}, createdAt: { type: 'integer' }, deliverAt: { type: 'integer' }, expireAt: { type: 'integer' }, seenAt: { type: 'integer' }, readAt: { type: 'integer' },
            tags: ref('Tags'), severity: ref('Severity'), actions: ref('NotificationActions'), completed: ref('ActionCompletion'), digest: ref('NotificationDigest'),
            archivedAt: { type: 'integer', description: 'Archived then: out of the default list and counts' },
            snoozedUntil: { type: 'integer', description: 'Snoozed until then: out of the default list and counts; back by itself (announced)' },
          },
        },
        NotificationDigest: {
          type: 'object', description: 'A digest: `count` items merged, the latest payloads newest first; the notification\'s `payload` is the latest',
          properties: { key: { type: 'string' }, count: { type: 'integer' }, items: { type: 'array', items: {} }, closesAt: { type: 'integer' } },
        },
        DigestSpec: {
          type: 'object', required: ['key', 'window'], description: 'Merge this user\'s notifications with `key` within `window` ms into one (docs/notifications.md#digests-and-throttling)',
          properties: {
            key: { type: 'string', minLength: 1, maxLength: MAX_DIGEST_KEY }, window: { type: 'integer', minimum: MIN_DIGEST_WINDOW, maximum: MAX_DIGEST_WINDOW },
            mode: { enum: ['pushed', 'live'], default: 'pushed' }, items: { type: 'integer', minimum: 1, maximum: MAX_DIGEST_ITEMS, default: DEFAULT_DIGEST_ITEMS },
          },
        },
        ThrottleSpec: {
          type: 'object', required: ['key', 'limit', 'window'], description: 'At most `limit` notifications per user with `key` within `window` ms',
          properties: { key: { type: 'string', minLength: 1, maxLength: MAX_DIGEST_KEY }, limit: { type: 'integer', minimum: 1, maximum: MAX_THROTTLE_LIMIT }, window: { type: 'integer', minimum: MIN_DIGEST_WINDOW, maximum: MAX_DIGEST_WINDOW } },
        },
        Tags: { type: 'array', maxItems: MAX_TAGS, uniqueItems: true, items: { type: 'string', pattern: '^[A-Za-z0-9_.:/-]{1,64}$' } },
        Severity: { type: 'string', enum: [...SEVERITIES], description: 'Absent means info' },
        ...preferenceAndActionSchemas(ref),
        Schedule: {
          type: 'object',
          properties: { id: { type: 'string' }, cron: { type: 'string' }, timezone: { type: 'string' }, target: {}, createdAt: { type: 'integer' }, nextRunAt: { type: ['integer', 'null'] }, lastRunAt: { type: 'integer' } },
        },
      },
    },
  };
}

type Json = (schema: object) => object;
type Ref = (name: string) => object;

/** `/api/notifications*` and `/api/schedules*` (docs/notifications.md). */
function notificationPaths(json: Json, ref: Ref, errors: object): Record<string, object> {
  const user = { name: 'user', in: 'query', required: true, schema: { type: 'string' } };
  const unread = { 200: { description: 'The unread count after', ...json({ type: 'object', properties: { unread: { type: 'integer' } } }) }, ...errors };
  const markBody = (allowAll: boolean) => ({ required: true, ...json({ type: 'object', required: ['user'], properties: { user: { type: 'string' }, ids: { type: 'array', items: { type: 'string' }, maxItems: 1000 }, ...(allowAll ? { all: { const: true } } : {}) } }) });
  const time = { oneOf: [{ type: 'string', format: 'date-time' }, { type: 'integer' }] };
  const strings = (name: string, description: string, max?: number) => ({ name, in: 'query', description, schema: { type: 'array', items: { type: 'string' }, ...(max ? { maxItems: max } : {}) }, style: 'form', explode: true });
  const bool = (name: string, description: string) => ({ name, in: 'query', description, schema: { type: 'boolean' } });
  const filter = [
    bool('read', 'true: read ones only; false: unread ones only'), bool('seen', 'true: seen ones only; false: unseen ones only'),
    bool('archived', 'Default false (archived ones left out); true: archived ones only'), bool('snoozed', 'Default false (ones snoozed now left out); true: those only'),
    strings('type', 'Any of these types', MAX_FILTER_TYPES), strings('tag', 'Carrying any of these tags', MAX_TAGS), strings('severity', `Any of these severities (${SEVERITIES.join(', ')}; none given is info)`),
  ];
  const ids = { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 1000 };
  const unknownIds = { 404: { description: 'An id names no visible notification of the user: nothing changed (129 unknown_notification)', ...json(ref('Error')) } };
  const stateBody = (extra: object, required: string[]) => ({ required: true, ...json({ type: 'object', required: ['user', ...required], properties: { user: { type: 'string' }, ids, ...extra } }) });
  return {
    '/api/notifications': {
      post: {
        summary: 'Store notifications for one user or many (all or none), then announce them',
        requestBody: { required: true, ...json({ type: 'object', required: ['type', 'payload'], properties: { user: { type: 'string' }, users: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 10000 }, type: { type: 'string', maxLength: 100 }, payload: {}, idempotencyKey: { type: 'string' }, deliverAt: time, expireAt: time,
          tags: { ...ref('Tags'), description: 'users who muted any of them are skipped' }, severity: ref('Severity'), actions: ref('NotificationActions'), digest: ref('DigestSpec'), throttle: ref('ThrottleSpec') } }) },
        responses: { 200: { description: 'Stored for every user who did not mute it', ...json({ type: 'object', properties: { notifications: { type: 'array', items: ref('Notification') }, duplicate: { type: 'boolean' },
          skipped: { type: 'integer', description: 'users not given it: they muted its type or one of its tags (critical types excepted)' }, throttled: { type: 'integer', description: 'With `throttle`: users it held back (not delivered)' } } }) }, 409: { description: 'Idempotency key reused with other content (117)', ...json(ref('Error')) }, ...errors },
      },
      get: {
        summary: 'A user\'s visible notifications matching the filter (default: not archived, not snoozed), newest first, by cursor',
        parameters: [user, { name: 'cursor', in: 'query', schema: { type: 'string' } }, { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100 } }, { name: 'unread', in: 'query', schema: { type: 'boolean' } }, ...filter],
        responses: { 200: { description: 'A page', ...json({ type: 'object', properties: { notifications: { type: 'array', items: ref('Notification') }, cursor: { type: 'string' } } }) }, ...errors },
      },
      delete: {
        summary: 'Delete a user\'s notifications',
        parameters: [user, { name: 'id', in: 'query', required: true, schema: { type: 'array', items: { type: 'string' } }, style: 'form', explode: true }],
        responses: unread,
      },
    },
    '/api/notifications/unread-count': { get: { summary: 'A user\'s unread count: visible, unread, not archived, not snoozed now', parameters: [user], responses: unread } },
    '/api/notifications/count': {
      get: { summary: 'How many of a user\'s notifications match the filter', parameters: [user, ...filter], responses: { 200: { description: 'The count, and the unread count', ...json({ type: 'object', properties: { count: { type: 'integer' }, unread: { type: 'integer' } } }) }, ...errors } },
    },
    '/api/notifications/archive': { post: { summary: 'Archive (ids or all): out of the default list and counts on every device', requestBody: stateBody({ all: { const: true } }, []), responses: { ...unread, ...unknownIds } } },
    '/api/notifications/unarchive': { post: { summary: 'Unarchive (ids or all)', requestBody: stateBody({ all: { const: true } }, []), responses: { ...unread, ...unknownIds } } },
    '/api/notifications/snooze': {
      post: {
        summary: 'Snooze until a time 1 s to 90 days ahead: out of the default list and counts, back by itself then (announced)',
        requestBody: stateBody({ until: time }, ['ids', 'until']),
        responses: { ...unread, 400: { description: 'Bad request (107); `until` less than 1 s or more than 90 days ahead (128 snooze_out_of_range): nothing snoozed', ...json(ref('Error')) }, ...unknownIds },
      },
    },
    '/api/notifications/unsnooze': { post: { summary: 'End a snooze now', requestBody: stateBody({}, ['ids']), responses: { ...unread, ...unknownIds } } },
    '/api/notifications/read': { post: { summary: 'Mark read (ids or all)', requestBody: markBody(true), responses: unread } },
    '/api/notifications/unread': { post: { summary: 'Mark unread (ids)', requestBody: markBody(false), responses: unread } },
    '/api/notifications/seen': { post: { summary: 'Mark seen (ids or all)', requestBody: markBody(true), responses: unread } },
    '/api/schedules': {
      post: {
        summary: 'A cron schedule publishing to a channel or notifying users',
        requestBody: { required: true, ...json({ type: 'object', required: ['cron', 'target'], properties: { cron: { type: 'string' }, timezone: { type: 'string', default: 'UTC' }, target: { oneOf: [{ type: 'object', required: ['channel', 'data'], properties: { channel: { type: 'string' }, data: {} } }, { type: 'object', required: ['notification'], properties: { notification: { type: 'object', properties: { users: { type: 'array', items: { type: 'string' } }, type: { type: 'string' }, payload: {}, digest: ref('DigestSpec'), throttle: ref('ThrottleSpec') } } } }] } } }) },
        responses: { 200: { description: 'Created', ...json({ type: 'object', properties: { schedule: ref('Schedule') } }) }, ...errors },
      },
      get: { summary: 'All schedules', responses: { 200: { description: 'Schedules', ...json({ type: 'object', properties: { schedules: { type: 'array', items: ref('Schedule') } } }) }, ...errors } },
    },
    '/api/schedules/{id}': {
      delete: { summary: 'Cancel a schedule', parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }], responses: { 200: { description: 'Cancelled', ...json({ type: 'object' }) }, ...errors } },
    },
  };
}
