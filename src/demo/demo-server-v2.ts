import { createMcpHandler, McpServer, type McpHttpHandler } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { DEMO_TOOLS } from './demo-server.js';

/** The demo server on the MCP SDK v2 (`@modelcontextprotocol/server`): the same tools, for the 2026-07-28 era. */
export function createDemoServerV2(): McpServer {
  const server = new McpServer({ name: 'mcp-exporter-demo', version: '0.1.0' });
  for (const tool of DEMO_TOOLS) {
    server.registerTool(tool.name, { description: tool.description, inputSchema: z.object(tool.shape) }, (args: Record<string, unknown>, ctx) =>
      tool.run(args, ctx.mcpReq.signal),
    );
  }
  return server;
}

/**
 * The demo's handler for requests of the 2026-07-28 era (a server per request, as the SDK v2
 * builds them). 2025 traffic is refused here: `serve` gives it sessions on the SDK v1 host.
 */
export function createDemoModernHandler(): McpHttpHandler {
  return createMcpHandler(() => createDemoServerV2(), { legacy: 'reject' });
}
