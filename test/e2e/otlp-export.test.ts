import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { OPERATION_BUCKETS, SESSION_BUCKETS } from '../../src/metrics/names.js';
import { VERSION } from '../../src/version.js';
import { cleanEnv, CLI, runCli, useCliProcesses } from '../cli-process.js';
import { connectClient, postRaw, seriesOf } from '../helpers.js';
import { attributeRecord, metricsOf, OtlpReceiver, type OtlpDelivery, type OtlpHistogramPoint, type OtlpNumberPoint } from '../otlp-receiver.js';
import { useTestPeers } from '../peers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const { start } = useCliProcesses();
const { defer } = useTestPeers();

/** Sent as OTEL_EXPORTER_OTLP_HEADERS: must reach the receiver and appear in no log line. */
const SECRET = 's3cret-7f1c';
const RESOURCE_ENV = {
  OTEL_SERVICE_NAME: 'otlp-e2e',
  // service.name here loses to OTEL_SERVICE_NAME; values are percent-decoded.
  OTEL_RESOURCE_ATTRIBUTES: 'service.name=loses, service.namespace=mcp,deployment.environment.name=e2e%20test,team=a%3Db%2Cc',
  OTEL_EXPORTER_OTLP_HEADERS: `x-otlp-token=${SECRET}`,
  OTEL_METRIC_EXPORT_INTERVAL: '200',
};
const VERSION_2025 = '2025-11-25';
const HTTP = { 'network.transport': 'tcp', 'network.protocol.name': 'http' };

/** Every sample of /metrics as `name{sorted labels}` -> value, otel_scope_* labels left out. */
const series = (exposition: string): Map<string, string> => seriesOf(exposition);

/** The series of one family (its name exactly, or with a histogram's suffix). */
const family = (all: Map<string, string>, name: string): string[] => [...all.keys()].filter((key) => key.startsWith(`${name}{`)).sort();

const byJson = <T>(list: T[]): T[] => list.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

/** Data points as attributes and value (a sum's value, a histogram's count), in a stable order for exact comparison. */
const points = (list: readonly (OtlpNumberPoint | OtlpHistogramPoint)[] | undefined) =>
  byJson((list ?? []).map((p) => ({ attributes: attributeRecord(p.attributes), value: 'count' in p ? p.count : ((p as OtlpNumberPoint).asInt ?? (p as OtlpNumberPoint).asDouble ?? 0) })));

/** True once a delivery holds a data point collected at or after `sinceMs`: it reflects everything recorded before then. */
const collectedSince = (sinceMs: number) => (delivery: OtlpDelivery) =>
  (metricsOf(delivery).get('mcp.server.operation.duration')?.histogram?.dataPoints ?? []).some((p) => (p.timeUnixNano ?? 0) / 1e6 >= sinceMs);

