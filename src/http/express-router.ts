import { Router } from 'express';
import { createAdminHandler, type AdminRoutesOptions } from './admin-routes.js';

/**
 * /metrics and /api/mcp/* as an express Router, for host apps with their own server:
 * `app.use(createAdminRouter({ tracker, metrics: promClientRenderer(registry), endpoint: '/mcp' }))`.
 * Paths the router does not serve fall through to the app.
 */
export function createAdminRouter(options: AdminRoutesOptions): Router {
  const router = Router();
  router.use(createAdminHandler(options));
  return router;
}
