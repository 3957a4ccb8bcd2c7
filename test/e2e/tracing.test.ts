/**
 * Server spans by the OpenTelemetry MCP semantic conventions, recorded by the OpenTelemetry
 * SDK's in-memory exporter, for real SDK clients: the hosted server and the middleware in
 * front of the SDK README's express server. Exact names, kinds, attributes and parents; the
 * operation histogram's exemplar links the server span.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, McpServer as ModernServer } from '@modelcontextprotocol/server';
import { PassThrough } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createApp } from '../../examples/express-sessions.js';
import { createDemoServer } from '../../src/demo/demo-server.js';
import { McpMonitor } from '../../src/monitor.js';
import type { MonitoredServer } from '../../src/server.js';
import { startDemo } from '../helpers.js';
import { eventually } from '../prometheus-process.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';
const SERVER = 1; // SpanKind.SERVER
const ERROR = 2; // SpanStatusCode.ERROR

const exporter = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  exporter.reset();
});

/** A span as the conventions describe it: what the test compares. */
function view(span: ReadableSpan): Record<string, unknown> {
  return {
    name: span.name,
    kind: span.kind,
    status: span.status.code,
    parent: span.parentSpanContext?.spanId,
    trace: span.parentSpanContext ? span.spanContext().traceId : 'new',
    attributes: span.attributes,
  };
}

/**
 * A real SDK v1 client's session: a call in the client's trace (`_meta.traceparent`,
 * `tracestate`, `baggage`), a tool error, a method the server does not have (a JSON-RPC
 * error), a notification; then DELETE. Returns the session id.
 */
async function traffic(url: string): Promise<string> {
  const client = new Client({ name: 'traced-client', version: '1.0.0' }, { capabilities: { roots: { listChanged: true } } });
  const transport = new StreamableHTTPClientTransport(new URL(url));
  await client.connect(transport);
  const sessionId = transport.sessionId ?? '';
  await client.callTool({ name: 'echo', arguments: { text: 'hi' }, _meta: { traceparent: `00-${TRACE}-${CLIENT_SPAN}-01`, tracestate: 'vendor=a', baggage: 'tenant=t1' } });
  await client.callTool({ name: 'fail', arguments: {} });
  await client.request({ method: 'no/such/method', params: {} }, (await import('zod')).z.object({})).catch(() => {});
  await client.notification({ method: 'notifications/roots/list_changed' });
  await transport.terminateSession();
  await client.close();
  return sessionId;
}

/**
 * The spans every way in makes for `traffic`, in the order the operations ended. `failTool`:
 * `fail` where the server offers it (the demo), `other` where it does not (the express
 * example, which answers it with a tool error too).
 */
function expected(sessionId: string, version: string, failTool = 'fail'): Record<string, unknown>[] {
  const common = { 'mcp.protocol.version': version, 'network.transport': 'tcp' };
  return [
    // The initialize's span names the session its answer made.
    { name: 'initialize', kind: SERVER, status: 0, parent: undefined, trace: 'new', attributes: { 'mcp.method.name': 'initialize', 'jsonrpc.request.id': '0', 'mcp.session.id': sessionId, ...common } },
    {
      name: 'tools/call echo',
      kind: SERVER,
      status: 0,
      parent: CLIENT_SPAN,
      trace: TRACE,
      attributes: { 'mcp.method.name': 'tools/call', 'jsonrpc.request.id': '1', 'gen_ai.tool.name': 'echo', 'mcp.session.id': sessionId, ...common },
    },
    {
      name: `tools/call ${failTool}`,
      kind: SERVER,
      status: ERROR,
      parent: undefined,
      trace: 'new',
      attributes: { 'mcp.method.name': 'tools/call', 'jsonrpc.request.id': '2', 'gen_ai.tool.name': failTool, 'mcp.session.id': sessionId, 'error.type': 'tool_error', ...common },
    },
    {
      name: 'other',
      kind: SERVER,
      status: ERROR,
      parent: undefined,
      trace: 'new',
      attributes: { 'mcp.method.name': 'other', 'jsonrpc.request.id': '3', 'mcp.session.id': sessionId, 'error.type': '-32601', 'rpc.response.status_code': '-32601', ...common },
    },
  ];
}