const PROTOCOLS = [
  // The specification's default protocol: no protocol variable at all.
  { protocol: 'http/protobuf', contentType: 'application/x-protobuf', env: (url: string) => ({ OTEL_EXPORTER_OTLP_ENDPOINT: url }) },
  // The signal-specific protocol and endpoint win over the generic ones.
  {
    protocol: 'http/json',
    contentType: 'application/json',
    env: (url: string) => ({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${url}/v1/metrics` }),
  },
  { protocol: 'grpc', contentType: 'application/grpc', env: (url: string) => ({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: url }) },
] as const;

describe('serve --metrics-backend otel pushes OTLP to a real receiver', () => {
  it.each(PROTOCOLS)('over $protocol: the resource, the semantic-convention attributes, and the numbers /metrics shows', async ({ protocol, contentType, env }) => {
    const receiver = new OtlpReceiver();
    const listener = protocol === 'grpc' ? await receiver.listenGrpc() : await receiver.listenHttp();
    defer(listener.close);
    const cli = await start(['serve', '--metrics-backend', 'otel'], { ...RESOURCE_ENV, ...env(listener.url) });
    const exporting = await cli.line((line) => line.event === 'otlp_export');
    expect([exporting.protocol, exporting.intervalMs]).toEqual([protocol, 200]);

    // Real SDK v1 clients: two sessions, one ended by the client; a success, a tool error, a caller error.
    const alpha = await connectClient(cli.url, 'alpha');
    const beta = await connectClient(cli.url, 'beta');
    defer(() => beta.client.close());
    await alpha.client.listTools();
    await alpha.client.callTool({ name: 'echo', arguments: { text: 'x' } });
    await alpha.client.callTool({ name: 'fail', arguments: {} });
    await expect(alpha.client.listPrompts()).rejects.toThrow(/Method not found/);
    await beta.client.callTool({ name: 'echo', arguments: { text: 'y' } });
    await beta.client.ping();
    await (await postRaw(cli.url, '{not json')).text();
    await alpha.transport.terminateSession();
    await cli.line((line) => line.event === 'mcp_connection_closed');
    const trafficDone = Date.now();
    const prometheus = series(await (await fetch(`${cli.adminUrl}/metrics`)).text());
    const delivery = await receiver.next(collectedSince(trafficDone));

    expect(delivery.via).toBe(protocol === 'grpc' ? 'grpc' : 'http');
    expect(delivery.contentType).toBe(contentType);
    expect(delivery.headers['x-otlp-token']).toBe(SECRET);
    expect(`${JSON.stringify(cli.lines)}${cli.stderr()}`).not.toContain(SECRET);

    const [resourceMetrics] = delivery.request.resourceMetrics ?? [];
    expect(attributeRecord(resourceMetrics?.resource?.attributes)).toEqual({
      'service.name': 'otlp-e2e',
      'service.version': VERSION,
      'service.namespace': 'mcp',
      'deployment.environment.name': 'e2e test',
      team: 'a=b,c',
    });
    expect(resourceMetrics?.scopeMetrics?.map((s) => s.scope?.name)).toEqual(['mcp-exporter']);
    const metrics = metricsOf(delivery);
    // The semantic-convention names; the Prometheus renaming stays on /metrics.
    expect([...metrics.keys()].sort()).toEqual([
      'mcp.server.client.requests',
      'mcp.server.operation.duration',
      'mcp.server.requests.rejected',
      'mcp.server.session.duration',
      'mcp.server.sessions',
      'mcp.server.sessions.active',
      'mcp.server.sessions.closed',
    ]);

    // Operations: attributes exactly as the conventions say, counts and sums as /metrics has them.
    const operation = metrics.get('mcp.server.operation.duration');
    expect([operation?.unit, operation?.histogram?.aggregationTemporality]).toEqual(['s', 'AGGREGATION_TEMPORALITY_CUMULATIVE']);
    const base = { ...HTTP, 'mcp.protocol.version': VERSION_2025 };
    const tool = (name: string) => ({ 'mcp.method.name': 'tools/call', 'gen_ai.tool.name': name, 'gen_ai.operation.name': 'execute_tool' });
    const operations: [Record<string, string>, string, number][] = [
      [{ ...base, 'mcp.method.name': 'initialize' }, 'error_type="",gen_ai_tool_name="",mcp_method_name="initialize"', 2],
      [{ ...base, 'mcp.method.name': 'tools/list' }, 'error_type="",gen_ai_tool_name="",mcp_method_name="tools/list"', 1],
      [{ ...base, ...tool('echo') }, 'error_type="",gen_ai_tool_name="echo",mcp_method_name="tools/call"', 2],
      [{ ...base, ...tool('fail'), 'error.type': 'tool_error' }, 'error_type="tool_error",gen_ai_tool_name="fail",mcp_method_name="tools/call"', 1],
      // Method not found is the caller's mistake: its code, but no error.type, on the server.
      [{ ...base, 'mcp.method.name': 'prompts/list', 'rpc.response.status_code': '-32601' }, 'error_type="-32601",gen_ai_tool_name="",mcp_method_name="prompts/list"', 1],
      [{ ...base, 'mcp.method.name': 'ping' }, 'error_type="",gen_ai_tool_name="",mcp_method_name="ping"', 1],
    ];
    const operationPoints = operation?.histogram?.dataPoints ?? [];
    expect(points(operationPoints)).toEqual(byJson(operations.map(([attributes, , count]) => ({ attributes, value: count }))));
    expect(family(prometheus, 'mcp_server_operation_duration_seconds_count')).toHaveLength(operations.length);
    for (const [attributes, labels, count] of operations) {
      const point = operationPoints.find((p) => sameAttributes(p, attributes));
      const key = `{${labels},mcp_protocol_version="${VERSION_2025}"}`;
      expect([point?.count, point?.sum, point?.explicitBounds]).toEqual([
        Number(prometheus.get(`mcp_server_operation_duration_seconds_count${key}`)),
        Number(prometheus.get(`mcp_server_operation_duration_seconds_sum${key}`)),
        OPERATION_BUCKETS,
      ]);
      expect(point?.count).toBe(count);
    }

    // Sessions: established per client, one still open, one closed by the client.
    const session = (client: string) => ({ 'mcp_exporter.transport': 'streamable_http', 'mcp_exporter.client.name': client, ...HTTP });
    expect(points(metrics.get('mcp.server.sessions')?.sum?.dataPoints)).toEqual([
      { attributes: session('alpha'), value: Number(prometheus.get('mcp_server_sessions_total{client_name="alpha",transport="streamable_http"}')) },
      { attributes: session('beta'), value: Number(prometheus.get('mcp_server_sessions_total{client_name="beta",transport="streamable_http"}')) },
    ]);
    expect(points(metrics.get('mcp.server.sessions.active')?.sum?.dataPoints)).toEqual([
      { attributes: session('alpha'), value: Number(prometheus.get('mcp_server_sessions_active{client_name="alpha",transport="streamable_http"}')) },
      { attributes: session('beta'), value: Number(prometheus.get('mcp_server_sessions_active{client_name="beta",transport="streamable_http"}')) },
    ]);
    expect(points(metrics.get('mcp.server.sessions.active')?.sum?.dataPoints).map((p) => p.value)).toEqual([0, 1]);
    const sessionDuration = metrics.get('mcp.server.session.duration');
    expect(sessionDuration?.unit).toBe('s');
    const [closedSession, ...noOther] = sessionDuration?.histogram?.dataPoints ?? [];
    expect(noOther).toEqual([]);
    expect(attributeRecord(closedSession?.attributes)).toEqual({
      'mcp_exporter.transport': 'streamable_http',
      'mcp_exporter.close.reason': 'client_delete',
      'mcp.protocol.version': VERSION_2025,
      ...HTTP,
    });
    const closedKey = '{reason="client_delete",transport="streamable_http"}';
    expect([closedSession?.count, closedSession?.sum, closedSession?.explicitBounds]).toEqual([
      Number(prometheus.get(`mcp_server_session_duration_seconds_count${closedKey}`)),
      Number(prometheus.get(`mcp_server_session_duration_seconds_sum${closedKey}`)),
      SESSION_BUCKETS,
    ]);
    expect(closedSession?.count).toBe(1);

    // Closed and rejected counters: every series of /metrics, the same values; error.type only for errors.
    const closed = points(metrics.get('mcp.server.sessions.closed')?.sum?.dataPoints);
    expect(closed.map((p) => `{reason="${String(p.attributes['mcp_exporter.close.reason'])}",transport="${String(p.attributes['mcp_exporter.transport'])}"}`).sort()).toEqual(
      family(prometheus, 'mcp_server_sessions_closed_total').map((key) => key.slice('mcp_server_sessions_closed_total'.length)),
    );
    for (const p of closed) {
      const key = `mcp_server_sessions_closed_total{reason="${String(p.attributes['mcp_exporter.close.reason'])}",transport="${String(p.attributes['mcp_exporter.transport'])}"}`;
      expect(p.value).toBe(Number(prometheus.get(key)));
    }
    expect(closed.find((p) => p.attributes['mcp_exporter.close.reason'] === 'client_delete' && p.attributes['mcp_exporter.transport'] === 'streamable_http')?.value).toBe(1);
    expect(closed.find((p) => p.attributes['mcp_exporter.close.reason'] === 'transport_error' && p.attributes['mcp_exporter.transport'] === 'sse')?.attributes).toEqual({
      'mcp_exporter.transport': 'sse',
      'mcp_exporter.close.reason': 'transport_error',
      'error.type': 'transport_error',
      ...HTTP,
    });
    const rejected = points(metrics.get('mcp.server.requests.rejected')?.sum?.dataPoints);
    expect(rejected.map((p) => `mcp_server_requests_rejected_total{reason="${String(p.attributes['error.type'])}"}`).sort()).toEqual(family(prometheus, 'mcp_server_requests_rejected_total'));
    for (const p of rejected) expect(p.value).toBe(Number(prometheus.get(`mcp_server_requests_rejected_total{reason="${String(p.attributes['error.type'])}"}`)));
    expect(rejected.find((p) => p.attributes['error.type'] === 'parse_error')).toEqual({ attributes: { 'error.type': 'parse_error' }, value: 1 });

    // Requests by client and protocol version.
    expect(points(metrics.get('mcp.server.client.requests')?.sum?.dataPoints)).toEqual([
      { attributes: { 'mcp_exporter.client.name': 'alpha', 'mcp.protocol.version': VERSION_2025 }, value: 5 },
      { attributes: { 'mcp_exporter.client.name': 'beta', 'mcp.protocol.version': VERSION_2025 }, value: 3 },
    ]);
    for (const client of ['alpha', 'beta']) {
      expect(Number(prometheus.get(`mcp_server_client_requests_total{client_name="${client}",mcp_protocol_version="${VERSION_2025}"}`))).toBe(client === 'alpha' ? 5 : 3);
    }

    // Nothing the conventions leave out is sent empty.
    for (const metric of metrics.values()) {
      for (const p of [...(metric.sum?.dataPoints ?? []), ...(metric.histogram?.dataPoints ?? [])]) {
        expect(Object.entries(attributeRecord(p.attributes)).filter(([, value]) => value === '')).toEqual([]);
      }
    }
  });
});

function sameAttributes(point: OtlpHistogramPoint, attributes: Record<string, string>): boolean {
  const record = attributeRecord(point.attributes);
  return Object.keys(record).length === Object.keys(attributes).length && Object.entries(attributes).every(([key, value]) => record[key] === value);
}

/**
 * The built CLI installed beside every dependency of this checkout but `missing`: a real
 * node_modules in a temporary folder (links to ours), as a user's install without that peer.
 */
function cliWithout(missing: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-exporter-peers-'));
  defer(async () => rmSync(dir, { recursive: true, force: true }));
  const modules = join(dir, 'node_modules');
  const own = join(modules, 'mcp-exporter');
  mkdirSync(own, { recursive: true });
  cpSync(join(ROOT, 'dist'), join(own, 'dist'), { recursive: true });
  copyFileSync(join(ROOT, 'package.json'), join(own, 'package.json'));
  const ours = join(ROOT, 'node_modules');
  for (const entry of readdirSync(ours)) {
    if (entry.startsWith('.')) continue;
    if (!entry.startsWith('@')) {
      symlinkSync(join(ours, entry), join(modules, entry));
      continue;
    }
    mkdirSync(join(modules, entry));
    for (const name of readdirSync(join(ours, entry))) {
      if (`${entry}/${name}` !== missing) symlinkSync(join(ours, entry, name), join(modules, entry, name));
    }
  }
  return join(own, 'dist/cli/main.js');
}

describe('the OTEL_* settings of serve', () => {
  const otel = ['serve', '--port', '0', '--metrics-backend', 'otel'];

  it.each([
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'notaurl' }, 'OTEL_EXPORTER_OTLP_ENDPOINT: "notaurl" is not an absolute http or https URL; use e.g. http://localhost:4318'],
    [{ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'ftp://collector:4318' }, 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: "ftp://collector:4318" is not an absolute http or https URL; use e.g. http://localhost:4318'],
    // A value with user info may hold a password: not echoed.
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:pa55word@host' }, 'OTEL_EXPORTER_OTLP_ENDPOINT: the value (not shown: it may hold a credential) is not an absolute http or https URL; use e.g. http://localhost:4318'],
    [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'http' }, 'OTEL_EXPORTER_OTLP_PROTOCOL: "http" is not one of http/protobuf, http/json, grpc'],
    [{ OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'grpc/json' }, 'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: "grpc/json" is not one of http/protobuf, http/json, grpc'],
    [{ OTEL_RESOURCE_ATTRIBUTES: 'team=a,region' }, 'OTEL_RESOURCE_ATTRIBUTES: "region" is not key=value; use e.g. deployment.environment.name=prod,service.namespace=mcp'],
    [{ OTEL_RESOURCE_ATTRIBUTES: 'team=100%' }, 'OTEL_RESOURCE_ATTRIBUTES: "team=..." has a bad percent-encoding (write % as %25)'],
    [{ OTEL_RESOURCE_ATTRIBUTES: '=x' }, 'OTEL_RESOURCE_ATTRIBUTES: an attribute has no key; use key=value pairs separated by commas'],
    [{ OTEL_METRICS_EXPORTER: 'console' }, 'OTEL_METRICS_EXPORTER: "console" is not one of otlp, prometheus, none'],
    [{ OTEL_METRICS_EXPORTER: 'none,otlp' }, 'OTEL_METRICS_EXPORTER: none goes alone; list otlp and/or prometheus, or none'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_METRIC_EXPORT_INTERVAL: '50' }, 'OTEL_METRIC_EXPORT_INTERVAL: "50" is out of range; use a whole number of milliseconds >= 100'],
  ])('%o stops the start with one line and exit code 2', (env, message) => {
    const run = runCli(otel, env);
    expect([run.status, run.stdout, run.stderr]).toEqual([2, '', `mcp-exporter: ${message}\n`]);
    expect(run.stderr).not.toContain('pa55word');
  });

  it.each([
    ['http/protobuf', {}, '@opentelemetry/exporter-metrics-otlp-proto'],
    ['grpc', { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, '@opentelemetry/exporter-metrics-otlp-grpc'],
  ])('says in one line what to install when the %s exporter is missing', (protocol, env, name) => {
    const run = spawnSync(process.execPath, [cliWithout(name), ...otel], {
      encoding: 'utf8',
      env: cleanEnv({ ...env, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }),
      timeout: 15_000,
    });
    expect([run.status, run.stdout, run.stderr]).toEqual([
      2,
      '',
      `mcp-exporter: OTLP over ${protocol} (OTEL_EXPORTER_OTLP_PROTOCOL) needs ${name} installed beside mcp-exporter (npm install ${name})\n`,
    ]);
  });

  it('OTEL_SDK_DISABLED=true: no OpenTelemetry metrics and no push, said in one line; /metrics keeps the process metrics', async () => {
    const cli = await start(['serve', '--metrics-backend', 'otel'], { OTEL_SDK_DISABLED: 'TRUE', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' });
    const events = cli.lines.map((line) => line.event);
    expect(events.filter((event) => event?.startsWith('otel') || event?.startsWith('otlp'))).toEqual(['otel_sdk_disabled']);
    expect(cli.lines.find((line) => line.event === 'otel_sdk_disabled')?.msg).toBe(
      'OTEL_SDK_DISABLED=true: the OpenTelemetry SDK is off, so no OTLP push and no session metrics; /metrics serves process metrics only',
    );
    const text = await (await fetch(`${cli.adminUrl}/metrics`)).text();
    expect(text).toContain('\nprocess_resident_memory_bytes ');
    expect(text).not.toContain('mcp_server_');
    expect(text).not.toContain('target_info');
  });

  it('OTEL_METRICS_EXPORTER=otlp pushes to the endpoint and leaves the OpenTelemetry metrics off /metrics', async () => {
    const receiver = new OtlpReceiver();
    const listener = await receiver.listenHttp();
    defer(listener.close);
    const cli = await start(['serve', '--metrics-backend', 'otel'], {
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${listener.url}/v1/metrics`,
      OTEL_METRIC_EXPORT_INTERVAL: '100',
    });
    expect(cli.lines.find((line) => line.event === 'otlp_export')).toMatchObject({ protocol: 'http/json', endpoint: `${listener.url}/v1/metrics`, intervalMs: 100 });
    expect(cli.lines.some((line) => line.event === 'otel_prometheus_off')).toBe(true);
    const delivery = await receiver.next((d) => metricsOf(d).has('mcp.server.requests.rejected'));
    expect(points(metricsOf(delivery).get('mcp.server.requests.rejected')?.sum?.dataPoints).find((p) => p.attributes['error.type'] === 'unauthorized')).toEqual({
      attributes: { 'error.type': 'unauthorized' },
      value: 0,
    });
    const text = await (await fetch(`${cli.adminUrl}/metrics`)).text();
    expect(text).toContain('\nprocess_resident_memory_bytes ');
    expect(text).not.toContain('mcp_server_');
  });

  it('OTEL_METRICS_EXPORTER=prometheus serves /metrics and pushes nothing, endpoint or not', async () => {
    const cli = await start(['serve', '--metrics-backend', 'otel'], { OTEL_METRICS_EXPORTER: 'prometheus', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' });
    expect(cli.lines.some((line) => line.event === 'otlp_export')).toBe(false);
    expect(await (await fetch(`${cli.adminUrl}/metrics`)).text()).toContain(
      '\nmcp_server_requests_rejected_total{reason="parse_error",otel_scope_name="mcp-exporter",otel_scope_version="0.1.0"} 0\n',
    );
  });

  it('serve --help names every OTEL_* variable serve reads', () => {
    const help = runCli(['serve', '--help']);
    expect(help.status).toBe(0);
    const names = [
      'OTEL_SDK_DISABLED=true',
      'OTEL_METRICS_EXPORTER',
      'OTEL_EXPORTER_OTLP_ENDPOINT',
      'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT',
      'OTEL_EXPORTER_OTLP_(METRICS_)PROTOCOL',
      'OTEL_METRIC_EXPORT_INTERVAL',
      'OTEL_SERVICE_NAME',
      'OTEL_RESOURCE_ATTRIBUTES',
      'OTEL_EXPORTER_OTLP_HEADERS,',
    ];
    expect(names.filter((name) => !help.stdout.includes(`\n  ${name} `))).toEqual([]);
  });

  it('the prom-client backend says in one warn line that it ignores an OTLP endpoint, and how to push', async () => {
    const cli = await start(['serve'], { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_EXPORTER_OTLP_HEADERS: `api-key=${SECRET}` });
    const warned = cli.lines.filter((line) => line.level === 40);
    expect(warned.map((line) => [line.event, line.msg])).toEqual([
      [
        'otlp_ignored',
        'OTEL_EXPORTER_OTLP_ENDPOINT ignored for metrics: the prom-client backend pushes no metrics over OTLP; use --metrics-backend otel (MCP_METRICS_BACKEND=otel) to push them',
      ],
    ]);
    expect(`${JSON.stringify(cli.lines)}${cli.stderr()}`).not.toContain(SECRET);
  });
});
