/**
 * The SDK README's express server behind the SDK's own bearer auth, monitored. The monitor
 * goes before the auth, so refused requests are counted (`mcp_server_requests_rejected_total`
 * with reason="unauthorized"), and each connection shows the client id the auth verified
 * (`authClientId` in /api/mcp/connections), never its token. The admin routes take a token
 * of their own.
 */
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import express from 'express';
import { McpMonitor } from 'mcp-exporter';
import { addMcpRoutes } from './express-sessions.js';

/** Tokens this example accepts, and the client each belongs to. A real server asks its authorization server. */
export type TokenTable = ReadonlyMap<string, string>;

export function createApp(tokens: TokenTable, monitor = new McpMonitor({ adminToken: process.env.ADMIN_TOKEN })): express.Express {
  const verifier = {
    async verifyAccessToken(token: string): Promise<AuthInfo> {
      const clientId = tokens.get(token);
      if (clientId === undefined) throw new InvalidTokenError('Unknown token');
      return { token, clientId, scopes: [], expiresAt: Math.floor(Date.now() / 1000) + 3600 };
    },
  };
  const app = express();
  app.use(express.json());
  app.use('/mcp', monitor.middleware()); // mcp-exporter: before the auth, to count what it refuses
  app.use('/mcp', requireBearerAuth({ verifier }));
  app.use(monitor.adminHandler); // mcp-exporter: /metrics and /api/mcp/*, behind adminToken when set
  addMcpRoutes(app);
  return app;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.env.PORT ?? 3000);
  const tokens = new Map([[process.env.MCP_TOKEN ?? 'change-me', 'example-client']]);
  createApp(tokens).listen(port, '127.0.0.1', () => console.log(`MCP on http://127.0.0.1:${port}/mcp (bearer auth), metrics on /metrics`));
}
