/**
 * One benchmark server in its own process: `monitored` (this project, prom-client),
 * `monitored-otel` (this project, OpenTelemetry backend) or `bare` (the MCP SDK's
 * Streamable HTTP server on node:http, one McpServer per session, no monitoring).
 * All answer with JSON (enableJsonResponse) and offer the same `echo` tool.
 * It reports its port over IPC and answers { cmd: 'heap' } with the heap after GC.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { Registry } from 'prom-client';
import { z } from 'zod';
import { startMonitoredServer } from '../src/server.js';
import { createPrometheusReader, otelPrometheusRenderer, prometheusViews } from '../src/metrics/otel-prometheus.js';

function benchServer(): McpServer {
  const server = new McpServer({ name: 'bench', version: '1.0.0' });
  server.registerTool('echo', { description: 'echo', inputSchema: { text: z.string() } }, async ({ text }) => ({
    content: [{ type: 'text', text }],
  }));
  return server;
}

async function startBare(): Promise<number> {
  const transports = new Map<string, StreamableHTTPServerTransport>();
  const http = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = text === '' ? undefined : JSON.parse(text);
      } catch {
        res.writeHead(400).end();
        return;
      }
      const id = req.headers['mcp-session-id'];
      const existing = typeof id === 'string' ? transports.get(id) : undefined;
      if (existing) {
        await existing.handleRequest(req, res, body);
        return;
      }
      if (typeof id === 'string') {
        res.writeHead(404).end();
        return;
      }
      const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: randomUUID,
        enableJsonResponse: true,
        onsessioninitialized: (sid) => void transports.set(sid, transport),
      });
      transport.onclose = () => {
        if (transport.sessionId) transports.delete(transport.sessionId);
      };
      const server = benchServer();
      await server.connect(transport);
      await transport.handleRequest(req, res, body);
    })();
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', () => resolve()));
  return (http.address() as AddressInfo).port;
}

async function startMonitored(otel: boolean): Promise<number> {
  const common = { serverFactory: benchServer, port: 0, enableJsonResponse: true, sessionIdleTimeoutSeconds: 0 };
  if (!otel) return (await startMonitoredServer({ ...common, registry: new Registry() })).port;
  const reader = createPrometheusReader();
  const meterProvider = new MeterProvider({ readers: [reader], views: prometheusViews() });
  return (await startMonitoredServer({ ...common, registry: null, meterProvider, metricsRenderer: otelPrometheusRenderer(reader) })).port;
}

const kind = process.argv[2];
const port = kind === 'bare' ? await startBare() : await startMonitored(kind === 'monitored-otel');
const gc = (globalThis as { gc?: () => void }).gc;
process.on('message', (message: { cmd?: string }) => {
  if (message.cmd === 'heap') {
    for (let i = 0; i < 3; i++) gc?.();
    process.send?.({ heapUsed: process.memoryUsage().heapUsed });
  }
});
process.send?.({ port });
