/**
 * The CLI's spans over OTLP (http/json) to a receiver in this process: `serve`, and both
 * proxy modes, with a real SDK client that sends its trace context in `_meta`. The proxy's
 * span and the span of the server behind it are both children of the client's span: the
 * proxy passes `_meta` through as the client sent it.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { useCliProcesses } from '../cli-process.js';
import { eventually } from '../prometheus-process.js';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const CLIENT_SPAN = 'b7ad6b7169203331';
const ENV_SERVER = fileURLToPath(new URL('../fixtures/env-stdio-server.mjs', import.meta.url));

interface OtlpValue {
  stringValue?: string;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: { key: string; value: OtlpValue }[];
  status?: { code?: number };
}
interface Received {
  service: string;
  scope: string;
  span: OtlpSpan;
}

const received: Received[] = [];
let receiver = '';
const server = createServer((req: IncomingMessage, res) => {
  let body = '';
  req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
  req.on('end', () => {
    const request = JSON.parse(body) as {
      resourceSpans: { resource: { attributes: { key: string; value: OtlpValue }[] }; scopeSpans: { scope: { name: string }; spans: OtlpSpan[] }[] }[];
    };
    for (const resource of request.resourceSpans) {
      const service = resource.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
      for (const scope of resource.scopeSpans) for (const span of scope.spans) received.push({ service, scope: scope.scope.name, span });
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
beforeAll(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  receiver = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));
beforeEach(() => {
  received.length = 0;
});

const { start } = useCliProcesses();
/** What makes the CLI push its spans here, quickly. */
const tracingEnv = (service: string): Record<string, string> => ({
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver,
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
  OTEL_BSP_SCHEDULE_DELAY: '50',
  OTEL_SERVICE_NAME: service,
});

/** A tools/call in the client's trace, then DELETE. */
async function tracedCall(url: string, tool: string, args: Record<string, unknown>): Promise<void> {
  const client = new Client({ name: 'traced-client', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(url));
  await client.connect(transport);
  await client.callTool({ name: tool, arguments: args, _meta: { traceparent: `00-${TRACE}-${CLIENT_SPAN}-01` } });
  await transport.terminateSession();
  await client.close();
}

const attributes = (span: OtlpSpan): Record<string, string | undefined> => Object.fromEntries((span.attributes ?? []).map((a) => [a.key, a.value.stringValue]));
const callSpans = (name: string): Promise<Received[]> =>
  eventually(`spans named ${name}`, async () => {
    const found = received.filter((r) => r.span.name === name);
    return found.length > 0 ? found : undefined;
  });

describe('spans over OTLP from the CLI', () => {
  it('serve: a SERVER span per operation, child of the client span from _meta, with the service and scope names', async () => {
    const serve = await start(['serve'], tracingEnv('mcp-demo'));
    expect(serve.lines.find((l) => l.event === 'otel_traces')?.msg).toBe(`OpenTelemetry spans pushed to ${receiver} (http/json)`);
    await tracedCall(serve.url, 'echo', { text: 'traced' });
    const [call] = await callSpans('tools/call echo');
    expect(call?.service).toBe('mcp-demo');
    expect(call?.scope).toBe('mcp-exporter');
    expect([call?.span.kind, call?.span.traceId, call?.span.parentSpanId]).toEqual([2, TRACE, CLIENT_SPAN]);
    const attrs = attributes(call?.span as OtlpSpan);
    expect(attrs).toEqual({
      'mcp.method.name': 'tools/call',
      'gen_ai.tool.name': 'echo',
      'jsonrpc.request.id': '1',
      'mcp.protocol.version': '2025-11-25',
      'mcp.session.id': attrs['mcp.session.id'],
      'network.transport': 'tcp',
    });
    expect(attrs['mcp.session.id']).toMatch(/^[0-9a-f-]{36}$/);
    // The initialize came first, in a trace of its own.
    const [initialize] = await callSpans('initialize');
    expect(initialize?.span.parentSpanId ?? '').toBe('');
  });

  it('proxy --upstream: the proxy and the server behind it each make a span, both children of the client span', async () => {
    const behind = await start(['serve'], tracingEnv('behind'));
    const proxy = await start(['proxy', '--upstream', behind.url], tracingEnv('proxy'));
    await tracedCall(proxy.url, 'echo', { text: 'through' });
    const spans = await eventually('both services', async () => {
      const found = received.filter((r) => r.span.name === 'tools/call echo');
      return found.length === 2 ? found : undefined;
    });
    expect(spans.map((r) => [r.service, r.span.traceId, r.span.parentSpanId]).sort()).toEqual([
      ['behind', TRACE, CLIENT_SPAN],
      ['proxy', TRACE, CLIENT_SPAN],
    ]);
  });

  it('proxy --stdio: the proxy makes the span of a call to a stdio server that knows nothing of tracing', async () => {
    const proxy = await start(['proxy', '--stdio', `${process.execPath} ${ENV_SERVER}`], tracingEnv('stdio-proxy'));
    await tracedCall(proxy.url, 'env', { name: 'HOME' });
    const [call] = await callSpans('tools/call env');
    expect([call?.service, call?.span.kind, call?.span.traceId, call?.span.parentSpanId, attributes(call?.span as OtlpSpan)['gen_ai.tool.name']]).toEqual([
      'stdio-proxy',
      2,
      TRACE,
      CLIENT_SPAN,
      'env',
    ]);
  });

  it('makes no spans and loads no trace exporter without an endpoint', async () => {
    const serve = await start(['serve']);
    expect(serve.lines.some((l) => l.event === 'otel_traces')).toBe(false);
    await tracedCall(serve.url, 'echo', { text: 'untraced' });
    expect(received).toEqual([]);
  });
});