/** An SDK v2 createMcpHandler with an `echo` tool. */
const echoHandler = () =>
  createMcpHandler(() => {
    const server = new ModernServer({ name: 'v2', version: '1.0.0' });
    server.registerTool('echo', { inputSchema: z.object({ text: z.string() }) }, ({ text }) => ({ content: [{ type: 'text', text }] }));
    return server;
  });

/** A 2026-07-28 client (SDK v2, pinned) of the server at `base`. */
async function modernClient(base: string): Promise<ModernClient> {
  const client = new ModernClient({ name: 'modern-client', version: '2.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
  await client.connect(new ModernTransport(new URL(`${base}/mcp`)));
  return client;
}

async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  closers.push(() => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(resolve);
  }));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('a SERVER span for every operation', () => {
  it('hosted (startMonitoredServer): names, kinds, attributes, the client context from _meta as parent; no span for a notification', async () => {
    const server: MonitoredServer = await startDemo({ tracerProvider });
    closers.push(() => server.close());
    const sessionId = await traffic(server.url);
    const spans = exporter.getFinishedSpans();
    expect(spans.map(view)).toEqual(expected(sessionId, '2025-11-25'));
    // The tracestate came with the parent.
    const call = spans[1];
    expect(call?.parentSpanContext?.traceState?.get('vendor')).toBe('a');
    expect(call?.parentSpanContext?.isRemote).toBe(true);
  });

  it('middleware() in front of the SDK README express server: the same spans', async () => {
    const monitor = new McpMonitor({ tracerProvider });
    closers.push(() => monitor.close());
    const base = await listen(createServer(createApp(monitor)));
    const sessionId = await traffic(`${base}/mcp`);
    expect(exporter.getFinishedSpans().map(view)).toEqual(expected(sessionId, '2025-11-25', 'other'));
  });

  it('nodeHandler around an SDK v2 createMcpHandler, 2026-07-28 requests: no session id, the version each request names; a listen stream is a span for its life', async () => {
    const monitor = new McpMonitor({ tracerProvider });
    closers.push(() => monitor.close());
    const handler = echoHandler();
    const mcp = monitor.nodeHandler(handler);
    const base = await listen(createServer((req, res) => void mcp(req, res)));
    const client = await modernClient(base);
    await client.callTool({ name: 'echo', arguments: { text: 'hi' }, _meta: { traceparent: `00-${TRACE}-${CLIENT_SPAN}-01` } });
    // A listen stream: its span lasts from the request to the stream's end.
    const subscription = await client.listen({ toolsListChanged: true });
    await subscription.close();
    await client.close();
    await eventually('the listen span', async () => (exporter.getFinishedSpans().length === 3 ? true : undefined));
    const common = { 'mcp.protocol.version': '2026-07-28', 'network.transport': 'tcp' };
    expect(exporter.getFinishedSpans().map(view)).toEqual([
      { name: 'server/discover', kind: SERVER, status: 0, parent: undefined, trace: 'new', attributes: { 'mcp.method.name': 'server/discover', 'jsonrpc.request.id': 'server-discover-probe-1', ...common } },
      {
        name: 'tools/call echo',
        kind: SERVER,
        status: 0,
        parent: CLIENT_SPAN,
        trace: TRACE,
        attributes: { 'mcp.method.name': 'tools/call', 'gen_ai.tool.name': 'echo', 'jsonrpc.request.id': '0', ...common },
      },
      { name: 'subscriptions/listen', kind: SERVER, status: 0, parent: undefined, trace: 'new', attributes: { 'mcp.method.name': 'subscriptions/listen', 'jsonrpc.request.id': 'listen:0', ...common } },
    ]);
  });

  it('handler() under toNodeHandler: the same span for a traced call', async () => {
    const monitor = new McpMonitor({ tracerProvider });
    closers.push(() => monitor.close());
    const handler = echoHandler();
    const base = await listen(createServer(toNodeHandler(monitor.handler(handler))));
    const client = await modernClient(base);
    await client.callTool({ name: 'echo', arguments: { text: 'hi' }, _meta: { traceparent: `00-${TRACE}-${CLIENT_SPAN}-01` } });
    await client.close();
    expect(exporter.getFinishedSpans().map(view).filter((span) => span.name === 'tools/call echo')).toEqual([
      {
        name: 'tools/call echo',
        kind: SERVER,
        status: 0,
        parent: CLIENT_SPAN,
        trace: TRACE,
        attributes: { 'mcp.method.name': 'tools/call', 'gen_ai.tool.name': 'echo', 'jsonrpc.request.id': '0', 'mcp.protocol.version': '2026-07-28', 'network.transport': 'tcp' },
      },
    ]);
  });

  it('monitor.stdio(): network.transport pipe, no session id', async () => {
    const monitor = new McpMonitor({ tracerProvider });
    closers.push(() => monitor.close());
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await createDemoServer().connect(monitor.stdio(serverSide, new PassThrough()));
    const client = new Client({ name: 'stdio-client', version: '1.0.0' });
    await client.connect(clientSide);
    await client.callTool({ name: 'echo', arguments: { text: 'hi' } });
    await client.close();
    expect(exporter.getFinishedSpans().map((span) => [span.name, span.attributes['network.transport'], span.attributes['mcp.session.id'], span.attributes['mcp.protocol.version']])).toEqual([
      ['initialize', 'pipe', undefined, '2025-11-25'],
      ['tools/call echo', 'pipe', undefined, '2025-11-25'],
    ]);
  });

  it("links the latency exemplar to the server span (not the client's), also when the client sent no trace", async () => {
    const registry = new Registry();
    const server = await startDemo({ tracerProvider, registry });
    closers.push(() => server.close());
    await traffic(server.url);
    const spans = exporter.getFinishedSpans();
    const metrics = await (await fetch(`${server.url.replace(/\/mcp$/, '')}/metrics`, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } })).text();
    const exemplarOf = (tool: string): string | undefined =>
      metrics
        .split('\n')
        .find((line) => line.startsWith('mcp_server_operation_duration_seconds_bucket{') && line.includes(`mcp_method_name="tools/call",gen_ai_tool_name="${tool}"`) && line.includes(' # {'))
        ?.replace(/^.* # \{trace_id="([0-9a-f]+)",span_id="([0-9a-f]+)"\}.*$/, '$1 $2');
    const spanOf = (name: string): string => {
      const span = spans.find((s) => s.name === name);
      return `${span?.spanContext().traceId} ${span?.spanContext().spanId}`;
    };
    expect(exemplarOf('echo')).toBe(spanOf('tools/call echo'));
    expect(exemplarOf('echo')?.startsWith(`${TRACE} `)).toBe(true);
    expect(exemplarOf('fail')).toBe(spanOf('tools/call fail'));
  });

  it('with no tracerProvider: none while no SDK is registered globally, then the same spans once one is', async () => {
    const monitor = new McpMonitor();
    closers.push(() => monitor.close());
    const base = await listen(createServer(createApp(monitor)));
    await traffic(`${base}/mcp`);
    expect(exporter.getFinishedSpans()).toEqual([]);
    // Registered after the monitor was made, as an app that starts its SDK late does.
    expect(trace.setGlobalTracerProvider(tracerProvider)).toBe(true);
    closers.push(async () => trace.disable());
    const sessionId = await traffic(`${base}/mcp`);
    expect(exporter.getFinishedSpans().map(view)).toEqual(expected(sessionId, '2025-11-25', 'other'));
  });

  it('makes none with tracerProvider: null, and keeps the client trace as the exemplar', async () => {
    const server = await startDemo({ tracerProvider: null });
    closers.push(() => server.close());
    await traffic(server.url);
    expect(exporter.getFinishedSpans()).toEqual([]);
    const metrics = await (await fetch(`${server.url.replace(/\/mcp$/, '')}/metrics`, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } })).text();
    expect(metrics).toContain(`# {trace_id="${TRACE}",span_id="${CLIENT_SPAN}"}`);
  });
});
