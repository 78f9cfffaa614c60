import { MAX_PREFERENCE_CHANGES, MAX_PREFERENCE_NAME } from '@tidings/protocol';
import { MAX_ACTION_LABEL, MAX_ACTION_PAYLOAD, MAX_ACTION_URL } from '../notifications/actions.js';

type Json = (schema: object) => object;
type Ref = (name: string) => object;

/** `/api/notifications/preferences` and `/api/notifications/action` (docs/notifications.md#preferences, #actions). */
export function preferenceAndActionPaths(json: Json, ref: Ref, errors: object): Record<string, object> {
  const user = { name: 'user', in: 'query', required: true, schema: { type: 'string' } };
  const answer = { 200: { description: 'The user\'s preferences after', ...json({ type: 'object', properties: { preferences: ref('Preferences') } }) } };
  return {
    '/api/notifications/preferences': {
      get: { summary: 'A user\'s notification preferences: configured and chosen types, muted tags', parameters: [user], responses: { ...answer, ...errors } },
      post: {
        summary: 'Change a user\'s preferences (all changes or none), announced as `preferences.updated` on `inbox:<user>`',
        requestBody: { required: true, ...json({
          type: 'object', required: ['user'],
          description: `At most ${MAX_PREFERENCE_CHANGES} changes; names of 1–${MAX_PREFERENCE_NAME} characters; a user keeps at most 1000 choices (106 past it)`,
          properties: {
            user: { type: 'string' },
            types: { type: 'object', additionalProperties: { type: ['boolean', 'null'] }, description: 'type → true mutes, false unmutes, null returns to the server default' },
            tags: { type: 'object', additionalProperties: { type: 'boolean' }, description: 'tag → true mutes, false unmutes' },
          },
        }) },
        responses: { ...answer, 409: { description: 'A critical type cannot be muted (130 type_critical); nothing changed', ...json(ref('Error')) }, 429: { description: 'Over 1000 choices (106)', ...json(ref('Error')) }, ...errors },
      },
    },
    '/api/notifications/action': {
      post: {
        summary: 'Complete a notification\'s action for its user: recorded, announced (`notification.updated`), reported through the action proxy',
        requestBody: { required: true, ...json({ type: 'object', required: ['user', 'id', 'action'], properties: { user: { type: 'string' }, id: { type: 'string' }, action: { enum: ['primary', 'secondary'] } } }) },
        responses: {
          200: { description: 'Recorded; `report` says whether the app backend was told', ...json(ref('ActionResult')) },
          404: { description: 'The user has no such visible notification (114)', ...json(ref('Error')) },
          409: { description: 'Its other action was completed already (131); nothing changed', ...json(ref('Error')) },
          ...errors,
        },
      },
    },
  };
}

/** Schemas of preferences and actions, and the Notification fields they add. */
export function preferenceAndActionSchemas(ref: Ref): Record<string, object> {
  return {
    NotificationAction: {
      type: 'object', required: ['label'],
      description: 'Exactly one of `url` and `payload`',
      properties: { label: { type: 'string', minLength: 1, maxLength: MAX_ACTION_LABEL }, url: { type: 'string', format: 'uri', maxLength: MAX_ACTION_URL }, payload: { description: `any JSON, at most ${MAX_ACTION_PAYLOAD} bytes` } },
    },
    NotificationActions: { type: 'object', required: ['primary'], properties: { primary: ref('NotificationAction'), secondary: ref('NotificationAction') } },
    ActionCompletion: { type: 'object', required: ['action', 'at', 'reported'], properties: { action: { enum: ['primary', 'secondary'] }, at: { type: 'integer' }, reported: { type: 'boolean' } } },
    ActionResult: {
      type: 'object', required: ['notification', 'report'],
      properties: { notification: ref('Notification'), report: { enum: ['sent', 'failed', 'off'], description: 'sent: the backend accepted it; failed: recorded, not reported (complete again to retry); off: no action proxy' } },
    },
    Preferences: {
      type: 'object', required: ['types', 'tags'],
      properties: {
        types: { type: 'object', additionalProperties: { type: 'object', properties: { muted: { type: 'boolean' }, critical: { type: 'boolean' } } } },
        tags: { type: 'array', items: { type: 'string' }, description: 'muted tags' },
      },
    },
  };
}
