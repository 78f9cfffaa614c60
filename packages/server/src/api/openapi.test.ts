import assert from 'node:assert/strict';
import { it } from 'node:test';
import { notificationRoutes } from './notifications.js';
import { openApiDocument } from './openapi.js';

it('documents every notification endpoint, with its method', () => {
  const paths = (openApiDocument() as { paths: Record<string, Record<string, unknown>> }).paths;
  for (const route of Object.keys(notificationRoutes)) {
    const [method, path] = route.split(' ') as [string, string];
    assert.ok(paths[path]?.[method.toLowerCase()], `${route} is in the OpenAPI document`);
  }
});
