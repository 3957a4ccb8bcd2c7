/**
 * A stdio MCP server that monitors itself: the client that started it is one session
 * (transport="stdio"), every request an operation. stdout carries the protocol, so the
 * metrics and the admin API listen on a port of their own (METRICS_PORT, default 9464,
 * 0 for any; loopback only) and the one log line goes to stderr.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { McpMonitor } from 'mcp-exporter';
import { z } from 'zod';

const monitor = new McpMonitor(); // mcp-exporter
const admin = createServer(monitor.adminHandler); // mcp-exporter: /metrics and /api/mcp/*
admin.listen(Number(process.env.METRICS_PORT ?? 9464), '127.0.0.1', () => {
  process.stderr.write(`${JSON.stringify({ metrics: `http://127.0.0.1:${(admin.address() as AddressInfo).port}/metrics` })}\n`);
});

const server = new McpServer({ name: 'stdio-example', version: '1.0.0' });
server.registerTool('echo', { description: 'Echoes its text', inputSchema: { text: z.string() } }, async ({ text }) => ({
  content: [{ type: 'text', text }],
}));
const transport = new StdioServerTransport();
transport.onclose = () => admin.close();
await server.connect(monitor.stdio(transport)); // mcp-exporter: monitor.stdio(...) around the transport
