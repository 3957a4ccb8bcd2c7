import { describe, expect, it } from 'vitest';
import { traceOf } from '../../src/core/trace-context.js';
import { OPERATION_BUCKETS } from '../../src/metrics/names.js';
import { Registry } from 'prom-client';
import { createDemoModernHandler } from '../../src/demo/demo-server-v2.js';
import { promClientRenderer } from '../../src/metrics/exposition.js';
import { McpMonitor } from '../../src/monitor.js';
import { adminUrl, useDemoServers } from '../helpers.js';
import { useTestPeers } from '../peers.js';

const { demo, client, onCleanup } = useDemoServers();
const { v2 } = useTestPeers();
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

describe('trace context in _meta', () => {
  it('reads a W3C traceparent, and nothing malformed', () => {
    expect(traceOf({ traceparent: `00-${TRACE}-${SPAN}-01` })).toEqual({ traceId: TRACE, spanId: SPAN });
    // A later version is read the same way, with what it adds after the flags.
    expect(traceOf({ traceparent: `01-${TRACE}-${SPAN}-00-more` })).toEqual({ traceId: TRACE, spanId: SPAN });
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
