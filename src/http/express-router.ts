import { createAdminHandler, type AdminHandler, type AdminRoutesOptions } from './admin-routes.js';

/**
 * /metrics and /api/mcp/* as middleware for an app with its own server (express, connect,
 * or plain node:http with a `next`): `app.use(createAdminRouter({ tracker, metrics:
 * promClientRenderer(registry), endpoint: '/mcp' }))`. Paths it does not serve fall through
 * to the app. It needs no express at run time and no `@types/express` to type-check.
 */
export function createAdminRouter(options: AdminRoutesOptions): AdminHandler {
  return createAdminHandler(options);
}
