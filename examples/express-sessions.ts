/**
 * The SDK v1 README's express server (its own map of transports by session id), monitored:
 * three lines added, marked "mcp-exporter". Run it with `node dist-examples/express-sessions.js`
 * after `npm run build:examples`, or import `createApp` as the tests do.
 */
import { randomUUID } from 'node:crypto';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import express from 'express';
import { McpMonitor } from 'mcp-exporter';
import { z } from 'zod';

/** The server every example serves: one `echo` tool. */
export function buildServer(): McpServer {
  const server = new McpServer({ name: 'example-server', version: '1.0.0' });
  server.registerTool('echo', { description: 'Echoes its text', inputSchema: { text: z.string() } }, async ({ text }) => ({
    content: [{ type: 'text', text }],
  }));
  return server;
}

export function createApp(monitor = new McpMonitor()): express.Express {
  const app = express();
  app.use(express.json());
  app.use('/mcp', monitor.middleware()); // mcp-exporter: watch every MCP request and answer
  app.use(monitor.adminHandler); // mcp-exporter: /metrics and /api/mcp/*
  addMcpRoutes(app);
  return app;
}

/**
 * The SDK README's routes, unchanged: POST, GET and DELETE /mcp over a map of transports by
 * session id, a server from `build` per session. Returns a function that closes every session.
 */
export function addMcpRoutes(app: express.Express, build: () => McpServer = buildServer): () => Promise<void> {
  const transports: Record<string, StreamableHTTPServerTransport> = {};

  app.post('/mcp', async (req, res) => {
    const sessionId = req.headers['mcp-session-id'] as string | undefined;
    let transport: StreamableHTTPServerTransport;
    if (sessionId && transports[sessionId]) {
      transport = transports[sessionId];
    } else if (!sessionId && isInitializeRequest(req.body)) {
      transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => {
          transports[id] = transport;
        },
      });
      transport.onclose = () => {
        if (transport.sessionId) delete transports[transport.sessionId];
      };
      await build().connect(transport);
    } else {
      res.status(400).json({ jsonrpc: '2.0', error: { code: -32000, message: 'Bad Request: No valid session ID provided' }, id: null });
      return;
    }
    await transport.handleRequest(req, res, req.body);
  });

  const handleSessionRequest = async (req: express.Request, res: express.Response) => {
    const sessionId = req.headers['mcp-session-id'] as string | undefined;
    if (!sessionId || !transports[sessionId]) {
      res.status(400).send('Invalid or missing session ID');
      return;
    }
    await transports[sessionId].handleRequest(req, res);
  };
  app.get('/mcp', handleSessionRequest);
  app.delete('/mcp', handleSessionRequest);
  return async () => {
    await Promise.all(Object.values(transports).map((transport) => transport.close()));
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.env.PORT ?? 3000);
  createApp().listen(port, '127.0.0.1', () => console.log(`MCP on http://127.0.0.1:${port}/mcp, metrics on /metrics`));
}
