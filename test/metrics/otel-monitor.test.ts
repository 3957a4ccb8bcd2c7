import type { Attributes } from '@opentelemetry/api';
import { MeterProvider, MetricReader, type DataPoint, type Histogram } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import type { ClosedConnectionInfo, OperationInfo } from '../../src/core/types.js';
import { INSTRUMENT, OtelMonitor } from '../../src/metrics/otel-monitor.js';
import { prometheusViews } from '../../src/metrics/otel-views.js';

/** A reader the test collects from when it likes. */
class TestReader extends MetricReader {
  protected override onShutdown = async (): Promise<void> => {};
  protected override onForceFlush = async (): Promise<void> => {};
}

/** One OtelMonitor on a provider without views (what OTLP carries) and one with prometheusViews() (what /metrics shows). */
function monitors() {
  const otlp = new TestReader();
  const prometheus = new TestReader();
  const both = [new OtelMonitor({ meterProvider: new MeterProvider({ readers: [otlp] }) }), new OtelMonitor({ meterProvider: new MeterProvider({ readers: [prometheus], views: prometheusViews() }) })];
  /** Each data point of the instrument (or its Prometheus view) as attributes and count or value. */
  const read = async (reader: TestReader, names: string[]) => {
    const { resourceMetrics } = await reader.collect();
    const metric = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => names.includes(m.descriptor.name));
    return (metric?.dataPoints as DataPoint<number | Histogram>[] | undefined)?.map((p) => ({
      attributes: p.attributes,
      value: typeof p.value === 'number' ? p.value : p.value.count,
    }));
  };
  return {
    each: (record: (monitor: OtelMonitor) => void) => both.forEach(record),
    otlp: (name: string) => read(otlp, [name]),
    prometheus: (name: string, renamed = name) => read(prometheus, [name, renamed]),
  };
}

const CLIENT = { clientName: 'c', clientVersion: '1', clientIP: '127.0.0.1', userAgent: '' };
const operation = (over: Partial<OperationInfo>): OperationInfo => ({
  transport: 'streamable_http',
  method: 'tools/call',
  toolName: 'echo',
  protocolVersion: '2025-11-25',
  client: CLIENT,
  errorType: '',
  durationSeconds: 0.01,
  ...over,
});

describe('OtelMonitor attributes: the semantic conventions on OTLP, the labels of docs/reference.md through prometheusViews()', () => {
  it('records an operation outcome as the conventions do, and error_type as docs/reference.md does', async () => {
    const { each, otlp, prometheus } = monitors();
    each((m) => {
      m.onOperation(operation({ errorType: '-32603' }));
      m.onOperation(operation({ errorType: '-32602' }));
      m.onOperation(operation({ method: 'resources/read', toolName: '', errorType: '_OTHER', transport: 'stdio', protocolVersion: '' }));
    });
    const http = { 'network.transport': 'tcp', 'network.protocol.name': 'http' };
    const call = { 'mcp.method.name': 'tools/call', 'gen_ai.tool.name': 'echo', 'gen_ai.operation.name': 'execute_tool', 'mcp.protocol.version': '2025-11-25', ...http };
    expect(await otlp(INSTRUMENT.operationDuration)).toEqual([
      // A server error: its code is both.
      { attributes: { ...call, 'rpc.response.status_code': '-32603', 'error.type': '-32603' }, value: 1 },
      // Invalid params is the caller's mistake: the code only.
      { attributes: { ...call, 'rpc.response.status_code': '-32602' }, value: 1 },
      // stdio is a pipe, with no network.protocol.name; an unknown version is left out.
      { attributes: { 'mcp.method.name': 'resources/read', 'error.type': '_OTHER', 'network.transport': 'pipe' }, value: 1 },
    ] satisfies { attributes: Attributes; value: number }[]);
    expect(await prometheus(INSTRUMENT.operationDuration, 'mcp_server_operation_duration_seconds')).toEqual([
      { attributes: { mcp_method_name: 'tools/call', gen_ai_tool_name: 'echo', error_type: '-32603', mcp_protocol_version: '2025-11-25' }, value: 1 },
      { attributes: { mcp_method_name: 'tools/call', gen_ai_tool_name: 'echo', error_type: '-32602', mcp_protocol_version: '2025-11-25' }, value: 1 },
      { attributes: { mcp_method_name: 'resources/read', gen_ai_tool_name: '', error_type: '_OTHER', mcp_protocol_version: '' }, value: 1 },
    ]);
  });

  it('gives a session that ended with an error its error.type; Prometheus merges the protocol versions of a session duration', async () => {
    const { each, otlp, prometheus } = monitors();
    const closed = (reason: ClosedConnectionInfo['reason'], protocolVersion: string): ClosedConnectionInfo => ({
      ...CLIENT,
      id: 'ref',
      kind: 'session',
      connectedAt: '',
      lastActivity: '',
      requestCount: 1,
      transport: 'sse',
      protocolVersion,
      closedAt: '',
      durationMs: 2000,
      reason,
    });
    each((m) => {
      m.onConnectionEstablished(closed('ping_timeout', '2025-06-18'));
      m.onConnectionClosed('ref', 2000, closed('ping_timeout', '2025-06-18'));
      m.onConnectionClosed('ref', 2000, closed('ping_timeout', '2025-11-25'));
      m.onConnectionClosed('ref', 2000, closed('idle_timeout', '2025-11-25'));
    });
    const sse = { 'mcp_exporter.transport': 'sse', 'network.transport': 'tcp', 'network.protocol.name': 'http' };
    expect(await otlp(INSTRUMENT.sessionDuration)).toEqual([
      { attributes: { ...sse, 'mcp_exporter.close.reason': 'ping_timeout', 'error.type': 'ping_timeout', 'mcp.protocol.version': '2025-06-18' }, value: 1 },
      { attributes: { ...sse, 'mcp_exporter.close.reason': 'ping_timeout', 'error.type': 'ping_timeout', 'mcp.protocol.version': '2025-11-25' }, value: 1 },
      { attributes: { ...sse, 'mcp_exporter.close.reason': 'idle_timeout', 'mcp.protocol.version': '2025-11-25' }, value: 1 },
    ]);
    expect(await prometheus(INSTRUMENT.sessionDuration, 'mcp_server_session_duration_seconds')).toEqual([
      { attributes: { transport: 'sse', reason: 'ping_timeout' }, value: 2 },
      { attributes: { transport: 'sse', reason: 'idle_timeout' }, value: 1 },
    ]);
  });
});
