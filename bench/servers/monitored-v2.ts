/**
 * The bench's monitored SDK v2 server: the same createMcpHandler as the bare one, in this
 * project's dependency tree, monitored the way the library offers it (McpMonitor's
 * nodeHandler in place of toNodeHandler). `prom` or `otel` picks the metrics backend.
 * Prints {"port":N} on stdout once it listens.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { z } from 'zod';
import { createPrometheusReader, otelPrometheusRenderer, prometheusViews } from '../../src/metrics/otel-prometheus.js';
import { McpMonitor } from '../../src/monitor.js';

function echoServer(): McpServer {
  const server = new McpServer({ name: 'bench', version: '1.0.0' });
  server.registerTool('echo', { description: 'echo', inputSchema: z.object({ text: z.string() }) }, async ({ text }) => ({ content: [{ type: 'text', text }] }));
  return server;
}

function monitor(backend: string): McpMonitor {
  if (backend !== 'otel') return new McpMonitor();
  const reader = createPrometheusReader();
  const meterProvider = new MeterProvider({ readers: [reader], views: prometheusViews() });
  return new McpMonitor({ registry: null, meterProvider, metricsRenderer: otelPrometheusRenderer(reader) });
}

const monitored = monitor(process.argv[2] ?? 'prom');
const mcp = monitored.nodeHandler(createMcpHandler(echoServer));
const http = createServer((req, res) => (req.url === '/mcp' ? void mcp(req, res) : monitored.adminHandler(req, res)));
http.keepAliveTimeout = 0;
http.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: (http.address() as AddressInfo).port })}\n`));
