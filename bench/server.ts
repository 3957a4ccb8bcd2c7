/**
 * The bench's server process. It hosts, each on a listener of its own:
 * - `bare` and `bare-b`: the MCP SDK's Streamable HTTP server on node:http, one McpServer
 *   per session, no monitoring (`bare-b` is the control: bare against bare shows the
 *   noise floor of the comparison);
 * - `monitored`: this project's server with the prom-client backend;
 * - `monitored-otel`: this project's server with the OpenTelemetry backend.
 * They share nothing but the process, and with it V8's compiled code for the SDK, which
 * every one of them runs: identical bare servers in separate processes were measured up
 * to 1.6x apart in CPU per call, as V8 optimizes the SDK's request path differently from
 * one process to the next.
 *
 * All offer the same `echo` tool and answer POSTs the same way: as an SSE stream (the
 * SDK's default, and `serve`'s) or, with the argument `json`, as JSON (enableJsonResponse).
 * The process reports `{ ports }` over IPC and answers `{ cmd: 'heap' }` with the heap
 * after GC, `{ cmd: 'cpu' }` with the CPU time it has used (user + system, microseconds),
 * and `{ cmd: 'exit' }` by exiting (so --cpu-prof writes its profile).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { Registry } from 'prom-client';
import { z } from 'zod';
import { startMonitoredServer } from '../src/server.js';
import { createPrometheusReader, prometheusRenderer } from '../src/cli/otel-prometheus.js';
import { prometheusViews } from '../src/metrics/otel-views.js';

// Not exported: importing this module starts the servers; the bench imports the type alone.
const SERVER_KINDS = ['bare', 'bare-b', 'monitored', 'monitored-otel'] as const;
export type ServerKind = (typeof SERVER_KINDS)[number];

function benchServer(): McpServer {
  const server = new McpServer({ name: 'bench', version: '1.0.0' });
  server.registerTool('echo', { description: 'echo', inputSchema: { text: z.string() } }, async ({ text }) => ({
    content: [{ type: 'text', text }],
  }));
  return server;
}

/**
 * A new session's transport and server. Built outside the request handler, so the
 * session's callbacks do not keep the initialize request and response alive (a closure
 * over the handler's scope would hold about 3 KiB per session).
 */
async function newBareSession(transports: Map<string, StreamableHTTPServerTransport>, json: boolean): Promise<StreamableHTTPServerTransport> {
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: randomUUID,
    enableJsonResponse: json,
    onsessioninitialized: (sid) => void transports.set(sid, transport),
  });
  transport.onclose = () => {
    if (transport.sessionId) transports.delete(transport.sessionId);
  };
  await benchServer().connect(transport);
  return transport;
}

/** The SDK's own Streamable HTTP server, as its README shows it, on node:http. */
async function startBare(json: boolean): Promise<HttpServer> {
  const transports = new Map<string, StreamableHTTPServerTransport>();
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
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
    const transport = await newBareSession(transports, json);
    await transport.handleRequest(req, res, body);
  };
  const http = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', () => resolve()));
  return http;
}

async function startMonitored(json: boolean, otel: boolean): Promise<HttpServer> {
  const common = { serverFactory: benchServer, port: 0, enableJsonResponse: json, sessionIdleTimeoutSeconds: 0 };
  if (!otel) return (await startMonitoredServer({ ...common, registry: new Registry() })).httpServer;
  const reader = createPrometheusReader();
  const meterProvider = new MeterProvider({ readers: [reader], views: prometheusViews() });
  return (await startMonitoredServer({ ...common, registry: null, meterProvider, metricsRenderer: prometheusRenderer(reader) })).httpServer;
}

async function start(kind: ServerKind, json: boolean): Promise<number> {
  const http = kind === 'bare' || kind === 'bare-b' ? await startBare(json) : await startMonitored(json, kind === 'monitored-otel');
  // The bench leaves a server's connections idle while it measures the others; with
  // Node's 5 s keep-alive timeout, the server would close them just as they are reused.
  http.keepAliveTimeout = 0;
  return (http.address() as AddressInfo).port;
}

const json = process.argv[2] === 'json';
const ports: Partial<Record<ServerKind, number>> = {};
for (const kind of SERVER_KINDS) ports[kind] = await start(kind, json);
const gc = (globalThis as { gc?: () => void }).gc;
process.on('message', (message: { cmd?: string }) => {
  if (message.cmd === 'heap') {
    for (let i = 0; i < 3; i++) gc?.();
    process.send?.({ heapUsed: process.memoryUsage().heapUsed });
  } else if (message.cmd === 'cpu') {
    const used = process.cpuUsage();
    process.send?.({ cpuMicros: used.user + used.system });
  } else if (message.cmd === 'exit') {
    process.exit(0);
  }
});
process.send?.({ ports });
