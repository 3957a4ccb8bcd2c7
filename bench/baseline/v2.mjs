// The MCP SDK v2's own way to serve both eras: createMcpHandler (a server per request; 2025
// traffic served statelessly) mounted with toNodeHandler on node:http; the `echo` tool.
// Prints {"port":N} on stdout once it listens.
//
// `node v2.mjs [none|prom|otel] [nodeHandler|handler]`: with a metrics backend, monitored as
// a user mounts it: `monitor.nodeHandler(handler)` in place of toNodeHandler (the default),
// or `toNodeHandler(monitor.handler(handler))`; /metrics from monitor.adminHandler.
import { createServer } from 'node:http';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { listening, monitorOrNone } from './apps.mjs';

function echoServer() {
  const server = new McpServer({ name: 'bench', version: '1.0.0' });
  server.registerTool('echo', { description: 'echo', inputSchema: z.object({ text: z.string() }) }, async ({ text }) => ({ content: [{ type: 'text', text }] }));
  return server;
}

const handler = createMcpHandler(echoServer);
const monitor = await monitorOrNone();
if (!monitor) {
  listening(createServer(toNodeHandler(handler)));
} else {
  // mcp-exporter
  const mcp = process.argv[3] === 'handler' ? toNodeHandler(monitor.handler(handler)) : monitor.nodeHandler(handler);
  listening(createServer((req, res) => (req.url === '/mcp' ? void mcp(req, res) : monitor.adminHandler(req, res))));
}
