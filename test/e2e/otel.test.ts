import { spawnSync } from 'node:child_process';
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { metrics } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createDemoModernHandler } from '../../src/demo/demo-server-v2.js';
import { createPrometheusReader, prometheusRenderer } from '../../src/cli/otel-prometheus.js';
import { prometheusViews } from '../../src/metrics/otel-views.js';
import type { MonitoredServer } from '../../src/server.js';
import { useCliProcesses } from '../cli-process.js';
import { connectClient, postRaw, seriesOf, startDemo, type ConnectedClient } from '../helpers.js';

const REFERENCE_FAMILIES = [
  'mcp_server_sessions_active',
  'mcp_server_sessions_total',
  'mcp_server_sessions_closed_total',
  'mcp_server_session_duration_seconds',
  'mcp_server_operation_duration_seconds',
  'mcp_server_requests_rejected_total',
  'mcp_server_subscriptions_active',
  'mcp_server_subscriptions_total',
  'mcp_server_subscription_duration_seconds',
  'mcp_server_client_requests_total',
];

const servers: MonitoredServer[] = [];
const clients: ConnectedClient[] = [];
const { start } = useCliProcesses();

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.client.close().catch(() => {})));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** Every sample of the families docs/reference.md lists as `name{sorted labels}` -> value, otel_scope_* labels left out. */
function series(exposition: string): Map<string, string> {
  return seriesOf(exposition, (name) => REFERENCE_FAMILIES.some((family) => name.startsWith(family)));
}

async function scriptedTraffic(server: MonitoredServer): Promise<void> {
  const a = await connectClient(server.url, 'alpha');
  const b = await connectClient(server.url, 'beta');
  clients.push(a, b);
  await a.client.listTools();
  await a.client.callTool({ name: 'echo', arguments: { text: 'x' } });
  await a.client.callTool({ name: 'fail', arguments: {} });
  await b.client.callTool({ name: 'sleep', arguments: { ms: 15 } });
  await b.client.ping();
  await expect(b.client.listPrompts()).rejects.toThrow(/Method not found/);
  // The 2026-07-28 era: a pinned SDK v2 client calls and listens.
  const modern = new ClientV2({ name: 'modern', version: '2.4.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
  await modern.connect(new TransportV2(new URL(server.url)));
  await modern.callTool({ name: 'echo', arguments: { text: 'new era' } });
  const subscription = await modern.listen({ toolsListChanged: true });
  await subscription.close();
  await modern.close();
  await (await postRaw(server.url, '{not json')).text();
  await (await postRaw(server.url, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }), { 'mcp-session-id': 'nope' })).text();
  await a.transport.terminateSession();
}

describe('OpenTelemetry backend', () => {
  it('gives the same series, labels and values as prom-client for the same traffic', async () => {
    const registry = new Registry();
    const reader = createPrometheusReader();
    const meterProvider = new MeterProvider({ readers: [reader], views: prometheusViews() });
    let listenClosed: () => void = () => {};
    const closed = new Promise<void>((resolve) => (listenClosed = resolve));
    const server = await startDemo({
      registry,
      meterProvider,
      modernHandler: createDemoModernHandler(),
      monitor: { onConnectionClosed: (_id, _ms, info) => void (info.kind === 'subscription' && listenClosed()) },
    });
    servers.push(server);
    await scriptedTraffic(server);
    await closed;
    await server.close();

    const fromProm = series(await registry.metrics());
    const fromOtel = series((await prometheusRenderer(reader)(undefined)).body);
    expect([...fromOtel.keys()].sort()).toEqual([...fromProm.keys()].sort());
    expect(Object.fromEntries(fromOtel)).toEqual(Object.fromEntries(fromProm));
    // The traffic reached every family.
    expect(fromProm.get('mcp_server_sessions_total{client_name="alpha",transport="streamable_http"}')).toBe('1');
    expect(fromProm.get('mcp_server_session_duration_seconds_count{reason="client_delete",transport="streamable_http"}')).toBe('1');
    expect(fromProm.get('mcp_server_session_duration_seconds_count{reason="server_shutdown",transport="streamable_http"}')).toBe('1');
    expect(fromProm.get('mcp_server_operation_duration_seconds_count{error_type="tool_error",gen_ai_tool_name="fail",mcp_method_name="tools/call",mcp_protocol_version="2025-11-25"}')).toBe('1');
    expect(fromProm.get('mcp_server_operation_duration_seconds_count{error_type="-32601",gen_ai_tool_name="",mcp_method_name="prompts/list",mcp_protocol_version="2025-11-25"}')).toBe('1');
    expect(fromProm.get('mcp_server_client_requests_total{client_name="beta",mcp_protocol_version="2025-11-25"}')).toBe('4');
    expect(fromProm.get('mcp_server_requests_rejected_total{reason="parse_error"}')).toBe('1');
    expect(fromProm.get('mcp_server_subscriptions_total{client_name="modern"}')).toBe('1');
    expect(fromProm.get('mcp_server_subscription_duration_seconds_count{reason="client_delete"}')).toBe('1');
    expect(fromProm.get('mcp_server_client_requests_total{client_name="modern",mcp_protocol_version="2026-07-28"}')).toBe('3');
    expect(fromProm.get('mcp_server_requests_rejected_total{reason="unknown_session"}')).toBe('1');
    await meterProvider.shutdown();
  });

  it('sets nothing global', async () => {
    const before = metrics.getMeterProvider();
    const meterProvider = new MeterProvider({ readers: [createPrometheusReader()] });
    const server = await startDemo({ registry: null, meterProvider });
    servers.push(server);
    clients.push(await connectClient(server.url, 'alpha'));
    expect(metrics.getMeterProvider()).toBe(before);
    await meterProvider.shutdown();
  });
});

/** Starts the built CLI's serve and resolves with its MCP URL once it listens. */
const serve = async (args: string[], env: Record<string, string>): Promise<string> => (await start(['serve', ...args], env)).url;

describe('mcp-exporter serve --metrics-backend otel', () => {
  it('serves the names of docs/reference.md on /metrics, with process metrics, accepted by promtool', async () => {
    const url = await serve(['--metrics-backend', 'otel'], {});
    const c = await connectClient(url, 'otel-cli');
    clients.push(c);
    await c.client.callTool({ name: 'echo', arguments: { text: 'x' } });
    const text = await (await fetch(url.replace(/\/mcp$/, '/metrics'))).text();
    expect(text).toContain(
      '\nmcp_server_sessions_active{transport="streamable_http",client_name="otel-cli",otel_scope_name="mcp-exporter",otel_scope_version="0.1.0"} 1\n',
    );
    expect(text).toContain(
      '\nmcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="echo",error_type="",mcp_protocol_version="2025-11-25",otel_scope_name="mcp-exporter",otel_scope_version="0.1.0"} 1\n',
    );
    expect(text).toContain('\nprocess_resident_memory_bytes ');
    expect(text).not.toContain('# UNIT');
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect({ status: check.status, stderr: check.stderr }).toEqual({ status: 0, stderr: '' });
  });

  // OTLP pushes (http/protobuf, http/json, grpc) to a real receiver: otlp-export.test.ts.
});
