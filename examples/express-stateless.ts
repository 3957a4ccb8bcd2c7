/**
 * The SDK v1 README's stateless express server (a new server and transport per request, no
 * session ids), monitored: two lines added, marked "mcp-exporter". Every request is an
 * operation; there are no sessions to count.
 */
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import express from 'express';
import { McpMonitor } from 'mcp-exporter';
import { buildServer } from './express-sessions.js';

export function createApp(monitor = new McpMonitor()): express.Express {
  const app = express();
  app.use(express.json());
  app.use('/mcp', monitor.middleware()); // mcp-exporter
  app.use(monitor.adminHandler); // mcp-exporter: /metrics and /api/mcp/*

  app.post('/mcp', async (req, res) => {
    const server = buildServer();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });
  const notAllowed = (_req: express.Request, res: express.Response) => {
    res.status(405).json({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed.' }, id: null });
  };
  app.get('/mcp', notAllowed);
  app.delete('/mcp', notAllowed);
  return app;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.env.PORT ?? 3000);
  createApp().listen(port, '127.0.0.1', () => console.log(`MCP on http://127.0.0.1:${port}/mcp, metrics on /metrics`));
}
