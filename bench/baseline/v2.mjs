// The MCP SDK v2's own way to serve both eras: createMcpHandler (a server per request; 2025
// traffic served statelessly) mounted with toNodeHandler on node:http; the `echo` tool.
// No monitoring. Prints {"port":N} on stdout once it listens.
import { createServer } from 'node:http';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';

function echoServer() {
  const server = new McpServer({ name: 'bench', version: '1.0.0' });
  server.registerTool('echo', { description: 'echo', inputSchema: z.object({ text: z.string() }) }, async ({ text }) => ({ content: [{ type: 'text', text }] }));
  return server;
}

const http = createServer(toNodeHandler(createMcpHandler(echoServer)));
http.keepAliveTimeout = 0;
http.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: http.address().port })}\n`));
