import { readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { describe, expect, it } from 'vitest';
import { traceOf } from '../../src/core/trace-context.js';
import { OPERATION_BUCKETS } from '../../src/metrics/names.js';
import { Registry } from 'prom-client';
import { createDemoModernHandler } from '../../src/demo/demo-server-v2.js';
import { promClientRenderer } from '../../src/metrics/exposition.js';
import { McpMonitor } from '../../src/monitor.js';
import { adminUrl, useDemoServers } from '../helpers.js';
import { useCliProcesses } from '../cli-process.js';
import { useTestPeers } from '../peers.js';
import { eventually, useMonitoringProcesses } from '../prometheus-process.js';

const { demo, client, onCleanup } = useDemoServers();
const { v2 } = useTestPeers();
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

describe('trace context in _meta', () => {
  it('reads a W3C traceparent, and nothing malformed', () => {
    expect(traceOf({ traceparent: `00-${TRACE}-${SPAN}-01` })).toEqual({ traceId: TRACE, spanId: SPAN, flags: 1 });
    // A later version is read the same way, with what it adds after the flags.
    expect(traceOf({ traceparent: `01-${TRACE}-${SPAN}-00-more` })).toEqual({ traceId: TRACE, spanId: SPAN, flags: 0 });
    // tracestate and baggage come along, as the client sent them.
    expect(traceOf({ traceparent: `00-${TRACE}-${SPAN}-01`, tracestate: 'vendor=a', baggage: 'tenant=t1' })).toEqual({ traceId: TRACE, spanId: SPAN, flags: 1, state: 'vendor=a', baggage: 'tenant=t1' });
    for (const bad of [
      `00-${TRACE}-${SPAN}-01-more`,
      `ff-${TRACE}-${SPAN}-01`,
      `00-${'0'.repeat(32)}-${SPAN}-01`,
      `00-${TRACE}-${'0'.repeat(16)}-01`,
      `00-${TRACE.toUpperCase()}-${SPAN}-01`,
      `00-${TRACE}-${SPAN}`,
      42,
    ]) {
      expect(traceOf({ traceparent: bad }), String(bad)).toBeUndefined();
    }
    expect(traceOf(undefined)).toBeUndefined();
  });
});

describe('exemplars on the operation histogram', () => {
  it('carry the trace id of a traced call in OpenMetrics, on the bucket it fell in, and never in the text format', async () => {
    const server = await demo();
    const { client: c } = await client(server, 'traced');
    await c.callTool({ name: 'echo', arguments: { text: 'untraced' } });
    await c.callTool({ name: 'sleep', arguments: { ms: 120 }, _meta: { traceparent: `00-${TRACE}-${SPAN}-01` } });
    const open = await (await fetch(adminUrl(server, '/metrics'), { headers: { accept: 'application/openmetrics-text; version=1.0.0' } })).text();
    const exemplars = open.split('\n').filter((line) => line.includes(' # {'));
    expect(exemplars).toHaveLength(1);
    const [value = 0, time = 0] = (exemplars[0] ?? '').split(' ').slice(-2).map(Number);
    // On the bucket the call fell in: the smallest bound at or above its duration.
    const le = OPERATION_BUCKETS.find((bound) => value <= bound);
    expect(exemplars[0]).toBe(
      `mcp_server_operation_duration_seconds_bucket{le="${le}",mcp_method_name="tools/call",gen_ai_tool_name="sleep",error_type="",mcp_protocol_version="2025-11-25"} 1 # {trace_id="${TRACE}",span_id="${SPAN}"} ${value} ${time.toFixed(3)}`,
    );
    expect(value).toBeGreaterThan(0.12);
    expect(Math.abs(time - Date.now() / 1000)).toBeLessThan(60);
    const text = await (await fetch(adminUrl(server, '/metrics'))).text();
    expect(text).not.toContain('trace_id');
  });

  it('carry the trace of a 2026-07-28 request too, watched at the HTTP exchange', async () => {
    const m = new McpMonitor({ registry: new Registry() });
    const monitored = m.handler(createDemoModernHandler());
    onCleanup(() => m.close());
    const c = await v2('http://worker.invalid/mcp', 'modern-traced', { pin: '2026-07-28' }, { fetch: (input, init) => monitored.fetch(new Request(input, init)) });
    await c.callTool({ name: 'echo', arguments: { text: 'traced' }, _meta: { traceparent: `00-${TRACE}-${SPAN}-01` } });
    const render = promClientRenderer(m.registry as Registry);
    const open = (await render('application/openmetrics-text')).body;
    expect(open.split('\n').filter((line) => line.includes(' # {')).map((line) => line.replace(/ [\d.e-]+ [\d.]+$/, ''))).toEqual([
      expect.stringMatching(
        new RegExp(`^mcp_server_operation_duration_seconds_bucket\\{le="[^"]+",mcp_method_name="tools/call",gen_ai_tool_name="echo",error_type="",mcp_protocol_version="2026-07-28"\\} 1 # \\{trace_id="${TRACE}",span_id="${SPAN}"\\}$`),
      ),
    ]);
  });
});

describe('exemplars end to end', () => {
  const { start } = useCliProcesses('file');
  const { prometheus } = useMonitoringProcesses();

  /** One traced tools/call from a real SDK client to a serve process; its trace id. */
  async function tracedCall(url: string, traceId: string): Promise<void> {
    const c = new Client({ name: 'traced', version: '1' });
    await c.connect(new StreamableHTTPClientTransport(new URL(url)));
    await c.callTool({ name: 'echo', arguments: { text: 'traced' }, _meta: { traceparent: `00-${traceId}-${SPAN}-01` } });
    await c.close();
  }

  it('a real Prometheus with exemplar storage returns the trace id from query_exemplars, for either metrics backend', async () => {
    const promClient = await start(['serve']);
    const otel = await start(['serve', '--metrics-backend', 'otel']);
    const traces = { 'prom-client': 'a'.repeat(31) + '1', otel: 'b'.repeat(31) + '2' };
    await tracedCall(promClient.url, traces['prom-client']);
    await tracedCall(otel.url, traces.otel);
    const target = (url: string): string => new URL(url).host;
    const server = await prometheus(
      [
        'global: { scrape_interval: 1s }',
        'scrape_configs:',
        `  - job_name: prom-client\n    static_configs: [{ targets: ['${target(promClient.adminUrl)}'] }]`,
        `  - job_name: otel\n    static_configs: [{ targets: ['${target(otel.adminUrl)}'] }]`,
        '',
      ].join('\n'),
      ['--enable-feature=exemplar-storage'],
    );
    const found = await eventually('both exemplars in Prometheus', async () => {
      const now = Date.now() / 1000;
      const query = encodeURIComponent('mcp_server_operation_duration_seconds_bucket{mcp_method_name="tools/call"}');
      const answer = (await (await fetch(`${server.url}/api/v1/query_exemplars?query=${query}&start=${now - 600}&end=${now + 60}`)).json()) as {
        data: { seriesLabels: Record<string, string>; exemplars: { labels: Record<string, string> }[] }[];
      };
      const byJob = Object.fromEntries(answer.data.map((series) => [series.seriesLabels.job, series.exemplars.map((e) => e.labels)]));
      return byJob['prom-client'] && byJob.otel ? byJob : undefined;
    });
    expect(found).toEqual({
      'prom-client': [{ trace_id: traces['prom-client'], span_id: SPAN }],
      otel: [{ trace_id: traces.otel, span_id: SPAN }],
    });
  }, 60_000);

  it('the dashboard latency panels ask Grafana for exemplars', () => {
    const dashboard = JSON.parse(readFileSync(new URL('../../grafana/dashboards/mcp-overview.json', import.meta.url), 'utf8')) as { panels: { title: string; targets?: { expr: string; exemplar?: boolean }[] }[] };
    const latency = dashboard.panels.flatMap((panel) => (panel.targets ?? []).filter((t) => t.expr.includes('mcp_server_operation_duration_seconds_bucket') && t.expr.includes('histogram_quantile')).map((t) => [panel.title, t.exemplar]));
    expect(latency.length).toBeGreaterThanOrEqual(7);
    expect(latency.filter(([, exemplar]) => exemplar !== true)).toEqual([]);
  });
});
