/**
 * The bench's monitored SDK v1 server as the library offers it: startMonitoredServer with
 * the bare server's `echo` tool, no demo, no process metrics, no log lines. `prom` or
 * `otel` picks the metrics backend. Prints {"port":N} on stdout once it listens.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { z } from 'zod';
import { createPrometheusReader, prometheusRenderer } from '../../src/cli/otel-prometheus.js';
import { prometheusViews } from '../../src/metrics/otel-views.js';
import { startMonitoredServer } from '../../src/server.js';

function echoServer(): McpServer {
  const server = new McpServer({ name: 'bench', version: '1.0.0' });
  server.registerTool('echo', { description: 'echo', inputSchema: { text: z.string() } }, async ({ text }) => ({ content: [{ type: 'text', text }] }));
  return server;
}

const backend = process.argv[2] ?? 'prom';
const reader = backend === 'otel' ? createPrometheusReader() : undefined;
const server = await startMonitoredServer({
  serverFactory: echoServer,
  port: 0,
  ...(reader ? { registry: null, meterProvider: new MeterProvider({ readers: [reader], views: prometheusViews() }), metricsRenderer: prometheusRenderer(reader) } : {}),
});
server.httpServer.keepAliveTimeout = 0;
process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);
// Ended by a signal, the process exits normally: a profile asked for with --cpu-prof is written.
process.once('SIGTERM', () => process.exit(0));
